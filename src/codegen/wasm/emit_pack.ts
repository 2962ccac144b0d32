// A vector path for packing a contraction's rhs panel when rhs is a (guarded) load whose index holds
// div/mod atoms of n: conv's im2col view, where n is a flattened output position. Within a panel of
// 8 consecutive n in which no such atom wraps, every index is affine in the lane, so a k row of the
// panel is two v128 loads whenever its lanes are contiguous in memory and all inside the guard (the
// interior of the image); rows at the border keep the element-by-element path.
import type { Expr, Index, IndexAtom, IndexCond } from '../kernel.js';
import { ixVars } from '../kernel_index.js';
import binaryen from './binaryen.js';
import type { E } from './binaryen.js';
import type { KernelEmitter } from './emit.js';

const I32 = binaryen.i32;

type Load = Extract<Expr, { op: 'load' }>;

/** An atom `(a*n + offset) div|mod by` of the panel variable alone. */
interface LaneAtom {
  readonly kind: 'div' | 'mod';
  readonly a: number;
  readonly offset: number;
  readonly by: number;
}

export interface PanelPlan {
  readonly load: Load;
  readonly conds: readonly IndexCond[];
  readonly atoms: readonly LaneAtom[];
  /** How much each cond's index moves per lane when no atom wraps. */
  readonly condSteps: readonly number[];
}

const usesVar = (ix: Index, v: string) => ixVars(ix).has(v);

/** The atom as a lane atom of `n` (pure in n, positive stride), or null when it is not one. */
function laneAtom(atom: IndexAtom, n: string): LaneAtom | null {
  if ('var' in atom) return null;
  const inner = 'div' in atom ? atom.div : atom.mod;
  if (inner.terms.length !== 1 || inner.offset < 0) return null;
  const t = inner.terms[0];
  if (!('var' in t.atom) || t.atom.var !== n || t.coeff <= 0) return null;
  return { kind: 'div' in atom ? 'div' : 'mod', a: t.coeff, offset: inner.offset, by: atom.by };
}

/** Per-lane step of an index over a non-wrapping panel, or null when an atom of n is not a lane atom. */
function laneStep(ix: Index, n: string, atoms: LaneAtom[]): number | null {
  let step = 0;
  for (const t of ix.terms) {
    const a = t.atom;
    if ('var' in a) {
      if (a.var === n) step += t.coeff;
      continue;
    }
    if (!usesVar('div' in a ? a.div : a.mod, n)) continue;
    const la = laneAtom(a, n);
    if (!la) return null;
    if (!atoms.some((x) => x.kind === la.kind && x.a === la.a && x.offset === la.offset && x.by === la.by)) atoms.push(la);
    if (la.kind === 'mod') step += t.coeff * la.a;
  }
  return step;
}

/** The plan for rhs = load or guard(conds, load, 0), when its lanes can be copied as vectors. */
export function panelPlan(rhs: Expr, n: string): PanelPlan | null {
  let load: Expr = rhs;
  let conds: readonly IndexCond[] = [];
  if (rhs.op === 'guard') {
    if (rhs.else.op !== 'const' || rhs.else.value !== 0) return null;
    load = rhs.then;
    conds = rhs.conds;
  }
  if (load.op !== 'load' || load.dynamic || load.dtype !== 'float32') return null;
  const atoms: LaneAtom[] = [];
  if (laneStep(load.index, n, atoms) !== 1) return null;
  const condSteps: number[] = [];
  for (const c of conds) {
    const s = laneStep(c.index, n, atoms);
    if (s === null || (s !== 0 && c.step !== 1)) return null;
    condSteps.push(s);
  }
  // A plain load with no atoms of n is contiguous already (the direct path covers it).
  if (atoms.length === 0 && conds.length === 0) return null;
  return { load, conds, atoms, condSteps };
}

/** 1 when no lane atom wraps between n0 and n0 + lanes - 1 (n0 in local `n0`). */
export function panelNoWrap(E: KernelEmitter, plan: PanelPlan, n0: () => E, lanes: number): E {
  const { m } = E;
  let ok: E = m.i32.const(1);
  for (const at of plan.atoms) {
    const x0 = () => m.i32.add(at.a === 1 ? n0() : m.i32.mul(n0(), m.i32.const(at.a)), m.i32.const(at.offset));
    const span = at.a * (lanes - 1);
    const t = at.kind === 'div'
      ? m.i32.eq(m.i32.div_u(x0(), m.i32.const(at.by)), m.i32.div_u(m.i32.add(x0(), m.i32.const(span)), m.i32.const(at.by)))
      : m.i32.lt_u(m.i32.add(m.i32.rem_u(x0(), m.i32.const(at.by)), m.i32.const(span)), m.i32.const(at.by));
    ok = m.i32.and(ok, t);
  }
  return ok;
}

/**
 * Pushes: `okLocal` = whether all `lanes` lanes starting at the current n lie inside the guard, and
 * `addrLocal` = the byte address of the first lane. Call with the emitter's inner variable set to n
 * and n bound to the panel's first column, in a scope of its own (the atoms it computes are per n).
 */
export function panelRow(E: KernelEmitter, plan: PanelPlan, lanes: number, okLocal: number, addrLocal: number): void {
  const { m, f } = E;
  let ok: E | null = null;
  plan.conds.forEach((c, i) => {
    const d = f.let(m.i32.sub(E.index(c.index), m.i32.const(c.lo)), I32);
    const range = m.i32.const(c.hi - c.lo);
    let t = m.i32.le_u(d(), range);
    const s = plan.condSteps[i];
    if (s !== 0) t = m.i32.and(t, m.i32.le_u(m.i32.add(d(), m.i32.const(s * (lanes - 1))), range));
    else if (c.step !== 1) t = m.i32.and(t, m.i32.eqz(m.i32.rem_u(d(), m.i32.const(c.step))));
    ok = ok === null ? t : m.i32.and(ok, t);
  });
  f.push(m.local.set(okLocal, ok ?? m.i32.const(1)));
  f.push(m.local.set(addrLocal, E.address(plan.load.buf, E.index(plan.load.index), 'float32')));
}
