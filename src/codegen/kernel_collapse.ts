// Loop collapsing for kernel descriptions: a perfect nest `for a { for b { ... } }` becomes one loop
// when every index in it uses a and b as one contiguous range (coeff(a) = coeff(b) * extent(b)).
// Fewer, longer loops vectorize better and cost less loop overhead; an elementwise kernel over
// contiguous buffers ends up as a single loop whatever its rank.
import type { Expr, Index, IndexCond, Stmt } from './kernel.js';
import { exprChildren } from './kernel.js';
import { ixCoeff, ixConst, ixSubst, ixVar } from './kernel_index.js';

type Ranges = Map<string, number>;

/** Every Index inside a statement list (expressions followed through the DAG, each node once). */
function forEachIndex(stmts: readonly Stmt[], visit: (ix: Index) => void): void {
  const seen = new Set<Expr>();
  const expr = (e: Expr): void => {
    if (seen.has(e)) return;
    seen.add(e);
    if (e.op === 'load' || e.op === 'index') visit(e.index);
    if (e.op === 'threefry') visit(e.counter);
    if (e.op === 'guard') e.conds.forEach((c) => visit(c.index));
    exprChildren(e).forEach(expr);
  };
  const stmt = (s: Stmt): void => {
    switch (s.op) {
      case 'loop': s.body.forEach(stmt); return;
      case 'store': visit(s.index); expr(s.value); if (s.dynamic) expr(s.dynamic.value); return;
      case 'update': expr(s.value); if (s.at) visit(s.at); return;
      case 'init': return;
      case 'contract': expr(s.lhs); expr(s.rhs); s.epilogue.forEach(stmt); return;
    }
  };
  stmts.forEach(stmt);
}

/** Rewrites every Index of a statement list, keeping shared expression nodes shared. */
export function mapIndices(stmts: readonly Stmt[], f: (ix: Index) => Index): Stmt[] {
  const memo = new Map<Expr, Expr>();
  const cond = (c: IndexCond): IndexCond => ({ ...c, index: f(c.index) });
  const expr = (e: Expr): Expr => {
    const hit = memo.get(e);
    if (hit) return hit;
    let out: Expr;
    switch (e.op) {
      case 'load': out = { ...e, index: f(e.index), ...(e.dynamic ? { dynamic: { ...e.dynamic, value: expr(e.dynamic.value) } } : {}) }; break;
      case 'index': out = { ...e, index: f(e.index) }; break;
      case 'unary': out = { ...e, x: expr(e.x) }; break;
      case 'cast': out = { ...e, x: expr(e.x) }; break;
      case 'binary': out = { ...e, a: expr(e.a), b: expr(e.b) }; break;
      case 'select': out = { ...e, pred: expr(e.pred), a: expr(e.a), b: expr(e.b) }; break;
      case 'guard': out = { ...e, conds: e.conds.map(cond), then: expr(e.then), else: expr(e.else) }; break;
      case 'threefry': out = { ...e, key0: expr(e.key0), key1: expr(e.key1), counter: f(e.counter) }; break;
      default: out = e;
    }
    memo.set(e, out);
    return out;
  };
  const stmt = (s: Stmt): Stmt => {
    switch (s.op) {
      case 'loop': return { ...s, body: s.body.map(stmt) };
      case 'store': return { ...s, index: f(s.index), value: expr(s.value), ...(s.dynamic ? { dynamic: { ...s.dynamic, value: expr(s.dynamic.value) } } : {}) };
      case 'update': return { ...s, value: expr(s.value), ...(s.at ? { at: f(s.at) } : {}) };
      case 'init': return s;
      case 'contract': return { ...s, lhs: expr(s.lhs), rhs: expr(s.rhs), epilogue: s.epilogue.map(stmt) };
    }
  };
  return stmts.map(stmt);
}

function mergeable(body: readonly Stmt[], outer: string, inner: string, innerExtent: number): boolean {
  let ok = true;
  forEachIndex(body, (ix) => {
    if (!ok) return;
    const a = ixCoeff(ix, outer);
    const b = ixCoeff(ix, inner);
    if (a === null || b === null || a !== b * innerExtent) ok = false;
  });
  return ok;
}

/** Collapses perfect loop nests whose indices allow it; `ranges` gains the merged variables. */
export function collapseLoops(stmts: readonly Stmt[], ranges: Ranges): Stmt[] {
  return stmts.map((s) => {
    if (s.op !== 'loop') return s;
    const body = collapseLoops(s.body, ranges);
    const only = body.length === 1 ? body[0] : null;
    if (only && only.op === 'loop' && mergeable(only.body, s.var, only.var, only.extent)) {
      const name = `${s.var}_${only.var}`;
      const extent = s.extent * only.extent;
      ranges.set(name, extent);
      // c_o*a + c_i*b = c_i*(extent_i*a + b): drop a, rename b to the merged variable.
      const rewritten = mapIndices(only.body, (ix) => ixSubst(ixSubst(ix, s.var, ixConst(0), ranges), only.var, ixVar(name), ranges));
      return { op: 'loop', var: name, extent, ...(s.parallel ? { parallel: true } : {}), body: rewritten };
    }
    return { ...s, body };
  });
}
