// VJP rules of the contractions and windows: dot_general (any dimension numbers), conv (input grad as a
// conv of the lhs-dilated cotangent with the flipped, group-transposed kernel; weight grad as a conv over
// the batch), and reduce_window (sum through a conv with a ones kernel, max through tap masks).
import type { PadPair } from '../../ir/ops.js';
import type { AttrMap } from '../../ir/ops.js';
import { sizeOf } from '../../ir/shape.js';
import { Emit, add, div, cast, eq, full, maskWhere, op1, pad, reshape, slice, transpose, zerosLike } from './emit.js';

const range = (a: number, b: number) => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

/** The transpose that puts dims listed as `src` (result dim k holds operand dim src[k]) back in operand order. */
const placeBack = (src: number[]) => src.map((_, j) => src.indexOf(j));

// ---- dot_general ----------------------------------------------------------------------------------

/**
 * d lhs: contract g's rhs-free dims with rhs's free dims, batch as before; the result comes out as
 * [batch, lhs free, rhs contracting dims (sorted)], which a transpose puts back in lhs order.
 */
export function dotGeneralVjp<T>(e: Emit<T>, a: T, b: T, g: T, { contract, batch }: AttrMap['dot_general'], needs: readonly boolean[]): (T | null)[] {
  const [ca, cb] = contract;
  const [ba, bb] = batch;
  const ra = e.type(a).shape.length;
  const rb = e.type(b).shape.length;
  const freeA = range(0, ra).filter((d) => !ca.includes(d) && !ba.includes(d));
  const freeB = range(0, rb).filter((d) => !cb.includes(d) && !bb.includes(d));
  const nb = ba.length;
  const gBatch = range(0, nb);
  const gFreeA = range(nb, nb + freeA.length);
  const gFreeB = range(nb + freeA.length, nb + freeA.length + freeB.length);
  let ga: T | null = null;
  let gb: T | null = null;
  if (needs[0]) {
    const r = op1(e, 'dot_general', [g, b], { contract: [gFreeB, freeB], batch: [gBatch, bb] });
    const sortedCb = [...cb].sort((x, y) => x - y);
    ga = transpose(e, r, placeBack([...ba, ...freeA, ...sortedCb.map((d) => ca[cb.indexOf(d)])]));
  }
  if (needs[1]) {
    const r = op1(e, 'dot_general', [g, a], { contract: [gFreeA, freeA], batch: [gBatch, ba] });
    const sortedCa = [...ca].sort((x, y) => x - y);
    gb = transpose(e, r, placeBack([...bb, ...freeB, ...sortedCa.map((d) => cb[ca.indexOf(d)])]));
  }
  return [ga, gb];
}

// ---- conv -----------------------------------------------------------------------------------------

/**
 * Cotangent of conv's lhs: out position p, tap k read dilated input q = p*s + k*rd - lo, so input i
 * (dilated q = i*ld) collects g through the flipped kernel: a conv of g dilated by s, stride ld,
 * low padding (K-1)*rd - lo and high padding chosen so exactly X positions come out.
 */
export function convLhsVjp<T>(e: Emit<T>, g: T, w: T, lhsShape: readonly number[], attrs: AttrMap['conv']): T {
  const { stride, padding, lhsDilation, rhsDilation, groups } = attrs;
  const ws = e.type(w).shape;
  const gs = e.type(g).shape;
  const dtype = e.type(g).dtype;
  if (sizeOf(gs) === 0 || sizeOf(ws) === 0) return full(e, { dtype, shape: lhsShape }, 0);
  const [O, Cg, ...K] = ws;
  const sp = K.map((_, i) => i + 2);
  const G = groups;
  const wg = reshape(e, w, [G, O / G, Cg, ...K]);
  const wt = transpose(e, wg, [0, 2, 1, ...K.map((_, i) => i + 3)]);
  const wFlip = op1(e, 'flip', [reshape(e, wt, [G * Cg, O / G, ...K])], { axes: sp });
  const pads: PadPair[] = K.map((k, i) => {
    const lo = (k - 1) * rhsDilation[i] - padding[i][0];
    const gd = (gs[i + 2] - 1) * stride[i] + 1;
    const kd = (k - 1) * rhsDilation[i] + 1;
    return [lo, (lhsShape[i + 2] - 1) * lhsDilation[i] + kd - gd - lo];
  });
  return op1(e, 'conv', [g, wFlip], { stride: [...lhsDilation], padding: pads, lhsDilation: [...stride], rhsDilation: [...rhsDilation], groups: G });
}

/**
 * Cotangent of conv's rhs: gw[o, c, k] = sum over n, p of g[n, o, p] * x[n, group(o)*Cg + c, p*s + k*rd - lo]:
 * a conv whose batch is the in-group channel, whose channels are (group, n) and whose kernel is g.
 */
