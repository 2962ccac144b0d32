// A vector path for packing a contraction's rhs panel when rhs is a (guarded) load whose index holds
// div/mod atoms of n: conv's im2col view, where n = row * width + column of an output position.
// Within a panel of 8 consecutive n the atoms wrap at most once (width > 7), so every index is
// `base + lane*step`, plus a fixed `delta` on the lanes past the wrap. A k row of the panel is then
// built 4 lanes at a time: the guard as an i32x4 mask, one v128 load where the 4 lanes are contiguous
// and all inside the image, else 4 lane loads (from the buffer's start when outside) masked to 0.
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
  /** The one inner index `a*n + offset` of every atom of n, divided or reduced by `by` (null: no atoms). */
  readonly wrap: { readonly a: number; readonly offset: number; readonly by: number } | null;
  /** Per cond: the per-lane step of its index, and what it jumps by past the wrap. */
  readonly condSteps: readonly number[];
  readonly condDeltas: readonly number[];
  /** The load index's jump past the wrap (its per-lane step is 1). */
  readonly loadDelta: number;
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

/** Per-lane step and jump past the wrap of an index, or null when an atom of n is not a lane atom. */
function laneForm(ix: Index, n: string, atoms: LaneAtom[]): { step: number; delta: number } | null {
  let step = 0;
  let delta = 0;
  for (const t of ix.terms) {
    const a = t.atom;
    if ('var' in a) {
      if (a.var === n) step += t.coeff;
      continue;
    }
    if (!usesVar('div' in a ? a.div : a.mod, n)) continue;
    const la = laneAtom(a, n);
    if (!la) return null;
    atoms.push(la);
    if (la.kind === 'mod') {
      step += t.coeff * la.a;
      delta -= t.coeff * la.by;
    } else delta += t.coeff;
  }
  return { step, delta };
}

/** The plan for rhs = load or guard(conds, load, 0), when its lanes can be packed as vectors. */
/** rhs as (load, conds) when it is a float32 static load, bare or as guard(conds, load, 0). */
function guardedLoad(rhs: Expr): { load: Extract<Expr, { op: 'load' }>; conds: readonly IndexCond[] } | null {
  let load: Expr = rhs;
  let conds: readonly IndexCond[] = [];
  if (rhs.op === 'guard') {
    if (rhs.else.op !== 'const' || rhs.else.value !== 0) return null;
    load = rhs.then;
    conds = rhs.conds;
  }
  if (load.op !== 'load' || load.dynamic || load.dtype !== 'float32') return null;
  return { load, conds };
}

export function panelPlan(rhs: Expr, n: string, lanes: number): PanelPlan | null {
  const g = guardedLoad(rhs);
  if (!g) return null;
  const { load, conds } = g;
  const atoms: LaneAtom[] = [];
  const lf = laneForm(load.index, n, atoms);
  if (!lf || lf.step !== 1) return null;
  const condSteps: number[] = [];
  const condDeltas: number[] = [];
  for (const c of conds) {
    const f = laneForm(c.index, n, atoms);
    if (!f || (c.step !== 1 && (f.step !== 0 || f.delta !== 0))) return null;
    condSteps.push(f.step);
    condDeltas.push(f.delta);
  }
  // A plain load with no atoms of n is contiguous already (the direct path covers it).
  if (atoms.length === 0 && conds.length === 0) return null;
  // One inner index for all atoms, wrapping at most once over the panel.
  const w = atoms[0];
  if (w && (atoms.some((x) => x.a !== w.a || x.offset !== w.offset || x.by !== w.by) || w.a * (lanes - 1) >= w.by)) return null;
  return { load, conds, wrap: w ? { a: w.a, offset: w.offset, by: w.by } : null, condSteps, condDeltas, loadDelta: lf.delta };
}

