// Transcendental functions for float32 kernels, written once over `Lanes` (scalar f32 or f32x4):
// range reduction plus a short polynomial, accurate to about 1-2 ulp (test/wasm/math.test.ts checks
// them against Math.* in float64). pow, float mod and the integer ops that need branches or division
// are scalar-only helpers at the end (kernels using them are not vectorized).
import binaryen from './binaryen.js';
import type { E } from './binaryen.js';
import type { FnBuilder, Get } from './lanes.js';
import { Lanes, Lanes64 } from './lanes.js';
import { buildFmodf, buildSinCosBig } from './math_helpers.js';

const LOG2E = 1.4426950408889634;
// ln 2 split for Cody-Waite reduction: n*LN2_HI is exact for the n an f32 exp can meet.
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;

/** Horner evaluation of c[0] + c[1]*x + c[2]*x^2 + ... */
function horner(L: Lanes, x: Get, c: readonly number[]): E {
  let acc = L.fc(c[c.length - 1]);
  for (let i = c.length - 2; i >= 0; i--) acc = L.fma(acc, x(), L.fc(c[i]));
  return acc;
}

/**
 * e^r - 1 for |r| <= ln2/2: r + r^2 q(r), q a degree-4 fit (relative error 3e-9 in exact
 * arithmetic; two coefficients fewer than Taylor to the same accuracy).
 */
const EXPM1_Q = [0.4999999403953552, 0.1666652113199234, 0.04166838899254799, 0.008368710055947304, 0.0013814610429108143];
function expm1Poly(L: Lanes, r: Get): E {
  // Estrin's scheme: a shorter dependency chain than Horner for the same operation count.
  const c = EXPM1_Q;
  const r2 = L.flet(L.fmul(r(), r()));
  const lo = L.fma(L.fc(c[1]), r(), L.fc(c[0]));
  const hi = L.fma(L.fma(L.fc(c[4]), r2(), L.fma(L.fc(c[3]), r(), L.fc(c[2]))), r2(), lo);
  return L.fma(r2(), hi, r());
}

/** 2^n as two normal floats whose product is 2^n, for integer lanes n in [-252, 254] (so subnormals round once). */
function pow2Split(L: Lanes, ni: Get): [Get, Get] {
  const n1 = L.ilet(L.ishrS(ni(), 1));
  const n2 = L.isub(ni(), n1());
  const scale = (k: E) => L.ibits(L.ishl(L.iadd(k, L.ic(127)), 23));
  return [L.flet(scale(n1())), L.flet(scale(n2))];
}

/** 1.5 * 2^23: adding it rounds a float below 2^22 to an integer, whose value then sits in the low mantissa bits. */
const ROUNDER = 12582912;

/**
 * Reduces x = n ln2 + r with |r| <= ln2/2 (x clamped so 2^n stays in pow2Split's range). n comes
 * both as a float and as integer lanes, by the add-a-magic-number trick rather than round + convert.
 */
function reduceLn2(L: Lanes, x: E): { n: Get; ni: Get; r: Get } {
  const xc = L.flet(L.fminC(L.fmaxC(x, -104), 89));
  const t = L.flet(L.fadd(L.fmul(xc(), L.fc(LOG2E)), L.fc(ROUNDER)));
  const n = L.flet(L.fsub(t(), L.fc(ROUNDER)));
  const ni = L.ilet(L.isub(L.fbits(t()), L.ic(0x4b400000)));
  const r = L.flet(L.fsub(L.fsub(xc(), L.fmul(n(), L.fc(LN2_HI))), L.fmul(n(), L.fc(LN2_LO))));
  return { n, ni, r };
}

/** ROUNDER + 127: the rounded integer then sits in the low bits already biased, so 2^n is one shift. */
const ROUNDER_BIASED = ROUNDER + 127;

/**
 * The common case of exp and expm1, for |x| <= FAST_LIMIT (or NaN), where n stays in [-126, 126]
 * and 2^n is a normal float built by one shift: no clamps, no split scale.
 */
