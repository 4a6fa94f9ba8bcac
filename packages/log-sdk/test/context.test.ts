import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createContextMixin, currentLogContext, mergeMixin, noBindings, withLogContext } from '../src/context.js';

describe('withLogContext', () => {
  it('binds values across awaits and merges nested contexts, inner keys winning', async () => {
    assert.equal(currentLogContext(), undefined);
    await withLogContext({ request_id: 'r1', user: 'a' }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(currentLogContext(), { request_id: 'r1', user: 'a' });
      withLogContext({ user: 'b' }, () => assert.deepEqual(currentLogContext(), { request_id: 'r1', user: 'b' }));
      assert.deepEqual(currentLogContext(), { request_id: 'r1', user: 'a' });
    });
    assert.equal(currentLogContext(), undefined);
  });
});

describe('createContextMixin', () => {
  it('returns the shared empty object outside any context, so mergeMixin passes records through', () => {
    const mixin = createContextMixin(false);
    assert.equal(mixin(), noBindings);
    const record = { a: 1 };
    assert.equal(mergeMixin(record, mixin()), record);
  });

  it('returns a fresh copy of the bindings, so pino merging into it cannot change the context', () => {
    const mixin = createContextMixin(false);
    withLogContext({ request_id: 'r1' }, () => {
      const first = mergeMixin({ msg: 'x' }, mixin());
      assert.deepEqual(first, { request_id: 'r1', msg: 'x' });
      assert.deepEqual(mixin(), { request_id: 'r1' });
    });
  });

  it('adds trace_id, span_id and trace_flags of the active OpenTelemetry span', () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const spanContext = {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: TraceFlags.SAMPLED,
      };
      const mixin = createContextMixin(true);
      assert.equal(mixin(), noBindings, 'no span, nothing added');
      context.with(trace.setSpanContext(context.active(), spanContext), () => {
        withLogContext({ request_id: 'r2' }, () => {
          assert.deepEqual(mixin(), {
            request_id: 'r2',
            trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
            span_id: '00f067aa0ba902b7',
            trace_flags: '01',
          });
        });
      });
      const invalid = { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 };
      context.with(trace.setSpanContext(context.active(), invalid), () => assert.equal(mixin(), noBindings));
      context.with(trace.setSpanContext(context.active(), spanContext), () =>
        assert.equal(createContextMixin(false)(), noBindings, 'traceContext: false ignores spans'),
      );
    } finally {
      context.disable();
    }
  });
});