/** How many lanes of the panel starting at n0 come before the wrap (`lanes` when none does). */
export function panelWrapAt(E: KernelEmitter, plan: PanelPlan, n0: () => E, lanes: number): E {
  const { m } = E;
  const w = plan.wrap;
  if (!w) return m.i32.const(lanes);
  const x0 = m.i32.add(w.a === 1 ? n0() : m.i32.mul(n0(), m.i32.const(w.a)), m.i32.const(w.offset));
  // ceil((by - x0 mod by) / a), at most `lanes`.
  const left = m.i32.sub(m.i32.const(w.by + w.a - 1), m.i32.rem_u(x0, m.i32.const(w.by)));
  const s = E.f.let(w.a === 1 ? left : m.i32.div_u(left, m.i32.const(w.a)), I32);
  return m.select(m.i32.gt_s(s(), m.i32.const(lanes)), m.i32.const(lanes), s());
}

/**
 * Packs one k row of a panel (lanes 4 at a time) to `dst`: rhs at n = n0 + lane. Call with the
 * emitter's inner variable set to n and n bound to n0, in a scope of its own (the atoms it computes
 * are those of n0); `wrapAt` holds panelWrapAt's value.
 */
export function panelRow(E: KernelEmitter, plan: PanelPlan, lanes: number, wrapAt: number, dst: () => E): void {
  const { m, f } = E;
  const buf = plan.load.buf;
  const wrap = () => m.local.get(wrapAt, I32);
  const vconst = (xs: number[]) => m.v128.const(Array.from(new Uint8Array(new Int32Array(xs).buffer)));
  // Per cond: d = index at n0 - lo (scalar); the load's index at n0.
  const ds = plan.conds.map((c) => f.let(m.i32.sub(E.index(c.index), m.i32.const(c.lo)), I32));
  const base = f.let(E.index(plan.load.index), I32);
  // Conds along the lanes of n0 only (dilated inputs): all lanes share them.
  let shared: E | null = null;
  plan.conds.forEach((c, i) => {
    if (c.step === 1 || plan.condSteps[i] !== 0) return;
    const t = m.i32.and(m.i32.le_u(ds[i](), m.i32.const(c.hi - c.lo)), m.i32.eqz(m.i32.rem_u(ds[i](), m.i32.const(c.step))));
    shared = shared === null ? t : m.i32.and(shared, t);
  });
  const sharedOk = shared === null ? null : f.let(shared, I32);
  // The common case first, in scalar: no wrap and every lane inside (both ends of each range).
  let inside: E = plan.wrap ? m.i32.ge_s(wrap(), m.i32.const(lanes)) : m.i32.const(1);
  if (sharedOk) inside = m.i32.and(inside, sharedOk());
  plan.conds.forEach((c, i) => {
    if (c.step !== 1) return;
    const range = () => m.i32.const(c.hi - c.lo); // one node per use: binaryen IR is a tree
    const last = m.i32.add(ds[i](), m.i32.const(plan.condSteps[i] * (lanes - 1)));
    inside = m.i32.and(inside, m.i32.and(m.i32.le_u(ds[i](), range()), m.i32.le_u(last, range())));
  });
  const interior: E[] = [];
  for (let h = 0; h < lanes / 4; h++) interior.push(m.v128.store(16 * h, 4, dst(), m.v128.load(16 * h, 4, E.address(buf, base(), 'float32'))));
  const border = f.block(() => laneHalves());
  f.push(m.if(inside, m.block(null, interior), border));

  function laneHalves(): void {
    const ok = f.local(binaryen.v128);
    const v = f.local(binaryen.v128);
    for (let h = 0; h < lanes / 4; h++) {
      const J = [0, 1, 2, 3].map((j) => 4 * h + j);
      const past = plan.wrap ? f.let(m.i32x4.ge_s(vconst(J), m.i32x4.splat(wrap())), binaryen.v128) : null;
      let mask: E = sharedOk ? m.i32x4.splat(m.i32.sub(m.i32.const(0), sharedOk())) : vconst([-1, -1, -1, -1]);
      plan.conds.forEach((c, i) => {
        if (c.step !== 1) return;
        let lane = m.i32x4.add(m.i32x4.splat(ds[i]()), vconst(J.map((j) => j * plan.condSteps[i])));
        if (past && plan.condDeltas[i] !== 0) lane = m.i32x4.add(lane, m.v128.and(past(), m.i32x4.splat(m.i32.const(plan.condDeltas[i]))));
        mask = m.v128.and(mask, m.i32x4.le_u(lane, m.i32x4.splat(m.i32.const(c.hi - c.lo))));
      });
      f.push(m.local.set(ok, mask));
      // Contiguous: the 4 lanes all before or all past the wrap.
      const first = m.i32.add(base(), m.i32.const(4 * h));
      const start = plan.wrap && plan.loadDelta !== 0 ? m.i32.add(first, m.select(m.i32.le_s(wrap(), m.i32.const(4 * h)), m.i32.const(plan.loadDelta), m.i32.const(0))) : first;
      const together = plan.wrap ? m.i32.or(m.i32.le_s(wrap(), m.i32.const(4 * h)), m.i32.ge_s(wrap(), m.i32.const(4 * h + 4))) : m.i32.const(1);
      const whole = m.v128.load(0, 4, E.address(buf, start, 'float32'));
      // Lane by lane: lanes outside the image read the buffer's first element, then are masked to 0.
      const parts: E[] = [m.local.set(v, m.v128.const(new Array(16).fill(0)))];
      for (let j = 0; j < 4; j++) {
        let ix: E = m.i32.add(base(), m.i32.const(4 * h + j));
        if (plan.wrap && plan.loadDelta !== 0) ix = m.i32.add(ix, m.select(m.i32.le_s(wrap(), m.i32.const(4 * h + j)), m.i32.const(plan.loadDelta), m.i32.const(0)));
        const addr = m.select(m.i32x4.extract_lane(m.local.get(ok, binaryen.v128), j), E.address(buf, ix, 'float32'), m.local.get(buf, I32));
        parts.push(m.local.set(v, m.f32x4.replace_lane(m.local.get(v, binaryen.v128), j, m.f32.load(0, 4, addr))));
      }
      parts.push(m.local.set(v, m.v128.and(m.local.get(v, binaryen.v128), m.local.get(ok, binaryen.v128))));
      const fast = m.i32.and(together, m.i8x16.all_true(m.local.get(ok, binaryen.v128)));
      f.push(m.if(fast, m.local.set(v, whole), m.block(null, parts)));
      f.push(m.v128.store(16 * h, 4, dst(), m.local.get(v, binaryen.v128)));
    }
  }
}