function reduceFast(L: Lanes, x: Get): { s: Get; r: Get } {
  const t = L.flet(L.fadd(L.fmul(x(), L.fc(LOG2E)), L.fc(ROUNDER_BIASED)));
  const n = L.flet(L.fsub(t(), L.fc(ROUNDER_BIASED)));
  const s = L.flet(L.ibits(L.ishl(L.fbits(t()), 23)));
  const r = L.flet(L.fsub(L.fsub(x(), L.fmul(n(), L.fc(LN2_HI))), L.fmul(n(), L.fc(LN2_LO))));
  return { s, r };
}
const FAST_LIMIT = 87;

/** exp over the whole range (clamped reduction, 2^n in two factors so subnormal results round once). */
function expFull(L: Lanes, x: E): E {
  const { ni, r } = reduceLn2(L, x);
  const y = L.fadd(expm1Poly(L, r), L.fc(1));
  const [s1, s2] = pow2Split(L, ni);
  return L.fmul(L.fmul(y, s1()), s2());
}

/**
 * exp. Vectors take the short path and fall back to the full one only when some lane has
 * |x| > FAST_LIMIT (rare in practice: softmax arguments are x - max, activations are moderate).
 */
export function exp(L: Lanes, x0: E): E {
  if (!L.vec) return expFull(L, x0);
  const x = L.flet(x0);
  const { s, r } = reduceFast(L, x);
  const fast = L.flet(L.fmul(L.fadd(expm1Poly(L, r), L.fc(1)), s()));
  const rare = L.any(L.fgt(L.fabs(x()), L.fc(FAST_LIMIT)));
  return L.m.if(rare, L.f.block(() => expFull(L, x()), L.FT), fast());
}

/**
 * e^x - 1. `moderate`: the caller guarantees 0 <= x <= 18 or NaN (tanh), where the short reduction
 * applies and 2^n - 1 is exact.
 */
export function expm1(L: Lanes, x: E, moderate = false): E {
  if (moderate) {
    const { s, r } = reduceFast(L, L.flet(x));
    const p = expm1Poly(L, r);
    return L.fadd(L.fmul(s(), p), L.fsub(s(), L.fc(1)));
  }
  const { n, ni, r } = reduceLn2(L, x);
  const p = L.flet(expm1Poly(L, r));
  const [s1, s2] = pow2Split(L, ni);
  // 2^n (p + 1) - 1: as s*p + (s - 1) while 2^n is small (exact s - 1), else scaled in two steps.
  const s = L.flet(L.fmul(s1(), s2()));
  const small = L.fadd(L.fmul(s(), p()), L.fsub(s(), L.fc(1)));
  const big = L.fsub(L.fmul(L.fmul(L.fadd(p(), L.fc(1)), s1()), s2()), L.fc(1));
  return L.fsel(L.fgt(n(), L.fc(24)), big, small);
}

// log: x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)); log(1+f) = f - f^2/2 + s (f^2/2 + R(s^2)),
// s = f / (2 + f) (the classic fdlibm/musl formulation; the constants are musl's logf minimax fit).
const LOG_LG1 = 0xaaaaaa / 2 ** 24;
const LOG_LG2 = 0xccce13 / 2 ** 25;
const LOG_LG3 = 0x91e9ee / 2 ** 25;
const LOG_LG4 = 0xf89e26 / 2 ** 26;
const LN2_HI_LOG = 6.9313812256e-1;
const LN2_LO_LOG = 9.0580006145e-6;

