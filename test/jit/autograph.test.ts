// AutoGraph: native if/while/for on tensors become cond/whileLoop, so one graph covers all branches.
import { describe, expect, it } from 'vitest';
import { jit, Tensor, tensor, add, sub, mul, neg, exp } from '../../src/index.js';
import { printFunction } from '../../src/ir/printer.js';
import { autograph, autographSource } from '../../src/frontend/jit/autograph.js';
import { vals, expectClose } from './helpers.js';

// Test runners rename imports (__vite_ssr_import_0__), so rewritten functions reach ops through `k`.
const k: any = { sum: (t: Tensor) => t.sum(), add, sub, mul, neg, exp };
const scope = { k };

function branchy(x: any) {
  if (k.sum(x) > 0) return k.mul(k.exp(x), 2);
  else return k.sub(k.neg(x), 1);
}

describe('autograph', () => {
  it('needs no scope when the function uses tensor methods only', () => {
    function f(x: any) {
      if (x.sum() > 0) return x.exp().mul(2);
      else return x.neg().sub(1);
    }
    const jf = jit(f, { autograph: true });
    expectClose(jf(tensor([1, 2])), f(tensor([1, 2])));
    expectClose(jf(tensor([-1, -2])), f(tensor([-1, -2])));
    expect(jf.stats().traces).toBe(1);
    expect(printFunction(jf.lower(tensor([1, 2])))).toMatch(/= cond /);
  });

  it('compiles a tensor if into one graph with a cond op, correct on both branches', () => {
    const f = jit(branchy, { autograph: true, scope });
    for (const xs of [[1, 2], [-1, -2], [0.5, -0.25], [-3, 1]]) expectClose(f(tensor(xs)), branchy(tensor(xs)));
    expect(f.stats()).toMatchObject({ traces: 1, paths: 1 });
    const lowered = printFunction(f.lower(tensor([1, 2])));
    expect(lowered).toMatch(/= cond /);
    // Without autograph the same function records guards: one trace per path.
    const g = jit(branchy);
    g(tensor([1, 2]));
    g(tensor([-1, -2]));
    expect(g.stats().traces).toBe(2);
  });

  it('rewrites assignments in branches, while loops with counters, and && / || / ! / ?:', () => {
    function f(x: any, limit: number) {
      let y = x;
      let steps = 0;
      if (k.sum(x) > 0 && !(k.sum(x) > 100)) {
        y = k.mul(y, 2);
      } else {
        y = k.neg(y);
        steps = 10;
      }
      while (k.sum(y) < limit || steps < 3) {
        y = k.add(y, 1);
        steps += 1;
      }
      const z = k.sum(y) > 50 ? k.sub(y, 50) : y;
      return [z, steps];
    }
    const jf = jit(f, { autograph: true, scope });
    for (const xs of [[1, 2], [-1, -2], [200, 1], [30, 30]]) {
      const [z, n] = jf(tensor(xs), 20) as [Tensor, Tensor];
      const [ze, ne] = f(tensor(xs), 20) as [Tensor, number | Tensor];
      expectClose(z, ze);
      expect(Number(vals(n)[0])).toBe(Number(ne instanceof Tensor ? vals(ne)[0] : ne));
    }
    expect(jf.stats().traces).toBe(1);
    const ops = printFunction(jf.lower(tensor([1, 2]), 20));
    expect(ops).toMatch(/= cond /);
    expect(ops).toMatch(/= while /);
  });

  it('turns a for loop with a tensor bound into a while loop and unrolls one with JS bounds', () => {
    function f(x: any, n: any) {
      let acc = x;
      for (let i = 0; i < n; i++) acc = k.add(k.mul(acc, 2), i);
      return acc;
    }
    const jf = jit(f, { autograph: true, scope });
    const x = tensor([1, 0.5]);
    expectClose(jf(x, tensor(3, { dtype: 'int32' })), f(x, 3));
    expectClose(jf(x, tensor(5, { dtype: 'int32' })), f(x, 5));
    expect(jf.stats().traces).toBe(1);
    expect(printFunction(jf.lower(x, tensor(3, { dtype: 'int32' })))).toMatch(/= while /);
    expect(printFunction(jf.lower(x, 3))).not.toMatch(/while|scan/);
    expectClose(jf(x, 3), f(x, 3));
  });

  it('leaves statements that exit early native (they become guards under jit)', () => {
    function f(x: any) {
      for (let i = 0; i < 3; i++) {
        if (k.sum(x) > 10) break;
        x = k.mul(x, 3);
      }
      return x;
    }
    const src = autographSource(f, { scope });
    expect(src).toContain('break');
    const jf = jit(f, { autograph: true, scope });
    expectClose(jf(tensor([1, 1])), f(tensor([1, 1])));
    expectClose(jf(tensor([20, 1])), f(tensor([20, 1])));
  });

  it('reports free variables it cannot reach, by name, with how to pass them', () => {
    const hidden = tensor([1]);
    function f(x: any) {
      if (k.sum(x) > 0) return k.add(x, hidden);
      return x;
    }
    expect(() => jit(f, { autograph: true, scope })).toThrow(
      /autograph\(f\): the function uses 'hidden' from its enclosing scope.*scope: \{hidden\}/,
    );
    expect(() => autograph(f)).toThrow(/'k', 'hidden'/);
    expect(vals(jit(f, { autograph: true, scope: { k, hidden } })(tensor([2])))).toEqual([3]);
  });

  it('works on decorated methods', () => {
    class Gate {
      @jit({ autograph: true, scope })
      apply(x: any) {
        if (k.sum(x) > 0) return x;
        return k.neg(x);
      }
    }
    const g = new Gate();
    expect(vals(g.apply(tensor([1, 2])))).toEqual([1, 2]);
    expect(vals(g.apply(tensor([-1, -2])))).toEqual([1, 2]);
    expect((g.apply as unknown as { stats(): { traces: number } }).stats().traces).toBe(1);
  });

  it('names the user line when a region fails', () => {
    function f(x: any) {
      let y = x;
      if (k.sum(x) > 0) {
        y = k.sum(x);
      }
      return y;
    }
    expect(() => jit(f, { autograph: true, scope })(tensor([1, 2]))).toThrow(/branches return different types.*\(in if at line 3 of f\)/);
  });
});
