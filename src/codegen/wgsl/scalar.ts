// The one place that knows the WGSL text of each elementwise op per dtype family (tinygrad's
// `code_for_op`): a shared base table plus small float/int/bool overrides, and the helper functions
// (`k_*`) that ops needing more than one expression call. Semantics follow src/ir/interpret_scalar.ts;
// float32 math runs in f32 here (the reference rounds f64 once), hence the tests' tolerances.
import type { BinaryOp, UnaryOp } from '../../ir/ops.js';
import { KilnError } from '../../ir/error.js';
import type { GpuDType } from './types.js';

type Tpl1 = (x: string) => string;
type Tpl2 = (a: string, b: string) => string;
type Family = 'f' | 'i' | 'b';

const family = (d: GpuDType): Family => (d === 'float32' ? 'f' : d === 'int32' ? 'i' : 'b');
/** NaN in, NaN out, whatever the builtin does with it. */
const keepNaN = (t: Tpl1): Tpl1 => (x) => `select(${t(x)}, ${x}, k_isnan(${x}))`;
/** IEEE comparisons: false with a NaN operand (ne: true), not left to the implementation. */
const ordered = (o: string): Tpl2 => (a, b) => `(${a} ${o} ${b} && !k_isnan(${a}) && !k_isnan(${b}))`;

// ---- unary ---------------------------------------------------------------------------------------

const BASE_UNARY: Partial<Record<UnaryOp, Tpl1>> = {
  neg: (x) => `(-${x})`,
  abs: (x) => `abs(${x})`,
};

const UNARY: Record<Family, Partial<Record<UnaryOp, Tpl1>>> = {
  f: {
    ...BASE_UNARY,
    // GPU builtins need not propagate NaN (SwiftShader: exp(NaN) = inf, tanh(NaN) = -1): keep it.
    exp: keepNaN((x) => `exp(${x})`),
    log: keepNaN((x) => `k_log(${x})`),
    sqrt: keepNaN((x) => `sqrt(${x})`),
    rsqrt: keepNaN((x) => `(1.0f / sqrt(${x}))`),
    // WGSL only promises an absolute error of 2^-11 for sin/cos (SwiftShader is about 1e-4 off).
    sin: keepNaN((x) => `k_sin(${x})`),
    cos: keepNaN((x) => `k_cos(${x})`),
    // tanh(+-15) is +-1 in f32; the clamp keeps implementations that go through exp from overflowing.
    tanh: keepNaN((x) => `tanh(clamp(${x}, -15.0f, 15.0f))`),
    sigmoid: keepNaN((x) => `k_sigmoid(${x})`),
    relu: (x) => `select(0.0f, ${x}, ${x} > 0.0f || k_isnan(${x}))`,
    floor: (x) => `floor(${x})`,
    ceil: (x) => `ceil(${x})`,
    round: (x) => `round(${x})`, // WGSL round is half to even, like the reference
    sign: (x) => `select(sign(${x}), ${x}, ${x} == 0.0f || k_isnan(${x}))`,
    isnan: (x) => `k_isnan(${x})`,
    log1p: keepNaN((x) => `k_log1p(${x})`),
    expm1: keepNaN((x) => `k_expm1(${x})`),
    erf: keepNaN((x) => `k_erf(${x})`),
  },
  i: {
    ...BASE_UNARY,
    relu: (x) => `max(${x}, 0i)`,
    floor: (x) => x,
    ceil: (x) => x,
    round: (x) => x,
    sign: (x) => `sign(${x})`,
    not: (x) => `(~${x})`,
    isnan: () => 'false',
  },
  // On bool every arithmetic unary op is the identity (int rule on 0/1, then != 0).
  b: {
    neg: (x) => x,
    abs: (x) => x,
    relu: (x) => x,
    floor: (x) => x,
    ceil: (x) => x,
    round: (x) => x,
    sign: (x) => x,
    not: (x) => `(!${x})`,
    isnan: () => 'false',
  },
};

export function unaryCode(op: UnaryOp, dtype: GpuDType, x: string): string {
  const t = UNARY[family(dtype)][op];
  if (!t) throw new KilnError(`webgpu: ${op} has no WGSL form for ${dtype}`);
  return t(x);
}

// ---- binary --------------------------------------------------------------------------------------

const infix = (o: string): Tpl2 => (a, b) => `(${a} ${o} ${b})`;
const call = (f: string): Tpl2 => (a, b) => `${f}(${a}, ${b})`;

const BASE_BINARY: Partial<Record<BinaryOp, Tpl2>> = {
  add: infix('+'),
  sub: infix('-'),
  mul: infix('*'),
  eq: infix('=='),
  ne: infix('!='),
  lt: infix('<'),
  le: infix('<='),
  gt: infix('>'),
  ge: infix('>='),
};

