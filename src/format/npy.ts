// NumPy's .npy format (versions 1.0–3.0), reading and writing: magic, version, a Python-literal header
// dict {'descr', 'fortran_order', 'shape'} padded to 64 bytes, then the raw elements. The header is read
// with a small literal parser (never evaluated).
import { KilnError } from '../ir/error.js';
import type { DType, TypedArray } from '../ir/dtype.js';
import { allocArray } from '../ir/dtype.js';
import type { HostArray } from '../ir/array.js';
import { sizeOf, stridesOf } from '../ir/shape.js';
import { checkShape, decodeElements, encodeElements, fromUtf8, utf8, describeValue, isRecord } from './bytes.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const WHERE = 'npy';

const DESCR: Record<DType, string> = { float32: '<f4', float64: '<f8', int32: '<i4', bool: '|b1' };

/** Descriptors Kiln reads: its own dtypes, plus common integer widths converted to int32 when they fit. */
interface Reader {
  readonly dtype: DType;
  readonly width: number;
  readonly get?: (v: DataView, byte: number) => number;
}
const READERS: Record<string, Reader> = {
  '<f4': { dtype: 'float32', width: 4 },
  '<f8': { dtype: 'float64', width: 8 },
  '<i4': { dtype: 'int32', width: 4 },
  '|b1': { dtype: 'bool', width: 1 },
  '<i8': { dtype: 'int32', width: 8, get: (v, b) => Number(v.getBigInt64(b, true)) },
  '<u4': { dtype: 'int32', width: 4, get: (v, b) => v.getUint32(b, true) },
  '<i2': { dtype: 'int32', width: 2, get: (v, b) => v.getInt16(b, true) },
  '<u2': { dtype: 'int32', width: 2, get: (v, b) => v.getUint16(b, true) },
  '|i1': { dtype: 'int32', width: 1, get: (v, b) => v.getInt8(b) },
  '|u1': { dtype: 'int32', width: 1, get: (v, b) => v.getUint8(b) },
};

export function serializeNpy(a: HostArray): Uint8Array {
  if (!isRecord(a) || !Array.isArray(a.shape) || !a.data) throw new KilnError(`${WHERE}: expected an array {dtype, shape, data}, got ${describeValue(a)}`);
  const descr = DESCR[a.dtype];
  if (!descr) throw new KilnError(`${WHERE}: dtype ${String(a.dtype)} cannot be written`);
  if (a.data.length !== sizeOf(a.shape)) throw new KilnError(`${WHERE}: ${a.data.length} values for shape [${a.shape.join(',')}]`);
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // magic(6) + version(2) + length(2) + dict + padding + '\n' is a multiple of 64 (NumPy's alignment).
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict + ' '.repeat(total - 10 - dict.length - 1) + '\n';
  const version = dict.length > 0xffff ? 2 : 1;
  const pre = version === 1 ? 10 : 12;
  const head = utf8(dict);
  const body = a.dtype === 'bool' ? Uint8Array.from(a.data, (x) => (x ? 1 : 0)) : encodeElements(a.dtype, a.data);
  const out = new Uint8Array(pre + head.length + body.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, head.length, true);
  else v.setUint32(8, head.length, true);
  out.set(head, pre);
  out.set(body, pre + head.length);
  return out;
}

// ---- the header: a Python dict literal of strings, booleans, ints and tuples ----------------------

type PyValue = string | boolean | number | PyValue[] | Map<string, PyValue>;

