// Emission-level rewrites of a kernel's statements (kept out of the description itself because
// they trade exactness for speed on this backend).
import type { Expr, Stmt } from '../kernel.js';
import { exprChildren } from '../kernel.js';
import { ixVars } from '../kernel_index.js';

/** Loop variables an expression reads (through its indices). */
function varsOf(e: Expr, memo: Map<Expr, Set<string>>): Set<string> {
  let d = memo.get(e);
  if (d) return d;
  d = new Set<string>();
  if (e.op === 'load' || e.op === 'index') ixVars(e.index, d);
  if (e.op === 'threefry') ixVars(e.counter, d);
  if (e.op === 'guard') for (const c of e.conds) ixVars(c.index, d);
  for (const c of exprChildren(e)) for (const x of varsOf(c, memo)) d.add(x);
  memo.set(e, d);
  return d;
}

/**
 * In innermost loops, a float division by something the loop does not change becomes a multiply by
 * its reciprocal, computed once before the loop (softmax's normalization, x / n means). This rounds
 * twice, so results may differ from true division by an ulp.
 */
export function reciprocalDivisions(stmts: readonly Stmt[]): Stmt[] {
  const vars = new Map<Expr, Set<string>>();
  const inLoop = (body: readonly Stmt[], v: string): Stmt[] => {
    const memo = new Map<Expr, Expr>();
    const rw = (e: Expr): Expr => {
      const hit = memo.get(e);
      if (hit) return hit;
      let out: Expr;
      switch (e.op) {
        case 'binary': {
          const a = rw(e.a);
          const b = rw(e.b);
          if (e.fn === 'div' && e.dtype === 'float32' && !varsOf(e.b, vars).has(v) && e.b.op !== 'const') {
            const one: Expr = { op: 'const', dtype: 'float32', value: 1 };
            out = { op: 'binary', dtype: 'float32', fn: 'mul', a, b: { op: 'binary', dtype: 'float32', fn: 'div', a: one, b } };
          } else out = a === e.a && b === e.b ? e : { ...e, a, b };
          break;
        }
        case 'unary': case 'cast': { const x = rw(e.x); out = x === e.x ? e : { ...e, x }; break; }
        case 'select': out = { ...e, pred: rw(e.pred), a: rw(e.a), b: rw(e.b) }; break;
        default: out = e; // guards and loads keep their subtrees (only taken branches are evaluated)
      }
      memo.set(e, out);
      return out;
    };
    return body.map((b) => (b.op === 'store' ? { ...b, value: rw(b.value) } : b.op === 'update' ? { ...b, value: rw(b.value) } : b));
  };
  const walk = (ss: readonly Stmt[]): Stmt[] => ss.map((s) => {
    if (s.op !== 'loop') return s;
    const innermost = s.body.every((b) => b.op !== 'loop' && b.op !== 'contract');
    return { ...s, body: innermost ? inLoop(s.body, s.var) : walk(s.body) };
  });
  return walk(stmts);
}