export function log(L: Lanes, x0: E): E {
  const x = L.flet(x0);
  // Subnormals are scaled into the normal range first.
  const sub = L.mlet(L.flt(x(), L.fc(1.1754943508222875e-38)));
  const xs = L.fsel(sub(), L.fmul(x(), L.fc(8388608)), x());
  const k0 = L.isel(sub(), L.ic(-23), L.ic(0));
  const ix = L.ilet(L.iadd(L.fbits(xs), L.ic(0x3f800000 - 0x3f3504f3)));
  const k = L.iadd(k0, L.isub(L.ishrS(ix(), 23), L.ic(0x7f)));
  const f = L.flet(L.fsub(L.ibits(L.iadd(L.iand(ix(), L.ic(0x007fffff)), L.ic(0x3f3504f3))), L.fc(1)));
  const s = L.flet(L.fdiv(f(), L.fadd(L.fc(2), f())));
  const z = L.flet(L.fmul(s(), s()));
  const w = L.flet(L.fmul(z(), z()));
  const t1 = L.fmul(w(), L.fma(w(), L.fc(LOG_LG4), L.fc(LOG_LG2)));
  const t2 = L.fmul(z(), L.fma(w(), L.fc(LOG_LG3), L.fc(LOG_LG1)));
  const R = L.fadd(t2, t1);
  const hfsq = L.flet(L.fmul(L.fmul(L.fc(0.5), f()), f()));
  const dk = L.flet(L.itof(k));
  const res = L.fadd(L.fadd(L.fsub(L.fadd(L.fmul(s(), L.fadd(hfsq(), R)), L.fmul(dk(), L.fc(LN2_LO_LOG))), hfsq()), f()), L.fmul(dk(), L.fc(LN2_HI_LOG)));
  // 0 -> -inf, +inf -> +inf, negative or NaN -> NaN.
  const special = L.fsel(L.feq(x(), L.fc(0)), L.fc(-Infinity), L.fsel(L.feq(x(), L.fc(Infinity)), L.fc(Infinity), L.fc(NaN)));
  return L.fsel(L.mand(L.fgt(x(), L.fc(0)), L.flt(x(), L.fc(Infinity))), res, special);
}

/** log(1 + x) via Kahan's trick: log(u) * x / (u - 1) with u = 1 + x rounded. */
export function log1p(L: Lanes, x0: E): E {
  const x = L.flet(x0);
  const u = L.flet(L.fadd(L.fc(1), x()));
  const lu = log(L, u());
  const r = L.fmul(lu, L.fdiv(x(), L.fsub(u(), L.fc(1))));
  return L.fsel(L.mor(L.feq(u(), L.fc(1)), L.feq(x(), L.fc(Infinity))), x(), r);
}

/** tanh = expm1(2|x|) / (expm1(2|x|) + 2) with the sign restored; |x| >= 9 rounds to +-1. */
export function tanh(L: Lanes, x0: E): E {
  const x = L.flet(x0);
  const ax = L.fminC(L.fabs(x()), 9);
  const t = L.flet(expm1(L, L.fmul(ax, L.fc(2)), true));
  return L.fcopysign(L.fdiv(t(), L.fadd(t(), L.fc(2))), x());
}

/** 1 / (1 + e^-x), taking exp only of -|x| so nothing overflows (as the interpreter). */
export function sigmoid(L: Lanes, x0: E): E {
  const x = L.flet(x0);
  const e = L.flet(exp(L, L.fneg(L.fabs(x()))));
  const r = L.flet(L.fdiv(L.fc(1), L.fadd(L.fc(1), e())));
  return L.fsel(L.fge(x(), L.fc(0)), r(), L.fmul(e(), r()));
}

// ---- sin / cos -----------------------------------------------------------------------------------

// pi/2 split (fdlibm): the first 33 bits, so n * PIO2_1 is exact in f64 for |n| < 2^20.
const PIO2_1 = 1.57079632673412561417;
const PIO2_1T = 6.07710050650619224932e-11;
const TWO_OVER_PI = 0.6366197723675814;

/**
 * x = q pi/2 + r with |r| <= pi/4, computed in f64 (accurate for |x| up to ~1.6e6, degrading
 * gracefully beyond): returns r as f32 lanes and q as int lanes.
 */
function reduceHalfPi(L: Lanes, x: E): { r: Get; q: Get } {
  const m = L.m;
  const one = (D: Lanes64, d: E) => {
    const dd = D.let(d);
    const n = D.let(D.nearest(D.mul(dd(), D.c(TWO_OVER_PI))));
    const r = D.sub(D.sub(dd(), D.mul(n(), D.c(PIO2_1))), D.mul(n(), D.c(PIO2_1T)));
    return { n, r };
  };
  if (!L.vec) {
    const D = new Lanes64(L.f, 1);
    const { n, r } = one(D, m.f64.promote(x));
    const rr = L.flet(m.f32.demote(r));
    return { r: rr, q: L.ilet(m.i32.trunc_s_sat.f64(n())) };
  }
  const D = new Lanes64(L.f, 2);
  const xv = L.flet(x);
  const lo = one(D, m.f64x2.promote_low_f32x4(xv()));
  const hi = one(D, m.f64x2.promote_low_f32x4(m.i8x16.shuffle(xv(), xv(), [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15])));
  const join = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const r = m.i8x16.shuffle(m.f32x4.demote_f64x2_zero(lo.r), m.f32x4.demote_f64x2_zero(hi.r), join);
  const rr = L.flet(r);
  const q = m.i8x16.shuffle(m.i32x4.trunc_sat_f64x2_s_zero(lo.n()), m.i32x4.trunc_sat_f64x2_s_zero(hi.n()), join);
  return { r: rr, q: L.ilet(q) };
}