const BINARY: Record<Exclude<Family, 'b'>, Partial<Record<BinaryOp, Tpl2>>> = {
  f: {
    ...BASE_BINARY,
    eq: ordered('=='),
    ne: (a, b) => `(${a} != ${b} || k_isnan(${a}) || k_isnan(${b}))`,
    lt: ordered('<'),
    le: ordered('<='),
    gt: ordered('>'),
    ge: ordered('>='),
    div: infix('/'),
    pow: call('k_powf'),
    max: call('k_maxf'),
    min: call('k_minf'),
    mod: call('k_modf'),
    atan2: call('atan2'),
  },
  i: {
    ...BASE_BINARY, // i32 + - * wrap in WGSL, like the reference
    div: call('k_divi'),
    mod: call('k_modi'),
    pow: call('k_powi'),
    max: call('max'),
    min: call('min'),
    and: infix('&'),
    or: infix('|'),
  },
};

const COMPARISONS = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** `dtype` is the operands' dtype. bool operands follow the reference: the int32 rule on 0/1, then != 0. */
export function binaryCode(op: BinaryOp, dtype: GpuDType, a: string, b: string): string {
  if (dtype === 'bool') {
    if (op === 'and') return `(${a} && ${b})`;
    if (op === 'or') return `(${a} || ${b})`;
    if (op === 'eq' || op === 'ne') return BASE_BINARY[op]!(a, b);
    const r = binaryCode(op, 'int32', `i32(${a})`, `i32(${b})`);
    return COMPARISONS.has(op) ? r : `(${r} != 0i)`;
  }
  const t = BINARY[family(dtype) as 'f' | 'i'][op];
  if (!t) throw new KilnError(`webgpu: ${op} has no WGSL form for ${dtype}`);
  return t(a, b);
}

// ---- casts ---------------------------------------------------------------------------------------

const CASTS: Record<Family, Record<Family, Tpl1>> = {
  f: { f: (x) => x, i: (x) => `k_f2i(${x})`, b: (x) => `(${x} != 0.0f || k_isnan(${x}))` },
  i: { f: (x) => `f32(${x})`, i: (x) => x, b: (x) => `(${x} != 0i)` },
  b: { f: (x) => `f32(${x})`, i: (x) => `i32(${x})`, b: (x) => x },
};

export function castCode(from: GpuDType, to: GpuDType, x: string): string {
  return CASTS[family(from)][family(to)](x);
}

// ---- helper functions ----------------------------------------------------------------------------

