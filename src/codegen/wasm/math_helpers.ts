// Slow-path helper functions added once per module when a kernel needs them: sin/cos of huge
// arguments (Payne-Hanek reduction with 2/pi to 288 bits in i64 fixed point) and exact float fmod
// (shift-and-subtract on the mantissas, as C libraries do). Both are scalar and rarely taken.
import binaryen from './binaryen.js';
import type { E, Module } from './binaryen.js';

const I32 = binaryen.i32;
const I64 = binaryen.i64;
const F32 = binaryen.f32;
const F64 = binaryen.f64;

/** Adds named helper functions to one module on first use. */
export class Helpers {
  private readonly added = new Set<string>();
  constructor(readonly m: Module) {}

  use(name: string, build: (m: Module, name: string) => void): string {
    if (!this.added.has(name)) {
      this.added.add(name);
      build(this.m, name);
    }
    return name;
  }
}

/** 2/pi as 24-bit chunks: 2/pi = sum_i c[i] 2^(-24 (i+1)), computed with BigInt (Machin's formula). */
function twoOverPiChunks(count: number): number[] {
  const bits = BigInt(24 * count + 64);
  const one = 1n << bits;
  const atanInv = (x: bigint) => {
    // atan(1/x) = sum (-1)^k / ((2k+1) x^(2k+1))
    let sum = 0n;
    let pow = one / x;
    for (let k = 0n; pow !== 0n; k++) {
      const term = pow / (2n * k + 1n);
      sum += k % 2n === 0n ? term : -term;
      pow /= x * x;
    }
    return sum;
  };
  const pi = 16n * atanInv(5n) - 4n * atanInv(239n);
  const scaled = ((2n * one) << BigInt(24 * count)) / pi; // floor(2/pi * 2^(24 count))
  return Array.from({ length: count }, (_, i) => Number((scaled >> BigInt(24 * (count - 1 - i))) & 0xffffffn));
}

const CHUNKS = twoOverPiChunks(12);

/** Adds `name(x: f32) -> f32` computing sin (or cos) of any finite x accurately. */
export function buildSinCosBig(isCos: boolean) {
  return (m: Module, name: string): void => {
    const locals: number[] = [];
    const local = (t: number) => 1 + locals.push(t) - 1;
    const x = () => m.local.get(0, F32);
    const body: E[] = [];
    const set = (l: number, e: E) => body.push(m.local.set(l, e));
    const bits = local(I32);
    const e = local(I32);
    const mant = local(I64);
    const P = local(I64);
    const shift = local(I32);
    const q = local(I32);
    const r = local(F64);
    const z = local(F64);
    set(bits, m.i32.and(m.i32.reinterpret(x()), m.i32.const(0x7fffffff)));
    // |x| = mant * 2^e with mant a 24-bit integer (x is normal here: |x| is large).
    set(e, m.i32.sub(m.i32.shr_u(m.local.get(bits, I32), m.i32.const(23)), m.i32.const(150)));
    set(mant, m.i64.extend_u(m.i32.or(m.i32.and(m.local.get(bits, I32), m.i32.const(0x7fffff)), m.i32.const(0x800000))));
    // P = (|x| * 2/pi mod 4) * 2^62 in wrapping i64 arithmetic.
    set(P, m.i64.const(0n));
    CHUNKS.forEach((c, i) => {
      set(shift, m.i32.add(m.local.get(e, I32), m.i32.const(62 - 24 * (i + 1))));
      const prod = m.i64.mul(m.local.get(mant, I64), m.i64.const(BigInt(c)));
      const term = m.if(
        m.i32.ge_s(m.local.get(shift, I32), m.i32.const(0)),
        m.if(m.i32.ge_s(m.local.get(shift, I32), m.i32.const(64)), m.i64.const(0n), m.i64.shl(prod, m.i64.extend_u(m.local.get(shift, I32)))),
        m.if(m.i32.le_s(m.local.get(shift, I32), m.i32.const(-64)), m.i64.const(0n), m.i64.shr_u(m.i64.mul(m.local.get(mant, I64), m.i64.const(BigInt(c))), m.i64.extend_u(m.i32.sub(m.i32.const(0), m.local.get(shift, I32))))),
      );
      set(P, m.i64.add(m.local.get(P, I64), term));
    });
    // Nearest quadrant q and the remainder in [-1/2, 1/2) quadrants.
    set(q, m.i32.wrap(m.i64.shr_u(m.i64.add(m.local.get(P, I64), m.i64.const(1n << 61n)), m.i64.const(62n))));
    const frac = m.i64.sub(m.local.get(P, I64), m.i64.shl(m.i64.extend_u(m.local.get(q, I32)), m.i64.const(62n)));
    set(r, m.f64.mul(m.f64.convert_s.i64(frac), m.f64.const(Math.PI / 2 / 2 ** 62)));
    set(z, m.f64.mul(m.local.get(r, F64), m.local.get(r, F64)));
    // Taylor series on |r| <= pi/4 in f64.
    const series = (start: number, odd: boolean): E => {
      let acc = m.f64.const(0);
      for (let k = 16; k >= 0; k--) {
        const n = 2 * k + (odd ? 1 : 0);
        let f = 1;
        for (let j = 2; j <= n; j++) f *= j;
        acc = m.f64.add(m.f64.mul(acc, m.local.get(z, F64)), m.f64.const((k % 2 ? -1 : 1) / f));
      }
      void start;
      return odd ? m.f64.mul(acc, m.local.get(r, F64)) : acc;
    };
    const s = local(F64);
    const c = local(F64);
    set(s, series(1, true));
    set(c, series(0, false));
    // sin(-x) = -sin(x), cos(-x) = cos(x); quadrant table as in math.ts.
    const qq = isCos ? m.i32.add(m.local.get(q, I32), m.i32.const(1)) : m.local.get(q, I32);
    const qLocal = local(I32);
    set(qLocal, qq);
    const v = local(F64);
    set(v, m.select(m.i32.and(m.local.get(qLocal, I32), m.i32.const(1)), m.local.get(c, F64), m.local.get(s, F64)));
    set(v, m.select(m.i32.and(m.local.get(qLocal, I32), m.i32.const(2)), m.f64.neg(m.local.get(v, F64)), m.local.get(v, F64)));
    if (!isCos) set(v, m.select(m.f32.lt(x(), m.f32.const(0)), m.f64.neg(m.local.get(v, F64)), m.local.get(v, F64)));
    // Infinity and NaN give NaN.
    const finite = m.i32.lt_u(m.local.get(bits, I32), m.i32.const(0x7f800000));
    body.push(m.return(m.select(finite, m.f32.demote(m.local.get(v, F64)), m.f32.const(NaN))));
    m.addFunction(name, binaryen.createType([F32]), F32, locals, m.block(null, body));
  };
}