// Minimax polynomials on [-pi/4, pi/4] (Cephes sinf/cosf).
function sinPoly(L: Lanes, r: Get, z: Get): E {
  const p = horner(L, z, [-1.6666654611e-1, 8.3321608736e-3, -1.9515295891e-4]);
  return L.fma(L.fmul(p, z()), r(), r());
}
function cosPoly(L: Lanes, z: Get): E {
  const p = horner(L, z, [4.166664568298827e-2, -1.388731625493765e-3, 2.443315711809948e-5]);
  return L.fadd(L.fsub(L.fmul(L.fmul(p, z()), z()), L.fmul(L.fc(0.5), z())), L.fc(1));
}

/** Beyond this the f64 Cody-Waite reduction (n < 2^20) loses accuracy. */
const BIG_ARGUMENT = 1e6;

function sinCos(L: Lanes, x: E, isCos: boolean): E {
  const xx = L.flet(x);
  const { r, q } = reduceHalfPi(L, xx());
  const z = L.flet(L.fmul(r(), r()));
  const s = L.flet(sinPoly(L, r, z));
  const c = L.flet(cosPoly(L, z));
  const qq = isCos ? L.ilet(L.iadd(q(), L.ic(1))) : q;
  // sin: q=0 s, 1 c, 2 -s, 3 -c; cos(x) = sin(x + pi/2): the same table at q + 1.
  const useCos = L.ine(L.iand(qq(), L.ic(1)), L.ic(0));
  const neg = L.ine(L.iand(qq(), L.ic(2)), L.ic(0));
  const v = L.flet(L.fsel(useCos, c(), s()));
  const fast = L.fsel(neg, L.fneg(v()), v());
  return withBigArguments(L, xx, fast, isCos);
}

/** Lanes with |x| beyond the f64 reduction's range call the Payne-Hanek helper instead. */
function withBigArguments(L: Lanes, x: Get, fast: E, isCos: boolean): E {
  const m = L.m;
  const name = L.f.helpers.use(isCos ? 'kiln_cos_big' : 'kiln_sin_big', buildSinCosBig(isCos));
  const big = (e: E) => m.f32.gt(m.f32.abs(e), m.f32.const(BIG_ARGUMENT));
  if (!L.vec) {
    const fastV = L.flet(fast);
    return m.if(big(x()), m.call(name, [x()], binaryen.f32), fastV());
  }
  const out = L.flet(fast);
  const l = L.f.local(binaryen.v128);
  L.f.push(m.local.set(l, out()));
  const lanes = [0, 1, 2, 3].map((j) =>
    m.local.set(l, m.f32x4.replace_lane(m.local.get(l, binaryen.v128), j,
      m.if(big(m.f32x4.extract_lane(x(), j)), m.call(name, [m.f32x4.extract_lane(x(), j)], binaryen.f32), m.f32x4.extract_lane(m.local.get(l, binaryen.v128), j)))));
  L.f.push(m.if(L.any(L.fgt(L.fabs(x()), L.fc(BIG_ARGUMENT))), m.block(null, lanes)));
  return m.local.get(l, binaryen.v128);
}

export const sin = (L: Lanes, x: E): E => sinCos(L, x, false);
export const cos = (L: Lanes, x: E): E => sinCos(L, x, true);

// ---- erf -----------------------------------------------------------------------------------------

// erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)) for |x| < 1.
const ERF_TAYLOR = Array.from({ length: 12 }, (_, n) => {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return ((n % 2 ? -1 : 1) * 1.1283791670955126) / (f * (2 * n + 1));
});
// erfc(x) ~ t exp(-x^2 + P(t)), t = 1/(1 + x/2) (Numerical Recipes' Chebyshev fit, relative error
// below 1.2e-7), used for |x| >= 1 where erf = 1 - erfc loses nothing.
const ERFC_P = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];

export function erf(L: Lanes, x0: E): E {
  const x = L.flet(x0);
  const ax = L.flet(L.fabs(x()));
  const z = L.flet(L.fmul(ax(), ax()));
  const small = L.fmul(ax(), horner(L, z, ERF_TAYLOR));
  const t = L.flet(L.fdiv(L.fc(1), L.fadd(L.fc(1), L.fmul(L.fc(0.5), ax()))));
  const erfc = L.fmul(t(), exp(L, L.fsub(horner(L, t, ERFC_P), z())));
  const large = L.fsub(L.fc(1), erfc);
  return L.fcopysign(L.fsel(L.flt(ax(), L.fc(1)), small, large), x());
}

// ---- atan2 ---------------------------------------------------------------------------------------

/** atan(t) for t >= 0 (Cephes atanf: reduction by tan(pi/8), tan(3pi/8), then an odd polynomial). */
function atanPos(L: Lanes, t0: E): E {
  const t = L.flet(t0);
  const big = L.mlet(L.fgt(t(), L.fc(2.414213562373095)));
  const mid = L.mlet(L.fgt(t(), L.fc(0.4142135623730950)));
  const xr = L.flet(L.fsel(big(), L.fdiv(L.fc(-1), t()), L.fsel(mid(), L.fdiv(L.fsub(t(), L.fc(1)), L.fadd(t(), L.fc(1))), t())));
  const y0 = L.fsel(big(), L.fc(Math.PI / 2), L.fsel(mid(), L.fc(Math.PI / 4), L.fc(0)));
  const z = L.flet(L.fmul(xr(), xr()));
  const p = horner(L, z, [-3.33329491539e-1, 1.99777106478e-1, -1.38776856032e-1, 8.05374449538e-2]);
  return L.fadd(y0, L.fma(L.fmul(p, z()), xr(), xr()));
}

const PI_HI = Math.fround(Math.PI);
const PI_LO = Math.PI - PI_HI;

export function atan2(L: Lanes, y0: E, x0: E): E {
  const y = L.flet(y0);
  const x = L.flet(x0);
  const ay = L.flet(L.fabs(y()));
  const ax = L.flet(L.fabs(x()));
  let r = L.flet(atanPos(L, L.fdiv(ay(), ax())));
  const inf = () => L.fc(Infinity);
  r = L.flet(L.fsel(L.mand(L.feq(ay(), inf()), L.feq(ax(), inf())), L.fc(Math.PI / 4), r()));
  r = L.flet(L.fsel(L.feq(ay(), L.fc(0)), L.fc(0), r()));
  // Left half-plane (x negative or -0): pi - r.
  const left = L.ilt(L.fbits(x()), L.ic(0));
  r = L.flet(L.fsel(left, L.fadd(L.fsub(L.fc(PI_HI), r()), L.fc(PI_LO)), r()));
  const nan = L.mor(L.fne(x(), x()), L.fne(y(), y()));
  return L.fsel(nan, L.fc(NaN), L.fcopysign(r(), y()));
}

// ---- scalar-only helpers (f64 inside) ------------------------------------------------------------

const F64 = binaryen.f64;
const I32 = binaryen.i32;

