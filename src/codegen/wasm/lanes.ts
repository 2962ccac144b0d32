// The one place that knows the wasm instruction for an operation at a lane width: scalar (f32/i32)
// or SIMD128 (f32x4/i32x4). Kernel emission and the math library build on `Lanes`, so every
// algorithm is written once and instantiated for both widths. Also the per-function builder
// (locals, the statement list being filled).
import binaryen from './binaryen.js';
import type { E, Module } from './binaryen.js';
import type { Helpers } from './math_helpers.js';

/** Code generation switches, for A/B measurements (bench/) and tests; the defaults are the tuned ones. */
export const tuning = {
  /** Vector constants from a per-function pool of locals instead of inline v128.const. */
  constPool: true,
  /** Rows of the contraction register block (each row: 2 f32x4 accumulators over 8 columns). */
  mr: 4,
  /** Unrolling of the contraction's k loop. */
  kUnroll: 1,
  /** Pack conv's im2col panels with vector copies where the image allows (emit_pack.ts). */
  vectorPack: true,
  /** Contraction rows per chunk sized so the chunk's lhs takes this many bytes (0: no chunking). */
  chunkBytes: 256 * 1024,
  /** Column groups a contraction's parallel range is split into when rhs is packed (emit_contract.ts). */
  colGroups: 2,
  /** Fused multiply-add (relaxed SIMD) in the contraction's inner loop where the engine has it. */
  fma: true,
};

/** A reusable value: each call makes a fresh read of the local holding it. */
export type Get = () => E;

/** Collects a function's locals and the statements of the block being emitted. */
export class FnBuilder {
  readonly vars: number[] = [];
  private readonly stack: E[][] = [[]];
  private labels = 0;

  constructor(readonly m: Module, readonly params: readonly number[], readonly helpers: Helpers) {}

  local(type: number): number {
    this.vars.push(type);
    return this.params.length + this.vars.length - 1;
  }

  push(e: E): void {
    this.stack[this.stack.length - 1].push(e);
  }

  /**
   * Binds `e` to a fresh local (set now, in statement order) and returns a getter: binaryen IR is a
   * tree, so every use of the value needs its own `local.get` node.
   */
  let(e: E, type: number): Get {
    const l = this.local(type);
    this.push(this.m.local.set(l, e));
    return () => this.m.local.get(l, type);
  }

  /** Runs `fn` collecting what it pushes; returns the statements (and fn's result, if any). */
  collect<T>(fn: () => T): { stmts: E[]; value: T } {
    this.stack.push([]);
    try {
      const value = fn();
      return { stmts: this.stack[this.stack.length - 1], value };
    } finally {
      this.stack.pop();
    }
  }

  /** A block of the statements `fn` pushes, ending with the value it returns (or none). */
  block(fn: () => E | void, type: number = binaryen.none): E {
    const { stmts, value } = this.collect(fn);
    const all = value === undefined ? stmts : [...stmts, value];
    if (all.length === 1 && type === binaryen.none) return all[0];
    return this.m.block(null, all, value === undefined ? binaryen.none : type);
  }

  /**
   * A v128 constant (4 lanes of the same 32 bits) held in a local set at function entry. Inline
   * v128 constants in a loop cost V8 several instructions per use; a local loaded from an opaque
   * source (a mutable global that is always 0) stays in a register or a stack slot instead.
   */
  vconst(bits: number): E {
    let l = this.pool.get(bits);
    if (l === undefined) {
      l = this.local(binaryen.v128);
      const zero = this.helpers.use('kiln_zero', (m, name) => m.addGlobal(name, binaryen.i32, true, m.i32.const(0)));
      this.prologue.push(this.m.local.set(l, this.m.i32x4.splat(this.m.i32.add(this.m.global.get(zero, binaryen.i32), this.m.i32.const(bits | 0)))));
      this.pool.set(bits, l);
    }
    return this.m.local.get(l, binaryen.v128);
  }
  private readonly pool = new Map<number, number>();
  /** Statements that run at function entry (the constant pool). */
  readonly prologue: E[] = [];

