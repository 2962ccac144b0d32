// Random small IR programs for property tests: a recipe of integers (what fast-check shrinks) is read
// into a Builder program over f32[3,4] inputs, mixing elementwise, reductions, movement, dot_general,
// constants (to exercise folding and identities), duplicated expressions (for cse) and cond regions.
import fc from 'fast-check';
import { Builder } from '../../src/ir/builder.js';
import type { Function, Value } from '../../src/ir/function.js';
import { shapeEqual } from '../../src/ir/shape.js';

export interface Step {
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
}
export const stepArb: fc.Arbitrary<Step> = fc.record({ kind: fc.nat(15), a: fc.nat(50), b: fc.nat(50), c: fc.nat(50) });
export const recipeArb = fc.record({ steps: fc.array(stepArb, { minLength: 1, maxLength: 24 }), outputs: fc.nat(7) });

const UNARY = ['neg', 'abs', 'tanh', 'sin', 'cos', 'sigmoid', 'relu', 'exp'] as const;
const BINARY = ['add', 'sub', 'mul', 'max', 'min', 'div'] as const;

export const PARAM_TYPES = [
  { dtype: 'float32' as const, shape: [3, 4] },
  { dtype: 'float32' as const, shape: [3, 4] },
  { dtype: 'float32' as const, shape: [4] },
  { dtype: 'float32' as const, shape: [3] },
];

export function buildProgram(recipe: { steps: readonly Step[]; outputs: number }): Function {
  const b = new Builder();
  const pool: Value[] = PARAM_TYPES.map((t, i) => b.param(t, `p${i}`));
  const pick = (i: number, ok: (v: Value) => boolean = () => true) => {
    const vs = pool.filter(ok);
    return vs.length ? vs[i % vs.length] : undefined;
  };
  const rank = (r: number) => (v: Value) => v.type.shape.length === r;
  const like = (u: Value) => (v: Value) => shapeEqual(v.type.shape, u.type.shape);
  for (const { kind, a, b: bi, c } of recipe.steps) {
    const x = pick(a)!;
    const add = (v: Value | undefined) => v && pool.push(v);
    switch (kind) {
      case 0: case 1: add(b.op1(UNARY[c % UNARY.length], [x], {})); break;
      case 2: case 3: add(b.op1(BINARY[c % BINARY.length], [x, pick(bi, like(x))!], {})); break;
      case 4: { // reduction over one axis, or all
        if (x.type.shape.length === 0) break;
        const prim = (['reduce_sum', 'reduce_max', 'reduce_min'] as const)[c % 3];
        const axes = bi % 3 === 2 ? x.type.shape.map((_, i) => i) : [bi % x.type.shape.length];
        add(b.op1(prim, [x], { axes }));
        break;
      }
      case 5: { // broadcast a vector (or scalar) to [3,4]
        const v = pick(a, (u) => u.type.shape.length <= 1 && (u.type.shape.length === 0 || u.type.shape[0] === 3 || u.type.shape[0] === 4));
        if (!v) break;
        const dims = v.type.shape.length === 0 ? [] : [v.type.shape[0] === 3 ? 0 : 1];
        add(b.op1('broadcast', [v], { shape: [3, 4], dims }));
        break;
      }
      case 6: { // transpose, twice sometimes
        const m = pick(a, rank(2));
        if (!m) break;
        const t = b.op1('transpose', [m], { perm: [1, 0] });
        add(c % 2 ? b.op1('transpose', [t], { perm: [1, 0] }) : t);
        break;
      }
      case 7: { // reshape [3,4] <-> [12] <-> [4,3], possibly twice
        const m = pick(a, (u) => u.type.shape.reduce((p, d) => p * d, 1) === 12);
        if (!m) break;
        const shapes = [[12], [4, 3], [3, 4], [2, 6]];
        const r = b.op1('reshape', [m], { shape: shapes[c % 4] });
        add(bi % 2 ? b.op1('reshape', [r], { shape: shapes[bi % 4] }) : r);
        break;
      }
      case 8: { // matmul of two rank-2 values with matching inner dims
        const l = pick(a, rank(2));
        const r = l && pick(bi, (u) => u.type.shape.length === 2 && u.type.shape[0] === l.type.shape[1]);
        if (l && r) add(b.op1('dot_general', [l, r], { contract: [[1], [0]], batch: [[], []] }));
        break;
      }
      case 9: { // identities: x*1, x+0, neg(neg x), cast to own dtype, select with a constant predicate
        const one = b.constant(c % 2 ? 1 : 0, 'float32', [...x.type.shape]);
        const ops = [
          () => b.op1('mul', [x, one], {}),
          () => b.op1('add', [one, x], {}),
          () => b.op1('neg', [b.op1('neg', [x], {})], {}),
          () => b.op1('cast', [x], { dtype: 'float32' }),
          () => b.op1('select', [b.constant(c % 2, 'bool', [...x.type.shape]), x, pick(bi, like(x))!], {}),
        ];
        add(ops[bi % ops.length]());
        break;
      }
      case 10: { // constants folded together
        const k1 = b.constant((c % 5) - 2, 'float32', [...x.type.shape]);
        const k2 = b.constant([0.5, -1.5, 2, 3].slice(0, 1), 'float32', [...x.type.shape]);
        add(b.op1(BINARY[bi % BINARY.length], [x, b.op1('add', [k1, k2], {})], {}));
        break;
      }
      case 11: { // a duplicate of an earlier expression, for cse
        add(b.op1('mul', [x, x], {}));
        add(b.op1('mul', [x, x], {}));
        break;
      }
      case 12: { // select on a comparison
        const y = pick(bi, like(x))!;
        add(b.op1('select', [b.op1('gt', [x, y], {}), x, y], {}));
        break;
      }
      case 13: { // slice rows or columns of a [3,4]
        const m = pick(a, (u) => shapeEqual(u.type.shape, [3, 4]));
        if (m) add(b.op1('slice', [m], { start: [c % 2, 0], limit: [3, 4 - (bi % 2)], stride: [1, 1 + (c % 2)] }));
        break;
      }
      case 14: { // cond on the sign of a sum: regions are simplified and fused recursively
        const pred = b.op1('gt', [b.op1('reduce_sum', [x], { axes: x.type.shape.map((_, i) => i) }), b.constant(0, 'float32', [])], {});
        const region = (f: (rb: Builder, p: Value) => Value) => {
          const rb = new Builder();
          const p = rb.param(x.type);
          return rb.block([f(rb, p)]);
        };
        const then = region((rb, p) => rb.op1('mul', [rb.op1('exp', [rb.op1('tanh', [p], {})], {}), rb.constant(1, 'float32', [...x.type.shape])], {}));
        const els = region((rb, p) => rb.op1('neg', [rb.op1('neg', [rb.op1('abs', [p], {})], {})], {}));
        add(b.op('cond', [pred, x], {}, [then, els])[0]);
        break;
      }
      default: { // concat along the first axis
        const y = pick(bi, (u) => u.type.shape.length === x.type.shape.length && u.type.shape.length > 0 && shapeEqual(u.type.shape.slice(1), x.type.shape.slice(1)));
        if (y) add(b.op1('concat', [x, y], { axis: 0 }));
      }
    }
  }
  // Return the last value and a few earlier ones (multi-output kernels, values read after fusion).
  const created = pool.slice(PARAM_TYPES.length);
  const outs = created.length ? [created[created.length - 1]] : [pool[0]];
  for (let i = 0; i < recipe.outputs % 3 && created.length > 1; i++) outs.push(created[(recipe.outputs * 7 + i * 3) % created.length]);
  return b.finish('random', outs);
}
