// Data-dependent JS control flow under jit: item()/valueOf record guards, each path taken gets one
// trace (a trace tree), unseen values follow known paths, and strict mode names the user's line.
import { describe, expect, it } from 'vitest';
import { jit, Tensor, tensor, add, sub, mul, neg, exp } from '../../src/index.js';
import { vals, expectClose, rand } from './helpers.js';

function branchy(x: Tensor): Tensor {
  if ((x.sum().item() as number) > 0) return mul(exp(x), 2);
  else return sub(neg(x), 1);
}

describe('guards and side exits', () => {
  it('gives correct results on both branches with exactly two traces for two paths', () => {
    const f = jit(branchy);
    const inputs = [[1, 2], [-1, -2], [3, -1], [-5, 1], [0.5, 0.25], [-0.5, 0.25]];
    for (const xs of inputs) expectClose(f(tensor(xs)), branchy(tensor(xs)));
    const s = f.stats();
    expect(s).toMatchObject({ traces: 2, paths: 2, entries: 1 });
    // Unseen values were checked by re-running the JS (probes), not by recording new traces.
    expect(s.probes).toBeGreaterThan(0);
    // Seen values now run compiled alone.
    const hits = s.hits;
    expectClose(f(tensor([1, 2])), branchy(tensor([1, 2])));
    expectClose(f(tensor([-1, -2])), branchy(tensor([-1, -2])));
    expect(f.stats().hits).toBe(hits + 2);
    expect(f.stats().traces).toBe(2);
  });

  it('records a guard for valueOf comparisons (`t > 0`) too', () => {
    const f = jit((x: Tensor) => ((x.sum() as unknown as number) > 0 ? add(x, 1) : sub(x, 1)));
    expect(vals(f(tensor([1, 2])))).toEqual([2, 3]);
    expect(vals(f(tensor([-1, -2])))).toEqual([-2, -3]);
    expect(f.stats().paths).toBe(2);
  });

  it('{strict: true} throws naming the user line and suggesting cond/whileLoop', () => {
    const f = jit(branchy, { strict: true });
    let message = '';
    try {
      f(tensor([1, 2]));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^jit\(branchy\) \{strict: true\}: item\(\) reads the value of a traced tensor f32\[\] at .*guards\.test\.ts:8:\d+/);
    expect(message).toMatch(/cond\(pred, trueFn, falseFn, \.\.\.operands\).*whileLoop/);
  });

  it('splits at several guards and carries values across the segments', () => {
    const loop = (x: Tensor): Tensor[] => {
      const a = mul(x, 3);
      let r = a;
      for (let i = 0; i < 3; i++) r = (r.sum().item() as number) > 10 ? sub(r, 5) : add(r, a);
      return [r, a];
    };
    const f = jit(loop);
    for (const xs of [[1, 1], [0.1, 0.2], [5, 5], [1, 1], [-1, 0.5], [2, 1]]) {
      const [r, a] = f(tensor(xs));
      const [re, ae] = loop(tensor(xs));
      expectClose(r, re);
      expectClose(a, ae);
    }
    expect(f.stats().traces).toBe(f.stats().paths);
  });

  it('treats a different JS value baked into the trace as a different path', () => {
    // item() feeds a JS number back into the computation: each distinct value is its own trace.
    const f = jit((x: Tensor, n: Tensor) => mul(x, Number(n.item()) + 1));
    expect(vals(f(tensor([1, 2]), tensor(1, { dtype: 'int32' })))).toEqual([2, 4]);
    expect(vals(f(tensor([1, 2]), tensor(2, { dtype: 'int32' })))).toEqual([3, 6]);
    expect(vals(f(tensor([1, 2]), tensor(1, { dtype: 'int32' })))).toEqual([2, 4]);
    expect(f.stats()).toMatchObject({ traces: 2, paths: 2 });
  });

  it('guards on whole arrays read with dataSync()', () => {
    const f = jit((x: Tensor, mask: Tensor) => {
      const m = mask.dataSync();
      return m[0] ? mul(x, 2) : m[1] ? add(x, 10) : x;
    });
    const x = tensor([1, 2]);
    expect(vals(f(x, tensor([1, 0], { dtype: 'int32' })))).toEqual([2, 4]);
    expect(vals(f(x, tensor([0, 1], { dtype: 'int32' })))).toEqual([11, 12]);
    expect(f(x, tensor([0, 0], { dtype: 'int32' }))).toBe(x);
    expect(f.stats().paths).toBe(3);
  });

  it('keeps the tree intact when one path throws, and recovers when the function changes its ops', () => {
    const f = jit((x: Tensor) => {
      if ((x.sum().item() as number) > 100) throw new Error('too large');
      return mul(x, 2);
    });
    expect(vals(f(tensor([1])))).toEqual([2]);
    expect(() => f(tensor([1000]))).toThrow('too large');
    expect(vals(f(tensor([3])))).toEqual([6]);
    expect(f.stats().paths).toBe(1);

    let extra = false;
    const g = jit((x: Tensor) => {
      const s = (x.sum().item() as number) > 0;
      // A JS flag read at trace time changes the recorded ops: the tree must start over, not mix traces.
      const y = extra ? add(x, 100) : x;
      return s ? mul(y, 2) : neg(y);
    });
    expect(vals(g(tensor([1])))).toEqual([2]);
    extra = true;
    expect(vals(g(tensor([-1])))).toEqual([-99]);
  });

  it('compiles every path: a later call runs the prefix, checks the guard, continues on the path', () => {
    const f = jit(branchy);
    const x = rand([4], 3);
    const y = neg(x);
    f(x);
    f(y);
    const before = f.stats();
    for (let i = 0; i < 10; i++) {
      expectClose(f(x), branchy(x));
      expectClose(f(y), branchy(y));
    }
    expect(f.stats().hits).toBe(before.hits + 20);
    expect(f.stats().misses).toBe(before.misses);
  });
});
