// ShardDataset: streams samples from a shard file (src/format/shard.ts) with positional reads, so a
// dataset larger than memory trains through a DataLoader; writeShard packs columns into one.
import { openSync, readSync, closeSync, fstatSync, writeSync } from 'node:fs';
import { KilnError } from '../../ir/error.js';
import { hostArray } from '../../ir/array.js';
import type { DType } from '../../ir/dtype.js';
import { decodeShardHeader, encodeShardHeader, fieldBytes, shardHeaderLength, SHARD_BYTES } from '../../format/shard.js';
import type { ShardField, ShardHeader, ShardDType } from '../../format/shard.js';
import { Tensor } from '../tensor.js';
import { defaultDevice } from '../trace.js';
import type { Dataset } from './dataset.js';
import { reshapeTo } from '../ops/nn_internal.js';

export type { ShardField, ShardDType };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
if (!LITTLE_ENDIAN) throw new KilnError('shard: big-endian hosts are not supported');

export interface ShardColumn {
  readonly field: ShardField;
  /** All samples' values, row-major with the sample index first (length count * per-sample size). */
  readonly data: Uint8Array | Int32Array | Float32Array;
}

/** Writes columns (equal sample counts) as one shard file, sample by sample in chunks. */
export function writeShard(path: string, count: number, columns: readonly ShardColumn[]): ShardHeader {
  const { bytes, header } = encodeShardHeader(count, columns.map((c) => c.field));
  for (const c of columns) {
    const per = fieldBytes(c.field) / SHARD_BYTES[c.field.dtype];
    if (c.data.length !== count * per) throw new KilnError(`writeShard: field ${c.field.name} holds ${c.data.length} values, ${count} samples of [${c.field.shape.join(',')}] need ${count * per}`);
    const want = { uint8: Uint8Array, int32: Int32Array, float32: Float32Array }[c.field.dtype];
    if (!(c.data instanceof want)) throw new KilnError(`writeShard: field ${c.field.name} is ${c.field.dtype} but its data is a ${c.data.constructor.name}`);
  }
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, bytes);
    const chunk = Math.max(1, Math.floor((1 << 22) / Math.max(1, header.recordBytes)));
    const buf = new Uint8Array(chunk * header.recordBytes);
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      let at = 0;
      for (let i = start; i < start + n; i++) {
        for (const c of columns) {
          const fb = fieldBytes(c.field);
          buf.set(new Uint8Array(c.data.buffer, c.data.byteOffset + i * fb, fb), at);
          at += fb;
        }
      }
      writeSync(fd, buf.subarray(0, at));
    }
  } finally {
    closeSync(fd);
  }
  return header;
}

export interface ShardDatasetOptions {
  /** Only these fields, in this order (default: all). */
  fields?: readonly string[];
  device?: string;
}

const OUT_DTYPE: Record<ShardDType, DType> = { uint8: 'float32', int32: 'int32', float32: 'float32' };

/**
 * A Dataset over a shard file: `getBatch` reads just the requested records (one positional read each)
 * and returns one tensor per field ([batch, ...shape]); uint8 fields come back as float32 * scale.
 */
export class ShardDataset implements Dataset<Tensor[]> {
  readonly header: ShardHeader;
  readonly fields: readonly ShardField[];
  private fd: number | null;
  private readonly offsets: number[];
  private readonly device: string;

  constructor(readonly path: string, options: ShardDatasetOptions = {}) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new KilnError(`ShardDataset: cannot open ${path}: ${(e as Error).message}`);
    }
    this.fd = fd;
    try {
      const size = fstatSync(fd).size;
      const prefix = new Uint8Array(16);
      readSync(fd, prefix, 0, 16, 0);
      const head = new Uint8Array(Math.min(shardHeaderLength(prefix), size));
      readSync(fd, head, 0, head.length, 0);
      this.header = decodeShardHeader(head, size);
    } catch (e) {
      closeSync(fd);
      this.fd = null;
      throw e instanceof KilnError ? new KilnError(`ShardDataset: ${path}: ${e.message}`) : e;
    }
    const all = this.header.fields;
    const starts: number[] = [];
    let at = 0;
    for (const f of all) {
      starts.push(at);
      at += fieldBytes(f);
    }
    const names = options.fields ?? all.map((f) => f.name);
    this.fields = names.map((n) => all.find((f) => f.name === n) ?? (() => { throw new KilnError(`ShardDataset: no field ${JSON.stringify(n)} in ${path} (fields: ${all.map((f) => f.name).join(', ')})`); })());
    this.offsets = this.fields.map((f) => starts[all.indexOf(f)]);
    this.device = options.device ?? defaultDevice();
  }

  get length(): number {
    return this.header.count;
  }

  get(index: number): Tensor[] {
    return this.getBatch(Int32Array.of(index)).map((t) => reshapeTo(t, t.shape.slice(1)));
  }

  getBatch(indices: Int32Array): Tensor[] {
    if (this.fd === null) throw new KilnError(`ShardDataset: ${this.path} is closed`);
    const { recordBytes, dataOffset, count } = this.header;
    const rec = new Uint8Array(recordBytes);
    const outs = this.fields.map((f) => new (f.dtype === 'int32' ? Int32Array : Float32Array)(indices.length * (fieldBytes(f) / SHARD_BYTES[f.dtype])));
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i];
      if (!Number.isInteger(r) || r < 0 || r >= count) throw new KilnError(`ShardDataset: index ${r} is out of range for ${count} samples`);
      const got = readSync(this.fd, rec, 0, recordBytes, dataOffset + r * recordBytes);
      if (got !== recordBytes) throw new KilnError(`ShardDataset: short read at record ${r} (the file changed?)`);
      this.fields.forEach((f, k) => {
        const n = fieldBytes(f) / SHARD_BYTES[f.dtype];
        const src = rec.subarray(this.offsets[k], this.offsets[k] + fieldBytes(f));
        const out = outs[k];
        if (f.dtype === 'uint8') {
          const s = f.scale ?? 1;
          for (let j = 0; j < n; j++) out[i * n + j] = src[j] * s;
        } else {
          const view = f.dtype === 'int32' ? new Int32Array(src.slice().buffer) : new Float32Array(src.slice().buffer);
          out.set(view, i * n);
        }
      });
    }
    return this.fields.map((f, k) => Tensor._fromHost(hostArray(OUT_DTYPE[f.dtype], [indices.length, ...f.shape], outs[k]), this.device));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