export function convRhsVjp<T>(e: Emit<T>, x: T, g: T, rhsShape: readonly number[], attrs: AttrMap['conv']): T {
  const { stride, padding, lhsDilation, rhsDilation, groups } = attrs;
  const xs = e.type(x).shape;
  const gs = e.type(g).shape;
  const dtype = e.type(g).dtype;
  if (sizeOf(gs) === 0 || sizeOf(xs) === 0) return full(e, { dtype, shape: rhsShape }, 0);
  const [N, C, ...X] = xs;
  const [O, Cg, ...K] = rhsShape;
  const P = gs.slice(2);
  const G = groups;
  const spX = X.map((_, i) => i + 3);
  const lhs = reshape(e, transpose(e, reshape(e, x, [N, G, C / G, ...X]), [2, 1, 0, ...spX]), [Cg, G * N, ...X]);
  const rhs = reshape(e, transpose(e, reshape(e, g, [N, G, O / G, ...P]), [1, 2, 0, ...spX]), [O, N, ...P]);
  const pads: PadPair[] = K.map((k, i) => {
    const xd = (X[i] - 1) * lhsDilation[i] + 1;
    const gd = (P[i] - 1) * stride[i] + 1;
    return [padding[i][0], (k - 1) * rhsDilation[i] + gd - xd - padding[i][0]];
  });
  const r = op1(e, 'conv', [lhs, rhs], { stride: [...rhsDilation], padding: pads, lhsDilation: [...lhsDilation], rhsDilation: [...stride], groups: G });
  return transpose(e, r, [1, 0, ...K.map((_, i) => i + 2)]);
}

// ---- reduce_window --------------------------------------------------------------------------------

/** Window sum: every input collects the cotangents of the windows covering it (a conv with a ones kernel). */
export function windowSumVjp<T>(e: Emit<T>, x: T, g: T, attrs: AttrMap['reduce_window']): T {
  const xs = e.type(x).shape;
  const gs = e.type(g).shape;
  const nd = attrs.window.length;
  if (nd === 0) return g;
  const dtype = e.type(g).dtype;
  if (sizeOf(gs) === 0) return zerosLike(e, x);
  const lead = xs.length - nd;
  const L = sizeOf(xs.slice(0, lead));
  const g4 = reshape(e, g, [L, 1, ...gs.slice(lead)]);
  const ones = full(e, { dtype, shape: [1, 1, ...attrs.window] }, 1);
  const convAttrs: AttrMap['conv'] = {
    stride: [...attrs.stride], padding: attrs.padding.map((p) => [p[0], p[1]] as PadPair),
    lhsDilation: attrs.window.map(() => 1), rhsDilation: attrs.window.map(() => 1), groups: 1,
  };
  const r = convLhsVjp(e, g4, ones, [L, 1, ...xs.slice(lead)], convAttrs);
  return reshape(e, r, xs);
}

/**
 * Window max: for each tap of the window, a strided slice of the (-inf padded) input lines up with the
 * output; taps equal to the max share the cotangent evenly (ties split, like reduce_max), and each tap's
 * share goes back to its input positions through a pad with interior stride-1 (negative pads crop).
 */
export function windowMaxVjp<T>(e: Emit<T>, x: T, y: T, g: T, attrs: AttrMap['reduce_window']): T {
  const xs = e.type(x).shape;
  const gs = e.type(g).shape;
  const { window, stride, padding } = attrs;
  const nd = window.length;
  if (sizeOf(gs) === 0 || sizeOf(xs) === 0) return zerosLike(e, x);
  const lead = xs.length - nd;
  const z = (n: number) => new Array<number>(n).fill(0);
  const xp = pad(e, x, [...z(lead), ...padding.map((p) => p[0])], [...z(lead), ...padding.map((p) => p[1])], z(xs.length), -Infinity);
  const taps: number[][] = [];
  const walk = (d: number, acc: number[]) => {
    if (d === nd) taps.push(acc);
    else for (let k = 0; k < window[d]; k++) walk(d + 1, [...acc, k]);
  };
  walk(0, []);
  const P = gs.slice(lead);
  const masks = taps.map((k) => {
    const start = [...z(lead), ...k];
    const limit = [...xs.slice(0, lead), ...k.map((ki, i) => ki + (P[i] - 1) * stride[i] + 1)];
    const xk = slice(e, xp, start, limit, [...xs.slice(0, lead).map(() => 1), ...stride]);
    return eq(e, xk, y);
  });
  const dtype = e.type(g).dtype;
  let count = cast(e, masks[0], dtype);
  for (const m of masks.slice(1)) count = add(e, count, cast(e, m, dtype));
  const share = div(e, g, count);
  let gx: T | null = null;
  taps.forEach((k, t) => {
    const low = k.map((ki, i) => ki - padding[i][0]);
    const high = k.map((_, i) => xs[lead + i] - low[i] - ((P[i] - 1) * stride[i] + 1));
    const back = pad(e, maskWhere(e, masks[t], share), [...z(lead), ...low], [...z(lead), ...high], [...z(lead), ...stride.map((s) => s - 1)]);
    gx = gx === null ? back : add(e, gx, back);
  });
  return gx!;
}