  label(prefix: string): string {
    return `${prefix}${this.labels++}`;
  }

  /** The statements pushed at the outermost level. */
  get top(): E[] {
    return this.stack[0];
  }
}

/** Float and integer lane operations at one width; masks are i32 0/1 (scalar) or all-ones lanes (vector). */
export class Lanes {
  readonly m: Module;
  readonly vec: boolean;
  readonly FT: number;
  readonly IT: number;

  constructor(readonly f: FnBuilder, readonly width: 1 | 4) {
    this.m = f.m;
    this.vec = width === 4;
    this.FT = this.vec ? binaryen.v128 : binaryen.f32;
    this.IT = this.vec ? binaryen.v128 : binaryen.i32;
  }

  // ---- float ---------------------------------------------------------------------------------------
  fc(v: number): E {
    if (this.vec && tuning.constPool) return this.f.vconst(new Int32Array(new Float32Array([v]).buffer)[0]);
    const c = this.m.f32.const(v);
    return this.vec ? this.m.f32x4.splat(c) : c;
  }
  fadd(a: E, b: E): E { return this.vec ? this.m.f32x4.add(a, b) : this.m.f32.add(a, b); }
  fsub(a: E, b: E): E { return this.vec ? this.m.f32x4.sub(a, b) : this.m.f32.sub(a, b); }
  fmul(a: E, b: E): E { return this.vec ? this.m.f32x4.mul(a, b) : this.m.f32.mul(a, b); }
  fdiv(a: E, b: E): E { return this.vec ? this.m.f32x4.div(a, b) : this.m.f32.div(a, b); }
  /** NaN-propagating min/max (wasm semantics, like Math.min/max). */
  fmin(a: E, b: E): E { return this.vec ? this.m.f32x4.min(a, b) : this.m.f32.min(a, b); }
  fmax(a: E, b: E): E { return this.vec ? this.m.f32x4.max(a, b) : this.m.f32.max(a, b); }
  /**
   * x clamped below by a nonzero constant c: max(x, c) with NaN kept, exactly as fmax for such c.
   * As a vector this is one pmax (V8 lowers f32x4.max to ~8 instructions for NaN and signed zeros).
   */
  fmaxC(x: E, c: number): E { return this.vec ? this.m.f32x4.pmax(x, this.fc(c)) : this.m.f32.max(x, this.fc(c)); }
  /** x clamped above by a nonzero constant c (see fmaxC). */
  fminC(x: E, c: number): E { return this.vec ? this.m.f32x4.pmin(x, this.fc(c)) : this.m.f32.min(x, this.fc(c)); }
  // Sign-bit masks from the constant pool: one and/xor, where V8 builds the mask for f32x4.abs/neg
  // on every use (3 instructions each). Same bits, NaN payloads included.
  fabs(a: E): E { return this.vec ? this.m.v128.and(a, this.ic(0x7fffffff)) : this.m.f32.abs(a); }
  fneg(a: E): E { return this.vec ? this.m.v128.xor(a, this.ic(-0x80000000)) : this.m.f32.neg(a); }
  fsqrt(a: E): E { return this.vec ? this.m.f32x4.sqrt(a) : this.m.f32.sqrt(a); }
  ffloor(a: E): E { return this.vec ? this.m.f32x4.floor(a) : this.m.f32.floor(a); }
  fceil(a: E): E { return this.vec ? this.m.f32x4.ceil(a) : this.m.f32.ceil(a); }
  ftrunc(a: E): E { return this.vec ? this.m.f32x4.trunc(a) : this.m.f32.trunc(a); }
  /** Round half to even. */
  fnearest(a: E): E { return this.vec ? this.m.f32x4.nearest(a) : this.m.f32.nearest(a); }
  /** a*b + c (two roundings; relaxed fused multiply-add is not used so results match across engines). */
  fma(a: E, b: E, c: E): E { return this.fadd(this.fmul(a, b), c); }
  flt(a: E, b: E): E { return this.vec ? this.m.f32x4.lt(a, b) : this.m.f32.lt(a, b); }
  fle(a: E, b: E): E { return this.vec ? this.m.f32x4.le(a, b) : this.m.f32.le(a, b); }
  fgt(a: E, b: E): E { return this.vec ? this.m.f32x4.gt(a, b) : this.m.f32.gt(a, b); }
  fge(a: E, b: E): E { return this.vec ? this.m.f32x4.ge(a, b) : this.m.f32.ge(a, b); }
  feq(a: E, b: E): E { return this.vec ? this.m.f32x4.eq(a, b) : this.m.f32.eq(a, b); }
  fne(a: E, b: E): E { return this.vec ? this.m.f32x4.ne(a, b) : this.m.f32.ne(a, b); }
  /** mask ? a : b, lane-wise. */
  fsel(mask: E, a: E, b: E): E { return this.vec ? this.m.v128.bitselect(a, b, mask) : this.m.select(mask, a, b); }
  flet(e: E): Get { return this.f.let(e, this.FT); }