/** WGSL helpers by name; the emitter includes those a shader mentions (and what they mention). */
export const HELPERS: Record<string, string> = {
  // Runtime values (a `var`), because a const-expression that is inf or NaN does not compile.
  k_inf: `fn k_inf() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }`,
  k_nan: `fn k_nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }`,
  // Cephes sinf/cosf: Cody-Waite reduction by pi/2 in three parts, minimax polynomials on [-pi/4, pi/4].
  k_sincos: `fn k_sincos(x: f32, quadrant: i32) -> f32 {
  let j = round(x * 0.63661977236758134f);
  let y = ((x - j * 1.5703125f) - j * 4.837512969970703125e-4f) - j * 7.54978995489188216e-8f;
  let z = y * y;
  let s = y + y * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * -1.9515295891e-4f));
  let c = 1.0f - 0.5f * z + z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
  let q = (i32(j) + quadrant) & 3;
  if (abs(x) > 1.0e5f) { return select(sin(x), cos(x), quadrant == 1); }
  return select(select(select(-c, -s, q == 2), c, q == 1), s, q == 0);
}`,
  k_sin: `fn k_sin(x: f32) -> f32 { return k_sincos(x, 0); }`,
  k_cos: `fn k_cos(x: f32) -> f32 { return k_sincos(x, 1); }`,
  // Bit test: `x != x` may be folded away by compilers that assume no NaNs.
  k_isnan: `fn k_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }`,
  k_maxf: `fn k_maxf(a: f32, b: f32) -> f32 { return select(max(a, b), a + b, k_isnan(a) || k_isnan(b)); }`,
  k_minf: `fn k_minf(a: f32, b: f32) -> f32 { return select(min(a, b), a + b, k_isnan(a) || k_isnan(b)); }`,
  // log(0) = -inf and log(x < 0) = NaN exactly (SwiftShader gives log(0) = -88).
  k_log: `fn k_log(x: f32) -> f32 {
  if (x == 0.0f) { return -k_inf(); }
  if (x < 0.0f) { return k_nan(); }
  return log(x);
}`,
  k_sigmoid: `fn k_sigmoid(x: f32) -> f32 {
  if (x >= 0.0f) { return 1.0f / (1.0f + exp(-x)); }
  let e = exp(x);
  return e / (1.0f + e);
}`,
  // Kahan's tricks: log(u) * x / (u - 1) cancels the rounding error of u = 1 + x.
  k_log1p: `fn k_log1p(x: f32) -> f32 {
  let u = 1.0f + x;
  if (u == 1.0f) { return x; }
  if (x > 1.0e30f) { return k_log(x); }
  return k_log(u) * (x / (u - 1.0f));
}`,
  k_expm1: `fn k_expm1(x: f32) -> f32 {
  let u = exp(x);
  if (u == 1.0f) { return x; }
  let um1 = u - 1.0f;
  if (um1 == -1.0f) { return -1.0f; }
  if (u > 3.0e38f) { return u; }
  return um1 * (x / log(u));
}`,
  // The reference's erf in f32: the all-positive series below 2.5, the erfc continued fraction above;
  // erfc(4) is below half an f32 ulp of 1.
  k_erf: `fn k_erf(x: f32) -> f32 {
  let ax = abs(x);
  if (ax >= 4.0f) { return select(1.0f, -1.0f, x < 0.0f); }
  let x2 = ax * ax;
  var r: f32;
  if (ax < 2.5f) {
    var term = ax;
    var sum = ax;
    for (var n = 0; n < 80; n++) {
      term = term * (2.0f * x2) / f32(2 * n + 3);
      sum = sum + term;
      if (term <= sum * 1.0e-8f) { break; }
    }
    r = 1.1283791670955126f * exp(-x2) * sum;
  } else {
    var f = ax;
    for (var n = 40; n >= 1; n--) { f = ax + f32(n) * 0.5f / f; }
    r = 1.0f - 0.5641895835477563f * exp(-x2) / f;
  }
  return select(r, -r, x < 0.0f);
}`,
  // C99 pow: pow(1, y) = pow(x, 0) = 1, negative bases only to integer powers, signed zeros.
  k_powf: `fn k_powf(x: f32, y: f32) -> f32 {
  if (x == 1.0f || y == 0.0f) { return 1.0f; }
  if (k_isnan(x) || k_isnan(y)) { return x + y; }
  let ay = abs(y);
  let yint = floor(y) == y;
  let yodd = yint && ay < 16777216.0f && (i32(ay) & 1) == 1;
  let inf = k_inf();
  if (x == 0.0f) {
    if (y > 0.0f) { return select(0.0f, x, yodd); }
    return select(inf, select(inf, -inf, bitcast<u32>(x) != 0u), yodd);
  }
  if (x == -1.0f && ay == inf) { return 1.0f; }
  if (x < 0.0f && !yint) { return k_nan(); }
  let m = exp2(y * log2(abs(x)));
  return select(m, -m, x < 0.0f && yodd);
}`,
  // Floor modulo: the result takes the divisor's sign (zero too).
  k_modf: `fn k_modf(a: f32, b: f32) -> f32 {
  var r = a - b * trunc(a / b);
  if (r != 0.0f) {
    if ((r < 0.0f) != (b < 0.0f)) { r = r + b; }
  } else {
    r = select(0.0f, -0.0f, b < 0.0f);
  }
  return r;
}`,
  // Floor division of i32; x / 0 = 0. WGSL's own i32 '/' truncates (and gives x for x / 0).
  k_divi: `fn k_divi(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  let q = a / b;
  return select(q, q - 1i, (a % b != 0i) && ((a < 0i) != (b < 0i)));
}`,
  k_modi: `fn k_modi(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  let r = a % b;
  return select(r, r + b, r != 0i && ((r < 0i) != (b < 0i)));
}`,
  k_powi: `fn k_powi(base: i32, e: i32) -> i32 {
  if (e < 0i) {
    if (base == 1i) { return 1i; }
    if (base == -1i) { return select(-1i, 1i, (e & 1i) == 0i); }
    return 0i;
  }
  var r = 1i;
  var b = base;
  var n = e;
  loop {
    if (n == 0i) { break; }
    if ((n & 1i) == 1i) { r = r * b; }
    b = b * b;
    n = n >> 1u;
  }
  return r;
}`,
  // float -> int32 truncates toward zero and saturates; NaN -> 0 (the reference's trunc_sat).
  k_f2i: `fn k_f2i(x: f32) -> i32 {
  if (k_isnan(x)) { return 0i; }
  if (x >= 2147483648.0f) { return 2147483647i; }
  if (x <= -2147483648.0f) { return bitcast<i32>(0x80000000u); }
  return i32(x);
}`,
  // Threefry-2x32, 20 rounds (src/ir/threefry.ts): word 0 for counter (c, 0) under key (k0, k1).
  k_threefry: `fn k_threefry(k0: u32, k1: u32, c: u32) -> u32 {
  let ks = array<u32, 3>(k0, k1, 0x1bd11bdau ^ k0 ^ k1);
  let rot = array<u32, 8>(13u, 15u, 26u, 6u, 17u, 29u, 16u, 24u);
  var a = c + k0;
  var b = k1;
  for (var round = 0u; round < 20u; round++) {
    let r = rot[round % 8u];
    a = a + b;
    b = (b << r) | (b >> (32u - r));
    b = b ^ a;
    if (round % 4u == 3u) {
      let s = (round + 1u) / 4u;
      a = a + ks[s % 3u];
      b = b + ks[(s + 1u) % 3u] + s;
    }
  }
  return a;
}`,
};

/** The helper definitions `code` needs, dependencies first. */
export function helpersFor(code: string): string {
  const need: string[] = [];
  const visit = (text: string) => {
    for (const m of text.matchAll(/\bk_[a-z0-9]+\b/g)) {
      const name = m[0];
      if (need.includes(name) || !HELPERS[name]) continue;
      visit(HELPERS[name].slice(HELPERS[name].indexOf('{')));
      need.push(name);
    }
  };
  visit(code);
  return need.map((n) => HELPERS[n]).join('\n');
}