/**
 * Adds `name(x: f32, y: f32) -> f32`: C fmodf, exact (the result has the sign of x), by shifting and
 * subtracting the integer mantissas.
 */
export function buildFmodf(m: Module, name: string): void {
  const locals: number[] = [];
  const local = (t: number) => 2 + locals.push(t) - 1;
  const x = () => m.local.get(0, F32);
  const y = () => m.local.get(1, F32);
  const g = (l: number) => m.local.get(l, I32);
  const ux = local(I32);
  const uy = local(I32);
  const ex = local(I32);
  const ey = local(I32);
  const i = local(I32);
  const sh = local(I32);
  const body: E[] = [];
  const set = (l: number, e: E) => body.push(m.local.set(l, e));
  const zeroX = () => m.return(m.f32.copysign(m.f32.const(0), x()));
  set(ux, m.i32.and(m.i32.reinterpret(x()), m.i32.const(0x7fffffff)));
  set(uy, m.i32.and(m.i32.reinterpret(y()), m.i32.const(0x7fffffff)));
  // NaN for y = 0, y NaN, x infinite or NaN.
  body.push(m.if(m.i32.or(m.i32.or(m.i32.eqz(g(uy)), m.i32.gt_u(g(uy), m.i32.const(0x7f800000))), m.i32.ge_u(g(ux), m.i32.const(0x7f800000))), m.return(m.f32.const(NaN))));
  // |x| < |y|: x; |x| = |y|: +-0.
  body.push(m.if(m.i32.lt_u(g(ux), g(uy)), m.return(x())));
  body.push(m.if(m.i32.eq(g(ux), g(uy)), zeroX()));
  // Normalize both to a 24-bit mantissa with bit 23 set and an exponent (subnormals shifted up).
  const normalize = (u: number, e: number) => {
    set(e, m.i32.shr_u(g(u), m.i32.const(23)));
    body.push(m.if(m.i32.eqz(g(e)),
      m.block(null, [
        m.local.set(sh, m.i32.sub(m.i32.clz(g(u)), m.i32.const(8))),
        m.local.set(u, m.i32.shl(g(u), g(sh))),
        m.local.set(e, m.i32.sub(m.i32.const(1), g(sh))),
      ]),
      m.local.set(u, m.i32.or(m.i32.and(g(u), m.i32.const(0x7fffff)), m.i32.const(0x800000)))));
  };
  normalize(ux, ex);
  normalize(uy, ey);
  // Long division: one quotient bit per exponent step.
  body.push(m.block('done', [m.loop('step', m.block(null, [
    m.br('done', m.i32.le_s(g(ex), g(ey))),
    m.local.set(i, m.i32.sub(g(ux), g(uy))),
    m.if(m.i32.ge_s(g(i), m.i32.const(0)), m.block(null, [m.if(m.i32.eqz(g(i)), zeroX()), m.local.set(ux, g(i))])),
    m.local.set(ux, m.i32.shl(g(ux), m.i32.const(1))),
    m.local.set(ex, m.i32.sub(g(ex), m.i32.const(1))),
    m.br('step'),
  ]))]));
  set(i, m.i32.sub(g(ux), g(uy)));
  body.push(m.if(m.i32.ge_s(g(i), m.i32.const(0)), m.block(null, [m.if(m.i32.eqz(g(i)), zeroX()), m.local.set(ux, g(i))])));
  // Renormalize and rebuild the float (possibly subnormal) with x's sign.
  set(sh, m.i32.sub(m.i32.clz(g(ux)), m.i32.const(8)));
  set(ux, m.i32.shl(g(ux), g(sh)));
  set(ex, m.i32.sub(g(ex), g(sh)));
  body.push(m.if(m.i32.gt_s(g(ex), m.i32.const(0)),
    m.local.set(ux, m.i32.or(m.i32.sub(g(ux), m.i32.const(0x800000)), m.i32.shl(g(ex), m.i32.const(23)))),
    m.local.set(ux, m.i32.shr_u(g(ux), m.i32.sub(m.i32.const(1), g(ex))))));
  const sign = m.i32.and(m.i32.reinterpret(x()), m.i32.const(-0x80000000));
  body.push(m.return(m.f32.reinterpret(m.i32.or(g(ux), sign))));
  m.addFunction(name, binaryen.createType([F32, F32]), F32, locals, m.block(null, body));
}