  // ---- int32 ---------------------------------------------------------------------------------------
  ic(v: number): E {
    if (this.vec && tuning.constPool) return this.f.vconst(v | 0);
    const c = this.m.i32.const(v | 0);
    return this.vec ? this.m.i32x4.splat(c) : c;
  }
  iadd(a: E, b: E): E { return this.vec ? this.m.i32x4.add(a, b) : this.m.i32.add(a, b); }
  isub(a: E, b: E): E { return this.vec ? this.m.i32x4.sub(a, b) : this.m.i32.sub(a, b); }
  imul(a: E, b: E): E { return this.vec ? this.m.i32x4.mul(a, b) : this.m.i32.mul(a, b); }
  iand(a: E, b: E): E { return this.vec ? this.m.v128.and(a, b) : this.m.i32.and(a, b); }
  ior(a: E, b: E): E { return this.vec ? this.m.v128.or(a, b) : this.m.i32.or(a, b); }
  ixor(a: E, b: E): E { return this.vec ? this.m.v128.xor(a, b) : this.m.i32.xor(a, b); }
  ishl(a: E, k: number): E { return this.vec ? this.m.i32x4.shl(a, this.m.i32.const(k)) : this.m.i32.shl(a, this.m.i32.const(k)); }
  ishrS(a: E, k: number): E { return this.vec ? this.m.i32x4.shr_s(a, this.m.i32.const(k)) : this.m.i32.shr_s(a, this.m.i32.const(k)); }
  ishrU(a: E, k: number): E { return this.vec ? this.m.i32x4.shr_u(a, this.m.i32.const(k)) : this.m.i32.shr_u(a, this.m.i32.const(k)); }
  /** Rotate left by a constant. */
  irotl(a: E, k: number): E {
    if (!this.vec) return this.m.i32.rotl(a, this.m.i32.const(k));
    const x = this.ilet(a);
    return this.ior(this.ishl(x(), k), this.ishrU(x(), 32 - k));
  }
  ieq(a: E, b: E): E { return this.vec ? this.m.i32x4.eq(a, b) : this.m.i32.eq(a, b); }
  ine(a: E, b: E): E { return this.vec ? this.m.i32x4.ne(a, b) : this.m.i32.ne(a, b); }
  ilt(a: E, b: E): E { return this.vec ? this.m.i32x4.lt_s(a, b) : this.m.i32.lt_s(a, b); }
  ile(a: E, b: E): E { return this.vec ? this.m.i32x4.le_s(a, b) : this.m.i32.le_s(a, b); }
  igt(a: E, b: E): E { return this.vec ? this.m.i32x4.gt_s(a, b) : this.m.i32.gt_s(a, b); }
  ige(a: E, b: E): E { return this.vec ? this.m.i32x4.ge_s(a, b) : this.m.i32.ge_s(a, b); }
  imin(a: E, b: E): E {
    if (this.vec) return this.m.i32x4.min_s(a, b);
    const x = this.ilet(a);
    const y = this.ilet(b);
    return this.m.select(this.m.i32.lt_s(x(), y()), x(), y());
  }
  imax(a: E, b: E): E {
    if (this.vec) return this.m.i32x4.max_s(a, b);
    const x = this.ilet(a);
    const y = this.ilet(b);
    return this.m.select(this.m.i32.gt_s(x(), y()), x(), y());
  }
  ineg(a: E): E { return this.vec ? this.m.i32x4.neg(a) : this.m.i32.sub(this.m.i32.const(0), a); }
  iabs(a: E): E {
    if (this.vec) return this.m.i32x4.abs(a);
    const x = this.ilet(a);
    return this.m.select(this.m.i32.lt_s(x(), this.m.i32.const(0)), this.ineg(x()), x());
  }
  isel(mask: E, a: E, b: E): E { return this.vec ? this.m.v128.bitselect(a, b, mask) : this.m.select(mask, a, b); }
  ilet(e: E): Get { return this.f.let(e, this.IT); }

