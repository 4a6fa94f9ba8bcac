import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { invalidOption } from '../errors.js';
import { startGelfReceiver, type ReceivedMessage, type ReceiverOptions } from '../receiver/server.js';

const usage = `usage: graybridge gelf-receive [--tcp PORT] [--udp PORT] [--http PORT] [--host ADDRESS]
                               [--tls-cert FILE --tls-key FILE] [--http-bulk] [--json]

A local GELF endpoint that receives like a Graylog input and decodes with Graylog's rules, printing
what Graylog would index and warning about every field it would drop. Without a transport flag it
listens on TCP 12201, UDP 12201 and HTTP 12202 (POST /gelf). Stop with Ctrl-C.`;

function port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535)
    throw invalidOption(flag, 'a port from 0 to 65535', value);
  return number;
}

function show(received: ReceivedMessage, json: boolean): void {
  const { transport, message, droppedFields } = received;
  if (json) {
    console.log(JSON.stringify({ transport, ...message, droppedFields }));
    return;
  }
  const time = new Date(message.timestampMillis).toISOString();
  console.log(`[${transport}] ${time} level=${message.level ?? '-'} source=${message.source}: ${message.message}`);
  for (const [key, value] of Object.entries(message.fields).sort(([a], [b]) => a.localeCompare(b)))
    console.log(`    ${key} = ${JSON.stringify(value)}`);
  if (message.fullMessage !== undefined) console.log(`    (full_message: ${message.fullMessage.length} chars)`);
  for (const field of droppedFields) console.log(`    ! Graylog would drop ${field}`);
}

/** `graybridge gelf-receive`: runs until SIGINT/SIGTERM, then prints what it accepted and rejected. */
export async function gelfReceive(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      tcp: { type: 'string' },
      udp: { type: 'string' },
      http: { type: 'string' },
      host: { type: 'string', default: '0.0.0.0' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'http-bulk': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const none = values.tcp === undefined && values.udp === undefined && values.http === undefined;
  const tcpPort = port(values.tcp ?? (none ? '12201' : undefined), '--tcp');
  const udpPort = port(values.udp ?? (none ? '12201' : undefined), '--udp');
  const httpPort = port(values.http ?? (none ? '12202' : undefined), '--http');
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined))
    throw invalidOption('--tls-cert/--tls-key', 'both files for TLS', certFile ?? keyFile);
  const tls =
    certFile === undefined || keyFile === undefined
      ? undefined
      : { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  const options: ReceiverOptions = {
    host: values.host,
    ...(tcpPort === undefined ? {} : { tcp: { port: tcpPort, ...(tls === undefined ? {} : { tls }) } }),
    ...(udpPort === undefined ? {} : { udp: { port: udpPort } }),
    ...(httpPort === undefined ? {} : { http: { port: httpPort, bulk: values['http-bulk'] } }),
    onMessage: (received) => show(received, values.json),
    onReject: (transport, reason) => console.error(`[${transport}] rejected as Graylog would: ${reason}`),
  };
  const receiver = await startGelfReceiver(options);
  const listening = Object.entries(receiver.ports)
    .map(([transport, bound]) => `${transport} ${values.host}:${bound}`)
    .join(', ');
  console.error(`gelf-receive: listening on ${listening}${tls === undefined ? '' : ' (TCP over TLS)'}`);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  const stats = receiver.stats();
  await receiver.close();
  console.error(`gelf-receive: accepted ${JSON.stringify(stats.accepted)}, rejected ${JSON.stringify(stats.rejected)}`);
  return 0;
}
