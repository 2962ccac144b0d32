// safetensors and npy against bytes written by hand in the test (the format documents, not our writer),
// round trips through files, and strict rejection of malformed headers and buffers.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import '../../src/codegen/cpu_ref.js';
import { KilnError } from '../../src/ir/error.js';
import { parseSafetensors, serializeSafetensors } from '../../src/format/safetensors.js';
import { parseNpy, serializeNpy } from '../../src/format/npy.js';
import { sha256Hex } from '../../src/format/sha256.js';
import { load, save } from '../../src/frontend/io/safetensors.js';
import { loadNpy, saveNpy } from '../../src/frontend/io/npy.js';
import { tensor } from '../../src/frontend/convert.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** An 8-byte little-endian length, the header, then the data: built byte by byte, as the spec says. */
function handMadeSafetensors(header: string, data: number[]): Uint8Array {
  const h = enc(header);
  const out = new Uint8Array(8 + h.length + data.length);
  let n = h.length;
  for (let i = 0; i < 8; i++) {
    out[i] = n & 0xff;
    n = Math.floor(n / 256);
  }
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

// f32 1.5 = 0x3fc00000, -2 = 0xc0000000 (little-endian bytes); i32 7, -1; bool 1, 0, 1.
const F32_BYTES = [0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0];
const I32_BYTES = [0x07, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
const BOOL_BYTES = [1, 0, 1];
// f64 0.1 = 0x3fb999999999999a
const F64_BYTES = [0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f];

function expectKiln(f: () => unknown, message: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KilnError);
  expect((err as Error).message).toMatch(message);
}

describe('safetensors', () => {
  const header =
    '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
    '"idx":{"dtype":"I32","shape":[1,2],"data_offsets":[8,16]},"d":{"dtype":"F64","shape":[],"data_offsets":[16,24]},' +
    '"mask":{"dtype":"BOOL","shape":[3],"data_offsets":[24,27]}}';
  const file = handMadeSafetensors(header, [...F32_BYTES, ...I32_BYTES, ...F64_BYTES, ...BOOL_BYTES]);

  it('reads a file whose bytes were written by hand', () => {
    const { tensors, metadata } = parseSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.w).toEqual({ dtype: 'float32', shape: [2], data: new Float32Array([1.5, -2]) });
    expect(tensors.idx).toEqual({ dtype: 'int32', shape: [1, 2], data: new Int32Array([7, -1]) });
    expect(tensors.d.dtype).toBe('float64');
    expect(tensors.d.data[0]).toBe(0.1);
    expect(tensors.mask).toEqual({ dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) });
  });

  it('writes what the spec says: u64 length, space-padded JSON, data by decreasing width, aligned', () => {
    const bytes = serializeSafetensors(
      {
        mask: { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
        w: { dtype: 'float32', shape: [2], data: new Float32Array([1.5, -2]) },
        d: { dtype: 'float64', shape: [], data: new Float64Array([0.1]) },
      },
      { format: 'pt' },
    );
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(0);
    expect((8 + n) % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt"},"d":{"dtype":"F64","shape":[],"data_offsets":[0,8]},' +
        '"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"mask":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]}}',
    );
    expect([...bytes.subarray(8 + n)]).toEqual([...F64_BYTES, ...F32_BYTES, ...BOOL_BYTES]);
    expect(parseSafetensors(bytes).tensors.w.data).toEqual(new Float32Array([1.5, -2]));
  });

  it('rejects malformed files with a KilnError naming the problem', () => {
    const one = (h: string, data: number[]) => () => parseSafetensors(handMadeSafetensors(h, data));
    const w = (offs: string, shape = '[2]', dtype = 'F32') => `{"w":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offs}}}`;
    expectKiln(one(w('[0,8]'), F32_BYTES.slice(0, 4)), /reach past/);
    expectKiln(one(w('[0,4]'), F32_BYTES.slice(0, 4)), /needs 8 bytes/);
    expectKiln(one(w('[0,8]', '[2]', 'F16'), F32_BYTES), /F16.*not supported/);
    expectKiln(one(w('[8,0]'), F32_BYTES), /end before/);
    expectKiln(one(w('[0,8]', '[-2]'), F32_BYTES), /dimension/);
    expectKiln(one(w('[0,8]'), [...F32_BYTES, 0]), /cover 8/);
    expectKiln(one('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', F32_BYTES), /overlaps/);
    expectKiln(one('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', F32_BYTES), /belong to no tensor/);
    expectKiln(one('{"w":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}', [2]), /not 0 or 1/);
    expectKiln(one('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}', F32_BYTES.slice(0, 4)), /unknown field/);
    expectKiln(one('{"__metadata__":{"a":1}}', []), /must be a string/);
    expectKiln(one('{"w":', []), /malformed JSON/);
    expectKiln(one('[1]', []), /JSON object/);
    expectKiln(() => parseSafetensors(new Uint8Array(5)), /too short/);
    const huge = new Uint8Array(16);
    huge[7] = 0x7f;
    expectKiln(() => parseSafetensors(huge), /larger than any file/);
    huge[7] = 0;
    huge[3] = 0x10;
    expectKiln(() => parseSafetensors(huge), /exceeds/);
    expectKiln(() => parseSafetensors(handMadeSafetensors('{}', []).subarray(0, 9)), /past the end/);
  });

  it('save/load through a file keeps names, dtypes, shapes and values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-st-'));
    const path = join(dir, 'w.safetensors');
    const state = {
      'fc.weight': tensor([[0.25, -1.5, 3], [4.5, 5, -6.125]]),
      'fc.bias': tensor([0.5, -0.75]),
      steps: tensor([3, -4], { dtype: 'int32' }),
      flag: tensor([true, false]),
      big: tensor([0.1, 1e300], { dtype: 'float64' }),
    };
    await save(state, path);
    const back = await load(path);
    expect(Object.keys(back).sort()).toEqual(Object.keys(state).sort());
    for (const [k, t] of Object.entries(state)) {
      expect(back[k].dtype).toBe(t.dtype);
      expect(back[k].shape).toEqual(t.shape);
      expect(back[k].dataSync()).toEqual(t.dataSync());
    }
  });
});

