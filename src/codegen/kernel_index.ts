// Index algebra for kernel descriptions: affine forms over loop variables with floor-div/mod atoms,
// kept canonical and simplified with the variables' ranges, so that movement ops composed into an
// index (reshape after transpose after slice ...) come out as plain strides whenever they can.
import type { Index, IndexAtom, IndexTerm } from './kernel.js';
import { atomToString } from './kernel.js';

/** Loop variable -> extent (the variable ranges over [0, extent)). */
export type Ranges = ReadonlyMap<string, number>;

export const ixConst = (offset: number): Index => ({ terms: [], offset });
export const ixVar = (name: string): Index => ({ terms: [{ coeff: 1, atom: { var: name } }], offset: 0 });

/** Sorts and merges terms; drops zero coefficients; applies k*(x/k) + (x%k) -> x. */
function normalize(terms: IndexTerm[], offset: number): Index {
  const byKey = new Map<string, { coeff: number; atom: IndexAtom }>();
  for (const t of terms) {
    const key = atomToString(t.atom);
    const cur = byKey.get(key);
    if (cur) cur.coeff += t.coeff;
    else byKey.set(key, { coeff: t.coeff, atom: t.atom });
  }
  for (const [key, t] of byKey) if (t.coeff === 0) byKey.delete(key);
  // Recombine split pairs: c*k*(x/k) + c*(x%k) = c*x (what a reshape that merges dims leaves behind).
  for (const [key, t] of byKey) {
    if (!('div' in t.atom)) continue;
    const { div: x, by } = t.atom;
    if (t.coeff % by !== 0) continue;
    const modKey = atomToString({ mod: x, by });
    const m = byKey.get(modKey);
    if (!m || m.coeff * by !== t.coeff) continue;
    byKey.delete(key);
    byKey.delete(modKey);
    const merged = ixAdd({ terms: [...byKey.values()], offset }, ixScale(x, m.coeff));
    return merged;
  }
  const sorted = [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, t]) => ({ coeff: t.coeff, atom: t.atom }));
  return { terms: sorted, offset };
}

export function ixAdd(...xs: Index[]): Index {
  const terms: IndexTerm[] = [];
  let offset = 0;
  for (const x of xs) {
    terms.push(...x.terms);
    offset += x.offset;
  }
  return normalize(terms, offset);
}

export function ixScale(x: Index, k: number): Index {
  if (k === 0) return ixConst(0);
  if (k === 1) return x;
  return { terms: x.terms.map((t) => ({ coeff: t.coeff * k, atom: t.atom })), offset: x.offset * k };
}

export const ixSub = (a: Index, b: Index): Index => ixAdd(a, ixScale(b, -1));

/** Inclusive [lo, hi] of an atom, given loop variable ranges. */
function atomRange(a: IndexAtom, ranges: Ranges): [number, number] {
  if ('var' in a) {
    const n = ranges.get(a.var);
    return [0, n === undefined ? Infinity : Math.max(0, n - 1)];
  }
  if ('div' in a) {
    const [lo, hi] = ixRange(a.div, ranges);
    return [Math.floor(lo / a.by), Math.floor(hi / a.by)];
  }
  const [lo, hi] = ixRange(a.mod, ranges);
  return lo >= 0 && hi < a.by ? [lo, hi] : [0, a.by - 1];
}

/** Inclusive range [lo, hi] of an index over the loop variables' ranges. */
export function ixRange(x: Index, ranges: Ranges): [number, number] {
  let lo = x.offset;
  let hi = x.offset;
  for (const t of x.terms) {
    const [a, b] = atomRange(t.atom, ranges);
    if (t.coeff >= 0) {
      lo += t.coeff * a;
      hi += t.coeff * b;
    } else {
      lo += t.coeff * b;
      hi += t.coeff * a;
    }
  }
  return [lo, hi];
}

const gcd = (a: number, b: number): number => {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
};

/** Splits x into k*q + r where every coefficient of r is not a multiple of k and 0 <= r.offset < k. */
function splitBy(x: Index, k: number): { q: Index; r: Index } {
  const qt: IndexTerm[] = [];
  const rt: IndexTerm[] = [];
  for (const t of x.terms) {
    if (t.coeff % k === 0) qt.push({ coeff: t.coeff / k, atom: t.atom });
    else rt.push(t);
  }
  const qo = Math.floor(x.offset / k);
  return { q: { terms: qt, offset: qo }, r: { terms: rt, offset: x.offset - qo * k } };
}

