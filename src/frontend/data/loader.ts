// DataLoader: batches of a Dataset with seeded shuffling, drop-last, a collate function, batch
// transforms, and (for `for await`) the next batch prepared while the current one is used.
import { KilnError } from '../../ir/error.js';
import { hostArray } from '../../ir/array.js';
import { allocArray } from '../../ir/dtype.js';
import { Tensor } from '../tensor.js';
import type { Dataset } from './dataset.js';
import { defaultDevice } from '../trace.js';

export interface DataLoaderOptions<T, B> {
  batchSize?: number;
  shuffle?: boolean;
  /** Seed of the shuffling; each epoch advances it so epochs differ but runs repeat. */
  seed?: number;
  dropLast?: boolean;
  /** Turns a list of samples into a batch (default: stack tensors leaf by leaf). */
  collate?: (samples: T[]) => B;
  /** Applied to every batch (augmentation, normalization). */
  transform?: (batch: B) => B;
}

/** A small seeded PRNG (mulberry32) for shuffling on the host; device-independent and repeatable. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates permutation of 0..n-1. */
export function shuffledIndices(n: number, random: () => number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}

/** Default collate: stacks tensors (or numbers) position by position along a new leading axis. */
export function defaultCollate(samples: unknown[]): unknown {
  const first = samples[0];
  if (first instanceof Tensor) {
    const ts = samples as Tensor[];
    const per = first.size;
    const out = allocArray(first.dtype, per * ts.length);
    ts.forEach((t, i) => {
      if (t.dtype !== first.dtype || t.size !== per) throw new KilnError(`DataLoader: sample ${i} is ${t.describe()}, sample 0 is ${first.describe()}; they cannot be stacked`);
      out.set(t.dataSync(), i * per);
    });
    return Tensor._fromHost(hostArray(first.dtype, [ts.length, ...first.shape], out), first.device);
  }
  // float32 whatever the values (a dtype read from values could change from batch to batch); on the
  // default device, where datasets put their batches.
  if (typeof first === 'number') return Tensor._fromHost(hostArray('float32', [samples.length], samples as number[]), defaultDevice());
  if (Array.isArray(first)) return first.map((_, k) => defaultCollate(samples.map((s) => (s as unknown[])[k])));
  if (first && typeof first === 'object') {
    return Object.fromEntries(Object.keys(first).map((k) => [k, defaultCollate(samples.map((s) => (s as Record<string, unknown>)[k]))]));
  }
  throw new KilnError(`DataLoader: cannot collate samples of type ${typeof first}; pass a collate function`);
}

export class DataLoader<T = unknown, B = T> implements Iterable<B>, AsyncIterable<B> {
  readonly batchSize: number;
  private epoch = 0;

  constructor(readonly dataset: Dataset<T>, readonly options: DataLoaderOptions<T, B> = {}) {
    this.batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new KilnError(`DataLoader: batchSize must be a positive integer, got ${options.batchSize}`);
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.options.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  private order(): Int32Array {
    const n = this.dataset.length;
    const epoch = this.epoch++;
    if (!this.options.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return shuffledIndices(n, mulberry32((this.options.seed ?? 0) * 1000003 + epoch));
  }

  private makeBatch(indices: Int32Array): B {
    const ds = this.dataset;
    let batch: B;
    if (ds.getBatch && !this.options.collate) batch = ds.getBatch(indices) as unknown as B;
    else {
      const samples = Array.from(indices, (i) => ds.get(i));
      batch = (this.options.collate ?? (defaultCollate as (s: T[]) => B))(samples);
    }
    return this.options.transform ? this.options.transform(batch) : batch;
  }

  private *batchIndices(): Generator<Int32Array> {
    const order = this.order();
    for (let b = 0; b < this.length; b++) yield order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize));
  }

  *[Symbol.iterator](): Iterator<B> {
    for (const idx of this.batchIndices()) yield this.makeBatch(idx);
  }

  /** Async iteration prepares batch k+1 (in a macrotask) while the consumer works on batch k. */
  async *[Symbol.asyncIterator](): AsyncIterator<B> {
    const it = this.batchIndices();
    const prepare = (r: IteratorResult<Int32Array>) => {
      if (r.done) return null;
      const p = new Promise<B>((resolve, reject) => setImmediate(() => { try { resolve(this.makeBatch(r.value)); } catch (e) { reject(e); } }));
      // A consumer that stops early never awaits the batch prepared ahead: its failure must not become an
      // unhandled rejection (which ends the Node process). Awaiting it still throws.
      p.catch(() => {});
      return p;
    };
    let next = prepare(it.next());
    while (next) {
      const batch = await next;
      next = prepare(it.next());
      yield batch;
    }
  }
}