  // ---- conversions ---------------------------------------------------------------------------------
  /** float -> int32, truncating, saturating, NaN -> 0. */
  ftoi(a: E): E { return this.vec ? this.m.i32x4.trunc_sat_f32x4_s(a) : this.m.i32.trunc_s_sat.f32(a); }
  itof(a: E): E { return this.vec ? this.m.f32x4.convert_i32x4_s(a) : this.m.f32.convert_s.i32(a); }
  /** The bits of a float as an int (no-op on v128). */
  fbits(a: E): E { return this.vec ? a : this.m.i32.reinterpret(a); }
  ibits(a: E): E { return this.vec ? a : this.m.f32.reinterpret(a); }

  // ---- masks and bools -----------------------------------------------------------------------------
  mand(a: E, b: E): E { return this.vec ? this.m.v128.and(a, b) : this.m.i32.and(a, b); }
  mor(a: E, b: E): E { return this.vec ? this.m.v128.or(a, b) : this.m.i32.or(a, b); }
  /** Binds a mask (i32 when scalar, v128 lanes when vector). */
  mlet(e: E): Get { return this.f.let(e, this.IT); }
  mnot(a: E): E { return this.vec ? this.m.v128.not(a) : this.m.i32.eqz(a); }
  /** A mask as bool lanes (0/1). */
  maskToBool(mask: E): E { return this.vec ? this.m.i32x4.neg(mask) : mask; }
  /** Bool lanes (0/1) as a mask. */
  boolToMask(b: E): E { return this.vec ? this.m.i32x4.neg(b) : b; }
  /** Whether any lane of a mask is set (an i32 condition). */
  any(mask: E): E { return this.vec ? this.m.v128.any_true(mask) : mask; }

  /** copysign(mag, sign) for floats. */
  fcopysign(mag: E, sign: E): E {
    if (!this.vec) return this.m.f32.copysign(mag, sign);
    const signBit = this.ic(-0x80000000);
    return this.m.v128.bitselect(sign, mag, signBit);
  }
}

/** f64 lane operations (scalar f64 or f64x2) for the few places that need the extra precision. */
export class Lanes64 {
  readonly m: Module;
  readonly vec: boolean;
  readonly T: number;
  constructor(readonly f: FnBuilder, width: 1 | 2) {
    this.m = f.m;
    this.vec = width === 2;
    this.T = this.vec ? binaryen.v128 : binaryen.f64;
  }
  c(v: number): E {
    const c = this.m.f64.const(v);
    return this.vec ? this.m.f64x2.splat(c) : c;
  }
  add(a: E, b: E): E { return this.vec ? this.m.f64x2.add(a, b) : this.m.f64.add(a, b); }
  sub(a: E, b: E): E { return this.vec ? this.m.f64x2.sub(a, b) : this.m.f64.sub(a, b); }
  mul(a: E, b: E): E { return this.vec ? this.m.f64x2.mul(a, b) : this.m.f64.mul(a, b); }
  nearest(a: E): E { return this.vec ? this.m.f64x2.nearest(a) : this.m.f64.nearest(a); }
  let(e: E): Get { return this.f.let(e, this.T); }
}