/** log(x) in f64 for positive, finite, normal x (atanh series on the mantissa). */
function log64(f: FnBuilder, x0: E): E {
  const m = f.m;
  const bits = f.let(m.i64.reinterpret(x0), binaryen.i64);
  const e0 = m.i32.sub(m.i32.wrap(m.i64.shr_u(bits(), m.i64.const(52n))), m.i32.const(1023));
  const mant = f.let(m.f64.reinterpret(m.i64.or(m.i64.and(bits(), m.i64.const(0x000fffffffffffffn)), m.i64.const(0x3ff0000000000000n))), F64);
  const big = f.let(m.f64.gt(mant(), m.f64.const(Math.SQRT2)), I32);
  const mm = f.let(m.select(big(), m.f64.mul(mant(), m.f64.const(0.5)), mant()), F64);
  const e = m.i32.add(e0, big());
  const s = f.let(m.f64.div(m.f64.sub(mm(), m.f64.const(1)), m.f64.add(mm(), m.f64.const(1))), F64);
  const s2 = f.let(m.f64.mul(s(), s()), F64);
  let p = m.f64.const(1 / 23);
  for (let k = 21; k >= 1; k -= 2) p = m.f64.add(m.f64.mul(p, s2()), m.f64.const(1 / k));
  return m.f64.add(m.f64.mul(m.f64.convert_s.i32(e), m.f64.const(Math.LN2)), m.f64.mul(m.f64.mul(m.f64.const(2), s()), p));
}

/** e^t in f64 (t clamped to +-1000, so the result saturates to 0 or inf). */
function exp64(f: FnBuilder, t0: E): E {
  const m = f.m;
  const t = f.let(m.f64.min(m.f64.max(t0, m.f64.const(-1000)), m.f64.const(1000)), F64);
  const n = f.let(m.f64.nearest(m.f64.mul(t(), m.f64.const(LOG2E))), F64);
  const r = f.let(m.f64.sub(m.f64.sub(t(), m.f64.mul(n(), m.f64.const(6.93147180369123816490e-1))), m.f64.mul(n(), m.f64.const(1.90821492927058770002e-10))), F64);
  let p = m.f64.const(1);
  for (let k = 13; k >= 1; k--) p = m.f64.add(m.f64.mul(m.f64.mul(p, r()), m.f64.const(1 / k)), m.f64.const(1));
  const ni = f.let(m.i32.trunc_s_sat.f64(n()), I32);
  const n1 = f.let(m.i32.shr_s(ni(), m.i32.const(1)), I32);
  const n2 = m.i32.sub(ni(), n1());
  const scale = (k: E) => m.f64.reinterpret(m.i64.shl(m.i64.extend_s(m.i32.add(k, m.i32.const(1023))), m.i64.const(52n)));
  return m.f64.mul(m.f64.mul(p, scale(n1())), scale(n2));
}

/** C99 pow on f32 values, computed as exp(y log|x|) in f64 with the special cases of the interpreter. */
export function powF32(f: FnBuilder, a: E, b: E): E {
  const m = f.m;
  const F = binaryen.f32;
  const x = f.let(a, F);
  const y = f.let(b, F);
  const ax = f.let(m.f32.abs(x()), F);
  const isInf = (v: E) => m.f32.eq(m.f32.abs(v), m.f32.const(Infinity));
  const lx = m.select(m.f32.eq(ax(), m.f32.const(0)), m.f64.const(-Infinity), m.select(isInf(ax()), m.f64.const(Infinity), log64(f, m.f64.promote(ax()))));
  const core = f.let(m.f32.demote(exp64(f, m.f64.mul(m.f64.promote(y()), lx))), F);
  const yInt = f.let(m.f32.eq(m.f32.trunc(y()), y()), I32);
  const yOdd = m.i32.and(m.i32.and(yInt(), m.f32.lt(m.f32.abs(y()), m.f32.const(16777216))), m.i32.and(m.i32.trunc_s_sat.f32(y()), m.i32.const(1)));
  const negX = m.i32.lt_s(m.i32.reinterpret(x()), m.i32.const(0));
  let res = m.select(m.i32.and(negX, yOdd), m.f32.neg(core()), core());
  const negFinite = m.i32.and(m.f32.lt(x(), m.f32.const(0)), m.f32.gt(x(), m.f32.const(-Infinity)));
  res = m.select(m.i32.and(negFinite, m.i32.eqz(yInt())), m.f32.const(NaN), res);
  res = m.select(m.i32.or(m.f32.ne(x(), x()), m.f32.ne(y(), y())), m.f32.const(NaN), res);
  res = m.select(m.i32.and(m.f32.eq(x(), m.f32.const(-1)), isInf(y())), m.f32.const(1), res);
  return m.select(m.i32.or(m.f32.eq(x(), m.f32.const(1)), m.f32.eq(y(), m.f32.const(0))), m.f32.const(1), res);
}