// ---- narrow rhs (N <= 16: conv's weight gradient, n over the 3x3 taps) ----------------------------
// With one or two panels their first columns are constants, so the part of each index that involves
// n is a known number per lane: lanes are base(k) + offset[lane], the guard a mask of constants added
// to a splat, and the loads 8 lane loads, for any atoms of n (several wraps included).

/** The part of an index that involves n, as a function of n (null when it involves n and another variable). */
function nPart(ix: Index, n: string): ((nv: number) => number | null) | null {
  const terms = ix.terms.filter((t) => ixVars({ terms: [t], offset: 0 }).has(n));
  if (terms.some((t) => ixVars({ terms: [t], offset: 0 }).size !== 1)) return null;
  const evalIx = (x: Index, nv: number): number | null => {
    let v = x.offset;
    for (const t of x.terms) {
      const a = t.atom;
      let av: number | null;
      if ('var' in a) av = a.var === n ? nv : null;
      else {
        const inner = evalIx('div' in a ? a.div : a.mod, nv);
        // wasm divides unsigned: only non-negative inner values agree with floor.
        if (inner === null || inner < 0) return null;
        av = 'div' in a ? Math.floor(inner / a.by) : inner % a.by;
      }
      if (av === null) return null;
      v += t.coeff * av;
    }
    return v;
  };
  const part: Index = { terms, offset: 0 };
  return (nv) => evalIx(part, nv);
}