describe('npy', () => {
  /** The NumPy 1.0 layout, by hand: magic, version, u16 header length, dict padded with spaces and '\n' to 64. */
  function handMadeNpy(dict: string, data: number[]): Uint8Array {
    const padded = dict + ' '.repeat(64 - ((10 + dict.length + 1) % 64 || 64)) + '\n';
    const out = new Uint8Array(10 + padded.length + data.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length & 0xff, padded.length >> 8]);
    out.set(enc(padded), 10);
    out.set(data, 10 + padded.length);
    return out;
  }

  it('reads hand-made files: f4, i8 (as int32), Fortran order, scalars', () => {
    const f = parseNpy(handMadeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", F32_BYTES));
    expect(f).toEqual({ dtype: 'float32', shape: [2], data: new Float32Array([1.5, -2]) });
    const i8 = parseNpy(handMadeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", [5, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(i8).toEqual({ dtype: 'int32', shape: [2], data: new Int32Array([5, -2]) });
    // Column-major [[1,2,3],[4,5,6]] is stored 1,4,2,5,3,6.
    const i4 = (xs: number[]) => xs.flatMap((x) => [x, 0, 0, 0]);
    const fo = parseNpy(handMadeNpy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", i4([1, 4, 2, 5, 3, 6])));
    expect([...fo.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parseNpy(handMadeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", F64_BYTES)).data[0]).toBe(0.1);
  });

  it('writes what NumPy writes', () => {
    const bytes = serializeNpy({ dtype: 'float32', shape: [2], data: new Float32Array([1.5, -2]) });
    expect([...bytes]).toEqual([...handMadeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", F32_BYTES)]);
    const b = serializeNpy({ dtype: 'bool', shape: [1, 3], data: new Uint8Array([1, 0, 1]) });
    expect(new TextDecoder().decode(b.subarray(10, 10 + b[8]))).toMatch(/^\{'descr': '\|b1', 'fortran_order': False, 'shape': \(1, 3\), \} +\n$/);
  });

  it('rejects malformed files', () => {
    expectKiln(() => parseNpy(enc('hello world, not npy')), /magic/);
    expectKiln(() => parseNpy(handMadeNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", F32_BYTES)), /not supported/);
    expectKiln(() => parseNpy(handMadeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", F32_BYTES)), /truncated/);
    expectKiln(() => parseNpy(handMadeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': __import__('os')}", F32_BYTES)), /unexpected|unknown/);
    expectKiln(() => parseNpy(handMadeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0, 1, 0, 0, 0])), /int32 range/);
  });

  it('saveNpy/loadNpy round trip', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-npy-'));
    const t = tensor([[1.25, -2], [3, 4.5], [0.5, 7]]);
    await saveNpy(t, join(dir, 'x.npy'));
    const back = await loadNpy(join(dir, 'x.npy'));
    expect(back.shape).toEqual([3, 2]);
    expect(back.dataSync()).toEqual(t.dataSync());
  });
});

describe('sha256', () => {
  it('matches node:crypto on lengths around the block edges', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
      expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });
});
