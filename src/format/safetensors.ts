// The safetensors format (huggingface/safetensors), reading and writing: an 8-byte little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, __metadata__?}, then the
// byte buffer. Reading is strict: every offset in range, no overlap, no hole, sizes matching shapes.
import { KilnError } from '../ir/error.js';
import type { DType } from '../ir/dtype.js';
import { BYTES } from '../ir/dtype.js';
import type { HostArray } from '../ir/array.js';
import { sizeOf } from '../ir/shape.js';
import { checkShape, decodeElements, encodeElements, fromUtf8, isRecord, parseJson, readU64, utf8, writeU64, describeValue } from './bytes.js';

/** The safetensors dtype names Kiln reads and writes (others are rejected by name). */
export const SAFETENSORS_DTYPE: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };
const FROM_SAFETENSORS: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32', BOOL: 'bool' };

/** The reference implementation's bound; a larger header is a corrupt or hostile file. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface Safetensors {
  readonly tensors: Record<string, HostArray>;
  /** The optional `__metadata__` string map. */
  readonly metadata?: Record<string, string>;
}

const WHERE = 'safetensors';

/**
 * Serializes named arrays. Tensors are laid out by decreasing element width, then in the given order,
 * so every tensor starts aligned to its element size (the header is space-padded to 8 bytes, as the
 * reference writer does) and other tools can view the data without copying.
 */