export interface NarrowPlan {
  readonly load: Load;
  readonly conds: readonly IndexCond[];
  /** Per panel, per lane: null for a lane past N, else the n parts of the load index and each cond. */
  readonly lanes: readonly (readonly ({ load: number; conds: number[] } | null)[])[];
  /** The indices without their n parts (what is computed at run time). */
  readonly rest: { readonly load: Index; readonly conds: readonly Index[] };
}

export function narrowPlan(rhs: Expr, n: string, N: number, lanes: number): NarrowPlan | null {
  if (N > 2 * lanes) return null;
  const g = guardedLoad(rhs);
  if (!g || g.conds.some((c) => c.step !== 1)) return null;
  const { load, conds } = g;
  const ixs = [load.index, ...conds.map((c) => c.index)];
  const parts = ixs.map((ix) => nPart(ix, n));
  if (parts.some((p) => p === null)) return null;
  const table: ({ load: number; conds: number[] } | null)[][] = [];
  for (let p = 0; p < Math.ceil(N / lanes); p++) {
    const row: ({ load: number; conds: number[] } | null)[] = [];
    for (let j = 0; j < lanes; j++) {
      const nv = p * lanes + j;
      if (nv >= N) {
        row.push(null);
        continue;
      }
      const vals = parts.map((f) => f!(nv));
      if (vals.some((v) => v === null)) return null;
      row.push({ load: vals[0]!, conds: vals.slice(1) as number[] });
    }
    table.push(row);
  }
  const strip = (ix: Index): Index => ({ terms: ix.terms.filter((t) => !ixVars({ terms: [t], offset: 0 }).has(n)), offset: ix.offset });
  return { load, conds, lanes: table, rest: { load: strip(load.index), conds: conds.map((c) => strip(c.index)) } };
}

/** Packs one k row of static panel `p` to `dst` (lanes 4 at a time, masked lane loads). */
export function narrowRow(E: KernelEmitter, plan: NarrowPlan, p: number, dst: () => E): void {
  const { m, f } = E;
  const V128 = binaryen.v128;
  const vconst = (xs: number[]) => m.v128.const(Array.from(new Uint8Array(new Int32Array(xs).buffer)));
  const buf = plan.load.buf;
  const ds = plan.conds.map((c, i) => f.let(m.i32.sub(E.rawIndex(plan.rest.conds[i]), m.i32.const(c.lo)), I32));
  const base = f.let(E.rawIndex(plan.rest.load), I32);
  const ok = f.local(V128);
  const v = f.local(V128);
  const lanes = plan.lanes[p];
  for (let h = 0; h < lanes.length / 4; h++) {
    const quad = lanes.slice(4 * h, 4 * h + 4);
    if (quad.every((l) => l === null)) {
      f.push(m.v128.store(16 * h, 4, dst(), m.v128.const(new Array(16).fill(0))));
      continue;
    }
    let mask: E = vconst(quad.map((l) => (l ? -1 : 0)));
    plan.conds.forEach((c, i) => {
      const lane = m.i32x4.add(m.i32x4.splat(ds[i]()), vconst(quad.map((l) => (l ? l.conds[i] : 0))));
      mask = m.v128.and(mask, m.i32x4.le_u(lane, m.i32x4.splat(m.i32.const(c.hi - c.lo))));
    });
    f.push(m.local.set(ok, mask));
    f.push(m.local.set(v, m.v128.const(new Array(16).fill(0))));
    quad.forEach((l, j) => {
      if (!l) return;
      const addr = m.select(m.i32x4.extract_lane(m.local.get(ok, V128), j), E.address(buf, m.i32.add(base(), m.i32.const(l.load)), 'float32'), m.local.get(buf, I32));
      f.push(m.local.set(v, m.f32x4.replace_lane(m.local.get(v, V128), j, m.f32.load(0, 4, addr))));
    });
    f.push(m.v128.store(16 * h, 4, dst(), m.v128.and(m.local.get(v, V128), m.local.get(ok, V128))));
  }
}
