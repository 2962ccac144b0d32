// Counter-based randomness (JAX style): a key is an int32[2] tensor and every draw is a pure function
// of (key, shape), identical on every device and under jit. A global seed stream serves eager code.
import type { DType } from '../ir/dtype.js';
import { KilnError } from '../ir/error.js';
import { hostArray } from '../ir/array.js';
import { Tensor } from './tensor.js';
import { shapeArg } from './args.js';
import { bind1, currentTrace, defaultDevice } from './trace.js';
import { randomBits as hostRandomBits } from '../ir/threefry.js';
import { add, mul, sub, sqrt, log, cos, lt, astype, floor } from './ops/elementwise.js';
import { full } from './creation.js';

export interface RandomOptions {
  key?: Tensor;
  dtype?: DType;
  device?: string;
}

/** A key from a seed: int32[2] = [0, seed]. */
export function randomKey(seed: number, device = defaultDevice()): Tensor {
  if (!Number.isInteger(seed)) throw new KilnError(`randomKey: seed must be an integer, got ${seed}`);
  return Tensor._fromHost(hostArray('int32', [2], [Math.floor(seed / 2 ** 32) | 0, seed | 0]), device);
}

function checkKey(op: string, key: Tensor): Tensor {
  if (!(key instanceof Tensor) || key.dtype !== 'int32' || key.shape.length !== 1 || key.shape[0] !== 2) {
    throw new KilnError(`${op}: a key must be an int32[2] tensor (from randomKey(seed)), got ${key instanceof Tensor ? key.describe() : typeof key}`);
  }
  return key;
}

/** n new independent keys derived from `key`. */
export function splitKey(key: Tensor, n = 2): Tensor[] {
  checkKey('splitKey', key);
  if (!Number.isInteger(n) || n < 1) throw new KilnError(`splitKey: n must be a positive integer, got ${n}`);
  const bits = bind1('random_bits', [key], { shape: [n, 2] });
  return Array.from({ length: n }, (_, i) =>
    bind1('reshape', [bind1('slice', [bits], { start: [i, 0], limit: [i + 1, 2], stride: [1, 1] })], { shape: [2] }),
  );
}

// The global stream lives on the host as two key words, so advancing it never runs a device op and
// never gets staged into a trace (a key drawn inside jit would otherwise leak a tracer into it).
let globalKey: [number, number] = [0, 0];

/** Seeds the global stream used when no key is passed (eager code). */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed)) throw new KilnError(`manualSeed: seed must be an integer, got ${seed}`);
  globalKey = [Math.floor(seed / 2 ** 32) | 0, seed | 0];
}

/**
 * The next key of the global stream (advances it); the same words `splitKey(key, 2)` gives, computed
 * on the host. Inside jit it throws: a key from the stream would be frozen into the compiled trace,
 * so every call would draw the same numbers. Pass `{key}` as an input of the function instead.
 */
export function nextKey(device = defaultDevice()): Tensor {
  const trace = currentTrace();
  if (trace) throw new KilnError(`random: inside ${trace.name} pass an explicit {key} that is an input of the function (the global seed stream would be frozen into the trace)`);
  const words = new Int32Array(4);
  hostRandomBits(globalKey[0], globalKey[1], words);
  globalKey = [words[0], words[1]];
  return Tensor._fromHost(hostArray('int32', [2], words.slice(2, 4)), device);
}

function keyFor(op: string, opts: RandomOptions, device: string): Tensor {
  const key = opts.key ? checkKey(op, opts.key) : nextKey(device);
  if (key.device === device || key.isTraced) return key;
  return Tensor._fromHost({ dtype: 'int32', shape: [2], data: key.dataSync() }, device);
}

/** Uniform random bits as int32 of `shape`. */
export function randomBits(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  return bitsOf('randomBits', shape, opts);
}

function bitsOf(op: string, shape: readonly number[], opts: RandomOptions): Tensor {
  shapeArg(op, shape);
  const device = opts.device ?? opts.key?.device ?? defaultDevice();
  return bind1('random_bits', [keyFor(op, opts, device)], { shape: [...shape] });
}

/** Uniform floats in [0, 1): the low 24 bits of each random word, scaled (exact in float32). */
export function rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const bits = bitsOf('rand', shape, opts);
  const device = bits.device;
  const low24 = bind1('and', [bits, full(shape, 0xffffff, { dtype: 'int32', device })]);
  return astype(mul(astype(low24, 'float32'), 2 ** -24), opts.dtype ?? 'float32');
}

/** Standard normal floats (Box–Muller on two independent uniform draws). */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  shapeArg('randn', shape);
  const key = opts.key ?? nextKey(opts.device ?? defaultDevice());
  const [k1, k2] = splitKey(checkKey('randn', key), 2);
  const u1 = rand(shape, { ...opts, key: k1 });
  const u2 = rand(shape, { ...opts, key: k2 });
  const r = sqrt(mul(log(sub(1, u1)), -2)); // 1 - u1 is in (0, 1], so the log is finite
  return astype(mul(r, cos(mul(u2, 2 * Math.PI))), opts.dtype ?? 'float32');
}

/** Integers uniformly in [low, high). */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new KilnError(`randint: need integers low < high, got ${low}, ${high}`);
  return astype(add(floor(mul(rand(shape, { ...opts, dtype: 'float32' }), high - low)), low), opts.dtype ?? 'int32');
}

/** Booleans that are true with probability p. */
export function bernoulli(p: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new KilnError(`bernoulli: p must be in [0, 1], got ${p}`);
  return lt(rand(shape, opts), p);
}

/** A random permutation of 0..n-1 (eager only: it sorts on the host). */
export function permutation(n: number, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new KilnError(`permutation: n must be a non-negative integer, got ${n}`);
  const device = opts.device ?? defaultDevice();
  const r = rand([n], { ...opts, device });
  if (r.isTraced) throw new KilnError('permutation: not available inside jit (it sorts on the host); draw it outside and pass it in');
  const vals = r.dataSync();
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => vals[a] - vals[b] || a - b);
  return Tensor._fromHost(hostArray('int32', [n], order), device);
}