export function serializeSafetensors(tensors: Record<string, HostArray>, metadata?: Record<string, string>): Uint8Array {
  if (!isRecord(tensors)) throw new KilnError(`${WHERE}: expected a record of arrays, got ${describeValue(tensors)}`);
  for (const [name, t] of Object.entries(tensors)) {
    if (!isRecord(t) || typeof t.dtype !== 'string' || !Array.isArray(t.shape) || !t.data || typeof (t.data as { length?: unknown }).length !== 'number') {
      throw new KilnError(`${WHERE}: tensor '${name}' is not an array: ${describeValue(t)}`);
    }
  }
  if (metadata !== undefined && !isRecord(metadata)) throw new KilnError(`${WHERE}: metadata must be a record of strings, got ${describeValue(metadata)}`);
  const names = Object.keys(tensors);
  const order = names.map((name, i) => ({ name, i })).sort((a, b) => BYTES[tensors[b.name].dtype] - BYTES[tensors[a.name].dtype] || a.i - b.i);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new KilnError(`${WHERE}: metadata value ${k} must be a string, got ${typeof v}`);
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const { name } of order) {
    if (name === '' || name === '__metadata__') throw new KilnError(`${WHERE}: '${name}' cannot name a tensor`);
    const t = tensors[name];
    const dtype = SAFETENSORS_DTYPE[t.dtype];
    if (dtype === undefined) throw new KilnError(`${WHERE}: tensor ${name} has dtype ${String(t.dtype)}, which safetensors cannot hold`);
    if (t.data.length !== sizeOf(t.shape)) throw new KilnError(`${WHERE}: tensor ${name} has ${t.data.length} values for shape [${t.shape.join(',')}]`);
    const bytes = t.dtype === 'bool' ? Uint8Array.from(t.data, (x) => (x ? 1 : 0)) : encodeElements(t.dtype, t.data);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = utf8(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = utf8(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const out = new Uint8Array(8 + json.length + offset);
  writeU64(out, 0, json.length);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

function readEntry(name: string, info: unknown, bufferBytes: number): Entry {
  const where = `${WHERE}: tensor ${JSON.stringify(name)}`;
  if (name === '') throw new KilnError(`${WHERE}: a tensor has an empty name`);
  if (!isRecord(info)) throw new KilnError(`${where}: expected {dtype, shape, data_offsets}, got ${JSON.stringify(info)}`);
  for (const k of Object.keys(info)) if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') throw new KilnError(`${where}: unknown field ${JSON.stringify(k)}`);
  const dt = info.dtype;
  if (typeof dt !== 'string' || !Object.hasOwn(FROM_SAFETENSORS, dt)) {
    throw new KilnError(`${where}: dtype ${JSON.stringify(dt)} is not supported (Kiln reads ${Object.keys(FROM_SAFETENSORS).join(', ')})`);
  }
  const dtype = FROM_SAFETENSORS[dt];
  const shape = checkShape(where, info.shape);
  const offs = info.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new KilnError(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offs)}`);
  }
  const [begin, end] = offs as number[];
  if (begin > end) throw new KilnError(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > bufferBytes) throw new KilnError(`${where}: data_offsets [${begin}, ${end}] reach past the ${bufferBytes}-byte data buffer (truncated file?)`);
  const need = sizeOf(shape) * BYTES[dtype];
  if (end - begin !== need) throw new KilnError(`${where}: ${dt}[${shape.join(',')}] needs ${need} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  return { name, dtype, shape, begin, end };
}

/** Parses and validates a safetensors file; every problem is a KilnError that says what is wrong. */
export function parseSafetensors(bytes: Uint8Array): Safetensors {
  if (!(bytes instanceof Uint8Array)) throw new KilnError(`${WHERE}: expected bytes (a Uint8Array), got ${describeValue(bytes)}`);
  if (bytes.length < 8) throw new KilnError(`${WHERE}: ${bytes.length} bytes is too short for the 8-byte header length`);
  const n = readU64(`${WHERE}: header length`, bytes, 0);
  if (n > MAX_HEADER_BYTES) throw new KilnError(`${WHERE}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (8 + n > bytes.length) throw new KilnError(`${WHERE}: header length ${n} reaches past the end of the ${bytes.length}-byte file (truncated?)`);
  const text = fromUtf8(`${WHERE}: header`, bytes.subarray(8, 8 + n));
  if (!text.startsWith('{')) throw new KilnError(`${WHERE}: header must be a JSON object starting with '{'`);
  const header = parseJson(`${WHERE}: header`, text);
  if (!isRecord(header)) throw new KilnError(`${WHERE}: header must be a JSON object`);
  const data = bytes.subarray(8 + n);
  let metadata: Record<string, string> | undefined;
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(info)) throw new KilnError(`${WHERE}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(info)) if (typeof v !== 'string') throw new KilnError(`${WHERE}: __metadata__ ${JSON.stringify(k)} must be a string, got ${JSON.stringify(v)}`);
      metadata = info as Record<string, string>;
      continue;
    }
    entries.push(readEntry(name, info, data.length));
  }
  // Sorted by position the tensors must tile the buffer exactly: no overlap, no hole, nothing after.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) throw new KilnError(`${WHERE}: tensor ${JSON.stringify(e.name)} at bytes [${e.begin}, ${e.end}] overlaps the tensor before it (which ends at ${at})`);
    if (e.begin > at) throw new KilnError(`${WHERE}: bytes [${at}, ${e.begin}) before tensor ${JSON.stringify(e.name)} belong to no tensor`);
    at = e.end;
  }
  if (at !== data.length) throw new KilnError(`${WHERE}: the data buffer has ${data.length} bytes but the tensors cover ${at}`);
  const tensors: Record<string, HostArray> = Object.create(null) as Record<string, HostArray>;
  for (const e of entries) {
    const count = sizeOf(e.shape);
    const raw = data.subarray(e.begin, e.end);
    if (e.dtype === 'bool') {
      const bad = raw.findIndex((x) => x > 1);
      if (bad >= 0) throw new KilnError(`${WHERE}: tensor ${JSON.stringify(e.name)} is BOOL but element ${bad} is ${raw[bad]} (not 0 or 1)`);
    }
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: decodeElements(e.dtype, raw, count) };
  }
  return metadata === undefined ? { tensors: { ...tensors } } : { tensors: { ...tensors }, metadata: { ...metadata } };
}
