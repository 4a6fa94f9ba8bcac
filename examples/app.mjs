// An example app using @graybridge/log-sdk: what a service in a pod does. The demo runs it.
//   GRAYBRIDGE_KAFKA_BROKERS=127.0.0.1:9092 POD_NAME=checkout-1 POD_NAMESPACE=shop node examples/app.mjs
import { createLogger, withLogContext } from '@graybridge/log-sdk';

const logger = createLogger({
  kafka: { topic: process.env.GRAYBRIDGE_KAFKA_TOPIC ?? 'logs', compression: 'lz4' },
  service: 'checkout',
  version: '1.4.2',
  pino: { level: 'debug', redact: ['card.number'] },
});

const count = Number(process.env.EXAMPLE_RECORDS ?? 20);
const payments = logger.child({ component: 'payments' });

for (let order = 1; order <= count; order += 1) {
  await withLogContext({ request_id: `req-${order}` }, async () => {
    logger.info({ order, items: [order, order + 1], card: { number: '4111111111111111' } }, 'order received');
    payments.debug({ order, amount_cents: order * 1250, express: order % 2 === 0 }, 'charging card');
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (order % 7 === 0) {
      payments.error({ err: new Error(`card declined for order ${order}`), order }, 'payment failed');
    } else {
      logger.info({ order, shipped: true }, 'order completed\nmulti-line detail: shipping label printed');
    }
  });
}
logger.warn({ queue_depth: 0 }, 'shutting down');

const stats = await logger.close();
console.error(`example app: ${stats.sentRecords} records sent, ${JSON.stringify(stats.droppedRecords)} dropped`);
