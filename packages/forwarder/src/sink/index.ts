export type { Sink, SinkOutcome, GelfPayload } from './sink.js';
export { TcpSink, type TcpSinkOptions } from './tcp.js';
export { withRetry, CircuitBreaker, type RetryOptions, type BreakerOptions, type BreakerState } from './resilient.js';
export {
  startGelfReceiver,
  type GelfReceiver,
  type ReceivedMessage,
  type ReceiverOptions,
  type GelfTransport,
} from '../receiver/server.js';
export { UdpSink, gelfChunks, type UdpSinkOptions } from './udp.js';
export { HttpSink, type HttpSinkOptions } from './http.js';