/** Float modulo with the sign of the divisor (NumPy): exact C fmod, then shifted into b's sign. */
export function modF32(f: FnBuilder, a0: E, b0: E): E {
  const m = f.m;
  const F = binaryen.f32;
  const name = f.helpers.use('kiln_fmodf', buildFmodf);
  const b = f.let(b0, F);
  let r = f.let(m.call(name, [a0, b()], F), F);
  const neg = (v: E) => m.i32.lt_s(m.i32.reinterpret(v), m.i32.const(0));
  r = f.let(m.select(m.i32.and(m.f32.ne(r(), m.f32.const(0)), m.i32.ne(neg(r()), neg(b()))), m.f32.add(r(), b()), r()), F);
  return m.select(m.f32.eq(r(), m.f32.const(0)), m.f32.copysign(m.f32.const(0), b()), r());
}

/** Floor division of int32s; x / 0 = 0 and INT_MIN / -1 wraps (no traps). */
export function divInt(f: FnBuilder, a0: E, b0: E): E {
  const m = f.m;
  const a = f.let(a0, I32);
  const b = f.let(b0, I32);
  const unsafe = m.i32.or(m.i32.eqz(b()), m.i32.eq(b(), m.i32.const(-1)));
  const bs = f.let(m.select(unsafe, m.i32.const(1), b()), I32);
  const r = f.let(m.i32.rem_s(a(), bs()), I32);
  const q = m.i32.sub(m.i32.div_s(a(), bs()), m.i32.and(m.i32.ne(r(), m.i32.const(0)), m.i32.lt_s(m.i32.xor(r(), bs()), m.i32.const(0))));
  return m.select(m.i32.eqz(b()), m.i32.const(0), m.select(m.i32.eq(b(), m.i32.const(-1)), m.i32.sub(m.i32.const(0), a()), q));
}

/** Floor modulo of int32s (sign of the divisor); x mod 0 = 0. */
export function modInt(f: FnBuilder, a0: E, b0: E): E {
  const m = f.m;
  const a = f.let(a0, I32);
  const b = f.let(b0, I32);
  const bs = f.let(m.select(m.i32.or(m.i32.eqz(b()), m.i32.eq(b(), m.i32.const(-1))), m.i32.const(1), b()), I32);
  const r = f.let(m.i32.rem_s(a(), bs()), I32);
  const fixed = m.i32.add(r(), m.select(m.i32.and(m.i32.ne(r(), m.i32.const(0)), m.i32.lt_s(m.i32.xor(r(), bs()), m.i32.const(0))), bs(), m.i32.const(0)));
  return m.select(m.i32.eqz(b()), m.i32.const(0), fixed);
}

/** Integer power with wraparound; negative exponents give 0 except for bases 1 and -1. */
export function powInt(f: FnBuilder, a0: E, b0: E): E {
  const m = f.m;
  const base = f.local(I32);
  const e = f.local(I32);
  const acc = f.local(I32);
  const get = (l: number) => m.local.get(l, I32);
  f.push(m.local.set(base, a0));
  f.push(m.local.set(e, b0));
  const neg = f.let(m.i32.lt_s(get(e), m.i32.const(0)), I32);
  const negResult = m.select(m.i32.eq(get(base), m.i32.const(1)), m.i32.const(1),
    m.select(m.i32.eq(get(base), m.i32.const(-1)), m.select(m.i32.and(get(e), m.i32.const(1)), m.i32.const(-1), m.i32.const(1)), m.i32.const(0)));
  const negValue = f.let(negResult, I32);
  f.push(m.local.set(acc, m.i32.const(1)));
  const brk = f.label('pow_done');
  const top = f.label('pow_loop');
  f.push(m.block(brk, [m.loop(top, m.block(null, [
    m.br(brk, m.i32.le_s(get(e), m.i32.const(0))),
    m.if(m.i32.and(get(e), m.i32.const(1)), m.local.set(acc, m.i32.mul(get(acc), get(base)))),
    m.local.set(base, m.i32.mul(get(base), get(base))),
    m.local.set(e, m.i32.shr_u(get(e), m.i32.const(1))),
    m.br(top),
  ]))]));
  return m.select(neg(), negValue(), get(acc));
}
