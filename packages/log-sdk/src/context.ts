import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';

type Bindings = Readonly<Record<string, unknown>>;

const storage = new AsyncLocalStorage<Bindings>();
/** Returned by the mixin when there is nothing to add; `mergeMixin` then adds nothing. */
export const noBindings: Bindings = Object.freeze({});

/**
 * Runs `fn` with `bindings` (e.g. `{ request_id }`) added to every record logged inside it, by
 * any graybridge logger, across awaits. Nested calls merge, inner keys winning.
 */
export function withLogContext<T>(bindings: Bindings, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer === undefined ? { ...bindings } : { ...outer, ...bindings }, fn);
}

/** The bindings of the innermost `withLogContext`, if any. */
export function currentLogContext(): Bindings | undefined {
  return storage.getStore();
}

interface SpanContextLike {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

interface TraceApiLike {
  trace: {
    getSpan(context: unknown): { spanContext(): SpanContextLike } | undefined;
  };
  context: { active(): unknown };
  isSpanContextValid(spanContext: SpanContextLike): boolean;
}

/** `@opentelemetry/api` if the app has it (an optional peer dependency), else undefined. */
function loadTraceApi(): TraceApiLike | undefined {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as TraceApiLike;
  } catch {
    return undefined;
  }
}

/**
 * pino's `mixinMergeStrategy` for `createContextMixin`: pino's default assigns the record's object
 * into the mixin's result, which would write into a shared object; this returns the record's own
 * object untouched when there is nothing to add, so a plain log call allocates nothing here.
 */
export function mergeMixin(mergeObject: object, mixinObject: object): object {
  return mixinObject === noBindings ? mergeObject : Object.assign(mixinObject, mergeObject);
}

/**
 * A pino mixin adding the `withLogContext` bindings and, when an OpenTelemetry span is active,
 * `trace_id`, `span_id` and `trace_flags` (hex, as OTel's log data model names them). Each result
 * is a fresh object (pino merges into it) or `noBindings`.
 */
export function createContextMixin(traceContext: boolean): () => Bindings {
  const api = traceContext ? loadTraceApi() : undefined;
  const fromStore = (): Bindings => {
    const bindings = storage.getStore();
    return bindings === undefined ? noBindings : { ...bindings };
  };
  if (api === undefined) return fromStore;
  return () => {
    const span = api.trace.getSpan(api.context.active());
    if (span === undefined) return fromStore();
    const spanContext = span.spanContext();
    if (!api.isSpanContextValid(spanContext)) return fromStore();
    const bindings = storage.getStore();
    return {
      ...bindings,
      trace_id: spanContext.traceId,
      span_id: spanContext.spanId,
      trace_flags: spanContext.traceFlags.toString(16).padStart(2, '0'),
    };
  };
}
