// Deterministic inputs shared by every system in a row (same bytes into Kiln, tfjs and jax-js), the
// float64 reference results the agreement check compares against, and the comparison itself.

/** mulberry32: a small seeded generator, so every run and every system sees the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform floats in [lo, hi) (never all zeros: benchmarks on zeros hide NaN and denormal paths). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Integer class labels in [0, classes). */
export function labels(n: number, classes: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * classes));
}

/** Glorot-uniform weights [fanIn, fanOut], row-major. */
export function glorot(fanIn: number, fanOut: number, seed: number): Float32Array {
  const b = Math.sqrt(6 / (fanIn + fanOut));
  return uniform(fanIn * fanOut, seed, -b, b);
}

// ---- float64 references -----------------------------------------------------------------------------

export function refMatmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      const row = p * n;
      const o = i * n;
      for (let j = 0; j < n; j++) out[o + j] += x * b[row + j];
    }
  }
  return out;
}

export const chainScalar = (x: number): number => Math.tanh(x * 1.5 + 0.5) * (1 / (1 + Math.exp(-x))) - 0.1 * x;

export function refChain(x: Float32Array): Float64Array {
  return Float64Array.from(x, chainScalar);
}

export function refSoftmaxRows(x: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += out[r * cols + c] = Math.exp(x[r * cols + c] - m);
    for (let c = 0; c < cols; c++) out[r * cols + c] /= s;
  }
  return out;
}

/** conv2d NCHW x OIHW, stride 1, 'same' zero padding for odd kernels. */
export function refConv2d(x: Float32Array, w: Float32Array, [n, c, h, wd]: number[], [o, , kh, kw]: number[]): Float64Array {
  const out = new Float64Array(n * o * h * wd);
  const ph = (kh - 1) / 2;
  const pw = (kw - 1) / 2;
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < wd; j++) {
          let s = 0;
          for (let ic = 0; ic < c; ic++)
            for (let u = 0; u < kh; u++) {
              const y = i + u - ph;
              if (y < 0 || y >= h) continue;
              for (let v = 0; v < kw; v++) {
                const xx = j + v - pw;
                if (xx < 0 || xx >= wd) continue;
                s += x[((b * c + ic) * h + y) * wd + xx] * w[((oc * c + ic) * kh + u) * kw + v];
              }
            }
          out[((b * o + oc) * h + i) * wd + j] = s;
        }
  return out;
}

/** NCHW -> NHWC (tfjs's wasm conv takes channels last). */
export function nchwToNhwc(x: Float32Array, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[(b * h * w + i) * c + ch] = x[(b * c + ch) * h * w + i];
  return out;
}

export function nhwcToNchw(x: ArrayLike<number>, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[(b * c + ch) * h * w + i] = x[(b * h * w + i) * c + ch];
  return out;
}

/** OIHW -> HWIO (tfjs filter layout). */
export function oihwToHwio(w: Float32Array, [o, i, kh, kw]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) out[((u * kw + v) * i + b) * o + a] = w[((a * i + b) * kh + u) * kw + v];
  return out;
}

// ---- agreement -----------------------------------------------------------------------------------------

export interface Agreement {
  ok: boolean;
  /** max |got - want| / max(max |want|, 1e-6): one number per cell, printed in the table. */
  error: number;
  detail?: string;
}

/** Compares a result with the reference, scaled by the reference's largest magnitude. */
export function agree(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number): Agreement {
  if (got.length !== want.length) return { ok: false, error: Infinity, detail: `length ${got.length}, expected ${want.length}` };
  let scale = 1e-6;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Infinity : d;
      at = i;
    }
  }
  const error = worst / scale;
  const ok = error <= tolerance;
  return ok ? { ok, error } : { ok, error, detail: `element ${at}: ${got[at]} vs ${want[at]}` };
}