function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const err = (msg: string): never => {
    throw new KilnError(`${WHERE}: header ${JSON.stringify(text.trim())}: ${msg} at character ${i}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (depth: number): PyValue => {
    if (depth > 16) err('nesting too deep');
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) err('unterminated string');
      const s = text.slice(i + 1, end);
      if (s.includes('\\')) err('escapes in strings are not supported');
      i = end + 1;
      return s;
    }
    if (text.startsWith('True', i)) return (i += 4), true;
    if (text.startsWith('False', i)) return (i += 5), false;
    const num = /^-?[0-9]+L?/.exec(text.slice(i, i + 32));
    if (num) {
      i += num[0].length;
      const n = Number(num[0].replace('L', ''));
      if (!Number.isSafeInteger(n)) err(`integer ${num[0]} is too large`);
      return n;
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) break;
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) err(`expected ',' or '${close}'`);
      }
      i++;
      return items;
    }
    if (c === '{') {
      i++;
      const m = new Map<string, PyValue>();
      for (;;) {
        ws();
        if (text[i] === '}') break;
        const k = value(depth + 1);
        if (typeof k !== 'string') err('dict keys must be strings');
        ws();
        if (text[i++] !== ':') err("expected ':'");
        if (m.has(k as string)) err(`key '${String(k)}' is given twice`);
        m.set(k as string, value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') err("expected ',' or '}'");
      }
      i++;
      return m;
    }
    return err('unexpected text');
  };
  const v = value(0);
  ws();
  if (i !== text.length) err('trailing text after the header dict');
  return v;
}

/** Fortran (column-major) data into row-major order. */
function fromFortran(dtype: DType, shape: number[], data: TypedArray): TypedArray {
  const out = allocArray(dtype, data.length);
  const rank = shape.length;
  const c = stridesOf(shape);
  // Column-major strides: first axis fastest.
  const f = new Array<number>(rank);
  let acc = 1;
  for (let d = 0; d < rank; d++) {
    f[d] = acc;
    acc *= shape[d];
  }
  for (let i = 0; i < data.length; i++) {
    let rem = i;
    let src = 0;
    for (let d = 0; d < rank; d++) {
      const idx = Math.floor(rem / c[d]);
      rem -= idx * c[d];
      src += idx * f[d];
    }
    out[i] = data[src];
  }
  return out;
}

/** Parses a .npy file into a row-major array (Fortran order is transposed; int64 etc. become int32). */
export function parseNpy(bytes: Uint8Array): HostArray {
  if (!(bytes instanceof Uint8Array)) throw new KilnError(`${WHERE}: expected bytes (a Uint8Array), got ${describeValue(bytes)}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new KilnError(`${WHERE}: not a .npy file (the magic \\x93NUMPY is missing)`);
  const major = bytes[6];
  if (major < 1 || major > 3) throw new KilnError(`${WHERE}: format version ${major}.${bytes[7]} is not supported (1.0 to 3.0 are)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pre = major === 1 ? 10 : 12;
  if (bytes.length < pre) throw new KilnError(`${WHERE}: truncated before the header length`);
  const hlen = major === 1 ? v.getUint16(8, true) : v.getUint32(8, true);
  if (pre + hlen > bytes.length) throw new KilnError(`${WHERE}: header length ${hlen} reaches past the end of the ${bytes.length}-byte file (truncated?)`);
  if (hlen > 1 << 20) throw new KilnError(`${WHERE}: header length ${hlen} is implausibly large`);
  const raw = bytes.subarray(pre, pre + hlen);
  const text = major === 3 ? fromUtf8(`${WHERE}: header`, raw) : Array.from(raw, (b) => String.fromCharCode(b)).join('');
  const dict = parsePyLiteral(text);
  if (!(dict instanceof Map)) throw new KilnError(`${WHERE}: the header must be a dict`);
  for (const k of dict.keys()) if (k !== 'descr' && k !== 'fortran_order' && k !== 'shape') throw new KilnError(`${WHERE}: unknown header key '${k}'`);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  if (typeof descr !== 'string') throw new KilnError(`${WHERE}: header 'descr' must be a string`);
  if (typeof fortran !== 'boolean') throw new KilnError(`${WHERE}: header 'fortran_order' must be True or False`);
  const reader = Object.hasOwn(READERS, descr) ? READERS[descr] : undefined;
  if (!reader) throw new KilnError(`${WHERE}: dtype '${descr}' is not supported (readable: ${Object.keys(READERS).join(', ')}; big-endian and structured arrays are not)`);
  const shape = checkShape(WHERE, dict.get('shape'));
  const count = sizeOf(shape);
  const body = bytes.subarray(pre + hlen);
  if (body.length !== count * reader.width) {
    throw new KilnError(`${WHERE}: '${descr}' [${shape.join(',')}] needs ${count * reader.width} data bytes, the file has ${body.length}${body.length < count * reader.width ? ' (truncated?)' : ''}`);
  }
  let data: TypedArray;
  if (reader.get) {
    data = new Int32Array(count);
    const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let i = 0; i < count; i++) {
      const x = reader.get(bv, i * reader.width);
      if (x < -0x80000000 || x > 0x7fffffff) throw new KilnError(`${WHERE}: '${descr}' element ${i} is ${x}, outside the int32 range`);
      data[i] = x;
    }
  } else {
    data = decodeElements(reader.dtype, body, count);
    if (reader.dtype === 'bool') {
      const bad = (data as Uint8Array).findIndex((x) => x > 1);
      if (bad >= 0) throw new KilnError(`${WHERE}: bool element ${bad} is ${data[bad]} (not 0 or 1)`);
    }
  }
  if (fortran && shape.length > 1) data = fromFortran(reader.dtype, shape, data);
  return { dtype: reader.dtype, shape, data };
}
