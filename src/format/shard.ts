// The shard format `kiln convert` writes and ShardDataset streams: a small header, then fixed-size
// records (all fields of one sample together), so sample i lives at dataOffset + i * recordBytes and a
// batch is read with one positional read per sample, never the whole file.
//
//   0  magic  \x89 K S H D \r \n \x1a
//   8  u32le  format version (1)
//   12 u32le  header JSON byte length H (at most 1 MiB)
//   16 H B    header JSON {count, fields: [{name, dtype, shape, scale?}], recordBytes, dataOffset}
//   ...       zero padding to dataOffset (8-aligned), then count * recordBytes bytes of records
import { KilnError } from '../ir/error.js';
import { checkShape, fromUtf8, isRecord, parseJson, utf8 } from './bytes.js';

export const SHARD_MAGIC = Uint8Array.from([0x89, 0x4b, 0x53, 0x48, 0x44, 0x0d, 0x0a, 0x1a]);
export const SHARD_VERSION = 1;
const MAX_HEADER = 1 << 20;

/** Storage types: uint8 keeps images at a quarter of float32's size (read back as float32 * scale). */
export type ShardDType = 'uint8' | 'int32' | 'float32';
export const SHARD_BYTES: Record<ShardDType, number> = { uint8: 1, int32: 4, float32: 4 };

export interface ShardField {
  readonly name: string;
  readonly dtype: ShardDType;
  /** Shape of one sample's value ([] for a label). */
  readonly shape: readonly number[];
  /** uint8 fields are read as float32 times this (e.g. 1/255); default 1. */
  readonly scale?: number;
}

export interface ShardHeader {
  readonly count: number;
  readonly fields: readonly ShardField[];
  readonly recordBytes: number;
  readonly dataOffset: number;
}

export function fieldBytes(f: ShardField): number {
  return f.shape.reduce((p, d) => p * d, 1) * SHARD_BYTES[f.dtype];
}

/** The header bytes (magic through padding) for `count` records of `fields`. */
export function encodeShardHeader(count: number, fields: readonly ShardField[]): { bytes: Uint8Array; header: ShardHeader } {
  const recordBytes = fields.reduce((p, f) => p + fieldBytes(f), 0);
  let dataOffset = 0;
  let json: Uint8Array = new Uint8Array(0);
  for (let round = 0; round < 4; round++) {
    json = utf8(JSON.stringify({ count, fields, recordBytes, dataOffset }));
    const next = Math.ceil((16 + json.length) / 8) * 8;
    if (next === dataOffset) break;
    dataOffset = next;
  }
  const bytes = new Uint8Array(dataOffset);
  bytes.set(SHARD_MAGIC);
  const v = new DataView(bytes.buffer);
  v.setUint32(8, SHARD_VERSION, true);
  v.setUint32(12, json.length, true);
  bytes.set(json, 16);
  return { bytes, header: { count, fields, recordBytes, dataOffset } };
}

function bad(msg: string): never {
  throw new KilnError(`shard: ${msg}`);
}

/** How many leading bytes decodeShardHeader needs: call with the first 16, then with this many. */
export function shardHeaderLength(prefix: Uint8Array): number {
  if (prefix.length < 16 || !SHARD_MAGIC.every((b, i) => prefix[i] === b)) bad('not a Kiln shard file (magic \\x89KSHD missing)');
  const v = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const version = v.getUint32(8, true);
  if (version !== SHARD_VERSION) bad(`format version ${version} is not supported (this reader reads ${SHARD_VERSION})`);
  const h = v.getUint32(12, true);
  if (h > MAX_HEADER) bad(`header length ${h} exceeds the ${MAX_HEADER}-byte limit`);
  return 16 + h;
}

/** Validates the header against the file's size (records must fill the file exactly). */
export function decodeShardHeader(head: Uint8Array, fileBytes: number): ShardHeader {
  const n = shardHeaderLength(head);
  if (head.length < n || fileBytes < n) bad(`truncated inside the ${n}-byte header`);
  const x = parseJson('shard: header', fromUtf8('shard: header', head.subarray(16, n)));
  if (!isRecord(x)) bad('header must be a JSON object');
  const nat = (what: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what} must be a non-negative integer`);
    return v;
  };
  const count = nat('count', x.count);
  if (!Array.isArray(x.fields) || x.fields.length === 0 || x.fields.length > 64) bad('fields must list 1 to 64 fields');
  const names = new Set<string>();
  const fields = x.fields.map((f, i): ShardField => {
    if (!isRecord(f) || typeof f.name !== 'string' || f.name === '' || names.has(f.name)) bad(`fields[${i}] needs a unique non-empty name`);
    names.add(f.name as string);
    if (f.dtype !== 'uint8' && f.dtype !== 'int32' && f.dtype !== 'float32') bad(`field ${f.name}: dtype ${JSON.stringify(f.dtype)} is not uint8, int32 or float32`);
    const shape = checkShape(`shard: field ${f.name}`, f.shape);
    if (f.scale !== undefined && (typeof f.scale !== 'number' || !Number.isFinite(f.scale))) bad(`field ${f.name}: scale must be a finite number`);
    return { name: f.name as string, dtype: f.dtype, shape, ...(f.scale !== undefined ? { scale: f.scale as number } : {}) };
  });
  const recordBytes = nat('recordBytes', x.recordBytes);
  const dataOffset = nat('dataOffset', x.dataOffset);
  if (recordBytes !== fields.reduce((p, f) => p + fieldBytes(f), 0)) bad(`recordBytes ${recordBytes} is not the sum of the fields' sizes`);
  if (dataOffset < n || dataOffset % 8 !== 0) bad(`dataOffset ${dataOffset} must be 8-aligned and after the header`);
  const want = dataOffset + count * recordBytes;
  if (fileBytes !== want) bad(`the file has ${fileBytes} bytes but ${count} records of ${recordBytes} bytes at ${dataOffset} need ${want}${fileBytes < want ? ' (truncated?)' : ''}`);
  return { count, fields, recordBytes, dataOffset };
}