/** floor(x / k) for x >= 0 (callers only divide non-negative indices), k > 0. */
export function ixDiv(x: Index, k: number, ranges: Ranges): Index {
  if (k === 1) return x;
  const [lo, hi] = ixRange(x, ranges);
  if (lo >= 0 && hi < k) return ixConst(0);
  // floor((k*q + r) / k) = q + floor(r / k) for integer q.
  const { q, r } = splitBy(x, k);
  const [rlo, rhi] = ixRange(r, ranges);
  if (rlo >= 0 && rhi < k) return normalize([...q.terms], q.offset);
  // A common factor of r and k cancels: floor(g*r' / (g*k')) = floor(r' / k').
  let g = k;
  for (const t of r.terms) g = gcd(g, t.coeff);
  g = gcd(g, r.offset);
  let rr = r;
  let kk = k;
  if (g > 1) {
    rr = { terms: r.terms.map((t) => ({ coeff: t.coeff / g, atom: t.atom })), offset: r.offset / g };
    kk = k / g;
  }
  // floor(floor(y / a) / b) = floor(y / (a*b)).
  if (rr.terms.length === 1 && rr.offset === 0 && rr.terms[0].coeff === 1 && 'div' in rr.terms[0].atom) {
    const inner = rr.terms[0].atom;
    return ixAdd(q, ixDiv(inner.div, inner.by * kk, ranges));
  }
  const atom: IndexAtom = { div: rr, by: kk };
  return ixAdd(q, { terms: [{ coeff: 1, atom }], offset: 0 });
}

/** x mod k for x >= 0, k > 0. */
export function ixMod(x: Index, k: number, ranges: Ranges): Index {
  if (k === 1) return ixConst(0);
  const [lo, hi] = ixRange(x, ranges);
  if (lo >= 0 && hi < k) return x;
  const { r } = splitBy(x, k);
  const [rlo, rhi] = ixRange(r, ranges);
  if (rlo >= 0 && rhi < k) return r;
  let g = k;
  for (const t of r.terms) g = gcd(g, t.coeff);
  g = gcd(g, r.offset);
  if (g > 1) {
    // (g*r') mod (g*k') = g * (r' mod k').
    const rr = { terms: r.terms.map((t) => ({ coeff: t.coeff / g, atom: t.atom })), offset: r.offset / g };
    return ixScale(ixMod(rr, k / g, ranges), g);
  }
  return { terms: [{ coeff: 1, atom: { mod: r, by: k } }], offset: 0 };
}

/** Row-major linear index of a multi-index over `shape`. */
export function ixLinear(multi: readonly Index[], shape: readonly number[]): Index {
  let acc = ixConst(0);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1) acc = ixAdd(acc, ixScale(multi[d], stride));
    stride *= shape[d];
  }
  return acc;
}

/** The multi-index over `shape` of a row-major linear index. */
export function ixDelinearize(linear: Index, shape: readonly number[], ranges: Ranges): Index[] {
  const out: Index[] = new Array(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    out[d] = n === 1 ? ixConst(0) : d === 0 ? ixDiv(linear, stride, ranges) : ixMod(ixDiv(linear, stride, ranges), n, ranges);
    stride *= n;
  }
  return out;
}

/** Whether the loop variable occurs anywhere in the index (in an atom or a term). */
export function ixUses(x: Index, name: string): boolean {
  return x.terms.some((t) => atomUses(t.atom, name));
}
function atomUses(a: IndexAtom, name: string): boolean {
  if ('var' in a) return a.var === name;
  return ixUses('div' in a ? a.div : a.mod, name);
}

/** Every loop variable the index reads. */
export function ixVars(x: Index, into: Set<string> = new Set()): Set<string> {
  for (const t of x.terms) {
    const a = t.atom;
    if ('var' in a) into.add(a.var);
    else ixVars('div' in a ? a.div : a.mod, into);
  }
  return into;
}

/**
 * The coefficient of `name` when the index is affine in it (it occurs only as a plain term), 0 when
 * it does not occur, null when it hides inside a div/mod atom.
 */
export function ixCoeff(x: Index, name: string): number | null {
  let c = 0;
  for (const t of x.terms) {
    if ('var' in t.atom) {
      if (t.atom.var === name) c += t.coeff;
    } else if (atomUses(t.atom, name)) return null;
  }
  return c;
}

/** Replaces loop variable `name` by an index everywhere (re-simplifying atoms). */
export function ixSubst(x: Index, name: string, by: Index, ranges: Ranges): Index {
  if (!ixUses(x, name)) return x;
  let acc = ixConst(x.offset);
  for (const t of x.terms) {
    const a = t.atom;
    let v: Index;
    if ('var' in a) v = a.var === name ? by : ixVar(a.var);
    else if ('div' in a) v = ixDiv(ixSubst(a.div, name, by, ranges), a.by, ranges);
    else v = ixMod(ixSubst(a.mod, name, by, ranges), a.by, ranges);
    acc = ixAdd(acc, ixScale(v, t.coeff));
  }
  return acc;
}

export function ixEqual(a: Index, b: Index): boolean {
  if (a.offset !== b.offset || a.terms.length !== b.terms.length) return false;
  return a.terms.every((t, i) => t.coeff === b.terms[i].coeff && atomToString(t.atom) === atomToString(b.terms[i].atom));
}
