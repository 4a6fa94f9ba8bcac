import { once } from 'node:events';
import { pino } from 'pino';
import { loadConfig, redactedConfig } from '../config/load.js';
import { startForwarder } from '../forwarder.js';

/** `graybridge forward`: runs until SIGTERM or SIGINT, then drains, commits and exits 0. */
export async function forward(argv: string[]): Promise<number> {
  const { config, file, warnings } = loadConfig({ argv });
  const logger = pino({ level: config.ops.logLevel, base: { component: 'graybridge-forwarder' } });
  logger.info({ file, config: redactedConfig(config) }, 'starting');
  for (const warning of warnings) logger.warn(warning);
  const forwarder = await startForwarder(config, logger);
  const signal = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]).then(([name]) => String(name));
  logger.info({ signal, drainTimeoutMillis: config.ops.drainTimeoutMillis }, 'stopping: finishing the batches in hand');
  const { drained } = await forwarder.stop();
  const { pipeline, source } = forwarder.stats();
  const summary = {
    received: pipeline.received,
    sent: pipeline.sent,
    undelivered: pipeline.undelivered,
    commits: source.commits,
  };
  if (drained) logger.info(summary, 'stopped: everything handled is committed');
  else logger.warn(summary, 'stopped at the drain deadline: records not committed will be redelivered to the group');
  return 0;
}
