import { describe, expect, it } from 'vitest';
import { traceToFunction, makeIR, IRTrace } from '../../src/frontend/tracing.js';
import { hostArray } from '../../src/ir/array.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { registerDevice } from '../../src/codegen/device.js';
import { add, mul, exp } from '../../src/frontend/ops/elementwise.js';
import { withTrace } from '../../src/frontend/trace.js';

// Structure-only device: tracing reads one-element constants but never runs an op here.
registerDevice('trace-host', () => ({
  name: 'trace-host',
  upload: (a) => a,
  read: async (b) => b as any,
  readSync: (b) => b as any,
  execute: () => { throw new Error('no ops'); },
  compile: () => { throw new Error('no compile'); },
  dispose() {},
}));
const t = (shape: number[], v = 1.5) => Tensor._fromHost(hostArray('float32', shape, [v]), 'trace-host');

describe('traceToFunction', () => {
  it('records ops on parameters for each tensor leaf and keeps the tree structures', () => {
    const x = t([2, 3]), y = t([3]);
    const tf = traceToFunction((a: { x: Tensor; y: Tensor }, k: number) => ({ out: exp(add(mul(a.x, k), a.y)), k }), [{ x, y }, 2]);
    expect(tf.fn.body.params.map((p) => p.type.shape)).toEqual([[2, 3], [3]]);
    // The returned JS number k becomes a constant output (outputs are tensors).
    expect(tf.fn.body.ops.map((o) => o.prim)).toEqual(['constant', 'broadcast', 'mul', 'broadcast', 'add', 'exp', 'constant']);
    expect(tf.fn.body.results.length).toBe(2);
    expect(tf.captured).toEqual([]);
    expect(tf.outTree.kind).toBe('object');
  });

  it('bakes scalars made while tracing in as constants and captures older tensors as trailing parameters', () => {
    // Older tensors may be parameters that optimizers update in place: baking them would go stale.
    const scale = t([], 3), bias = t([4], 0.5);
    const tf = traceToFunction((a: Tensor) => add(mul(mul(a, scale), t([], 2)), bias), [t([4])]);
    expect(tf.captured).toEqual([scale, bias]);
    expect(tf.fn.body.params.length).toBe(3);
    const c = tf.fn.body.ops.filter((o) => o.prim === 'constant');
    expect(c.map((o) => o.attrs.value)).toEqual([[2]]);
  });

  it('turns returned JS numbers into constants and returned closures into captured parameters', () => {
    const z = t([2]);
    const tf = traceToFunction((a: Tensor) => [a, 2, z], [t([2])]);
    expect(tf.fn.body.results.length).toBe(3);
    expect(tf.captured).toEqual([z]);
    expect(tf.fn.body.results[0]).toBe(tf.fn.body.params[0]);
  });

  it('nests: tracers of an outer trace used by an inner function become captured parameters', () => {
    const outer = new IRTrace(1, 'outer', 'trace-host');
    const a = outer.param({ dtype: 'float32', shape: [2] });
    const b = outer.param({ dtype: 'float32', shape: [2] });
    const inner = withTrace(outer, () => traceToFunction((u: Tensor) => mul(u, b), [a]));
    expect(inner.captured).toEqual([b]);
    expect(inner.fn.body.params.length).toBe(2);
    expect(outer.builder.ops.length).toBe(0);
  });

  it('explains item() inside a trace with the user line and the structured alternatives', () => {
    const f = (a: Tensor) => (a.item() as number > 0 ? a : mul(a, 2));
    expect(() => makeIR(f)(t([]))).toThrow(/item\(\) needs the value of a traced tensor f32\[\] at .*tracing\.test\.ts:\d+:\d+.*cond/);
  });

  it('records the user source line on ops when asked ({loc: true} or KILN_LOC=1)', () => {
    const tf = traceToFunction((a: Tensor) => exp(a), [t([2])], { loc: true });
    expect(tf.fn.body.ops[0].loc).toMatch(/tracing\.test\.ts:\d+:\d+$/);
    expect(traceToFunction((a: Tensor) => exp(a), [t([2])]).fn.body.ops[0].loc).toBeUndefined();
  });

  it('rejects tracers that escape their trace', () => {
    let leaked: Tensor | undefined;
    makeIR((a: Tensor) => { leaked = mul(a, a); return a; })(t([2]));
    expect(() => exp(leaked!)).toThrow(/escaped/);
  });
});
