// Untrusted bytes: safetensors, .npy, IDX (plain and gzip), checkpoints and JSON network specs built
// from flipped bytes, truncations, appended bytes, huge declared sizes and garbage either load or throw
// a KilnError: never another error, a crash, a hang, or an allocation the input does not pay for.
// (Artifacts have their own fuzz test: test/export/fuzz.test.ts.) Fixed seeds, bounded runs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import * as K from '../../src/index.js';
import { KilnError } from '../../src/ir/error.js';
import { parseSafetensors, serializeSafetensors } from '../../src/format/safetensors.js';
import { parseNpy, serializeNpy } from '../../src/format/npy.js';
import { parseIdx } from '../../src/frontend/data/idx.js';
import { Module } from '../../src/frontend/nn/module.js';
import { FUZZ_RUNS, FUZZ_SEED } from '../fuzz/config.js';

// CI: FUZZ_RUNS.untrusted mutations per format with a fixed seed; `npm run fuzz` raises both.
const RUNS = FUZZ_RUNS.untrusted;
const params = (offset: number) => ({ seed: FUZZ_SEED + offset, numRuns: RUNS, endOnFailure: true });

/** Parsing either succeeds or throws a KilnError; anything else fails the property. */
function parsesOrRejects(parse: () => unknown): 'ok' | 'rejected' {
  try {
    parse();
    return 'ok';
  } catch (e) {
    if (e instanceof KilnError) return 'rejected';
    throw e;
  }
}

/** A hostile variant of `good`: bit flips, byte overwrites, truncation, appended garbage, pure garbage. */
function mutated(good: Uint8Array): fc.Arbitrary<Uint8Array> {
  const flips = fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((edits) => {
    const b = good.slice();
    for (const [i, v] of edits) b[i] = v;
    return b;
  });
  const truncated = fc.nat(good.length - 1).map((n) => good.slice(0, n));
  const appended = fc.uint8Array({ minLength: 1, maxLength: 32 }).map((tail) => Uint8Array.from([...good, ...tail]));
  const garbage = fc.uint8Array({ maxLength: 96 });
  return fc.oneof(flips, truncated, appended, garbage);
}

/** Overwrites the first occurrence of `from` (ASCII) in `bytes` with `to` (same length, so offsets hold). */
function patch(bytes: Uint8Array, from: string, to: string): Uint8Array {
  expect(to.length).toBe(from.length);
  const text = Buffer.from(bytes).toString('latin1');
  const at = text.indexOf(from);
  expect(at).toBeGreaterThanOrEqual(0);
  const out = bytes.slice();
  out.set(Buffer.from(to, 'latin1'), at);
  return out;
}

/** A version 1.0 .npy file with the given header text and body. */
function npyWith(header: string, body: Uint8Array): Uint8Array {
  const text = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11, ' ') + '\n';
  const out = new Uint8Array(10 + text.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(Buffer.from(text, 'latin1'), 10);
  out.set(body, 10 + text.length);
  return out;
}

const weights = {
  'layer.weight': { dtype: 'float32' as const, shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.8) },
  'layer.bias': { dtype: 'float32' as const, shape: [3], data: Float32Array.from([0.1, -0.2, 0.3]) },
  steps: { dtype: 'int32' as const, shape: [], data: Int32Array.from([7]) },
};

describe('untrusted bytes never crash, hang or allocate without bound', () => {
  it('safetensors: mutated, truncated, extended bytes and huge declared shapes/offsets/header lengths', () => {
    const good = serializeSafetensors(weights, { note: 'fuzz' });
    expect(parsesOrRejects(() => parseSafetensors(good))).toBe('ok');
    fc.assert(fc.property(mutated(good), (b) => {
      parsesOrRejects(() => parseSafetensors(b));
      parsesOrRejects(() => K.stateDictFromBytes(b));
    }), params(101));
    // Huge declared sizes, each rejected before anything that size is allocated.
    const headerLen = new Uint8Array(good.buffer.slice(0));
    new DataView(headerLen.buffer).setBigUint64(0, 2n ** 62n, true);
    expect(() => parseSafetensors(headerLen)).toThrow(KilnError);
    expect(() => parseSafetensors(patch(good, '[3,4]', '[9e9]'))).toThrow(KilnError);
    expect(() => parseSafetensors(patch(good, '[3]', '[0]'))).toThrow(KilnError);
  });

  it('npy: mutated bytes, and shapes of 2^40 elements, are KilnErrors', () => {
    const good = serializeNpy(weights['layer.weight']);
    expect(parsesOrRejects(() => parseNpy(good))).toBe('ok');
    fc.assert(fc.property(mutated(good), (b) => {
      parsesOrRejects(() => parseNpy(b));
      parsesOrRejects(() => K.tensorFromNpy(b));
    }), params(102));
    // Declared shapes far beyond the bytes present: rejected by comparing sizes, nothing allocated.
    for (const shape of ['(4294967296, 4294967296)', '(99999999999999999999,)', '(-1, 4)', '(3, 4.5)', '(' + '1, '.repeat(5000) + ')']) {
      expect(() => parseNpy(npyWith(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`, good.subarray(128))), shape.slice(0, 30)).toThrow(KilnError);
    }
    expect(() => parseNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (99999,), }", good.subarray(128)))).toThrow(/needs .* data bytes/);
  });

  it('IDX: mutated plain and gzipped bytes, huge declared dimensions', () => {
    const header = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3];
    const good = Uint8Array.from([...header, ...Array.from({ length: 18 }, (_, i) => i * 13)]);
    expect(parseIdx(good).shape).toEqual([2, 3, 3]);
    const zipped = new Uint8Array(gzipSync(good));
    expect(parseIdx(zipped).shape).toEqual([2, 3, 3]);
    fc.assert(fc.property(fc.oneof(mutated(good), mutated(zipped)), (b) => {
      parsesOrRejects(() => parseIdx(b));
    }), params(103));
    const huge = good.slice();
    huge.set([0xff, 0xff, 0xff, 0xff], 4);
    expect(() => parseIdx(huge)).toThrow(/declares shape \[4294967295,3,3\]/);
  });

  it('checkpoints: mutated bytes load or are rejected, and a rejected load leaves the model as it was', async () => {
    const model = new K.nn.Sequential(new K.nn.Linear(3, 2));
    const good = await K.checkpointToBytes(model);
    const before = model.parameters().map((p) => Array.from(p.dataSync()));
    let rejected = 0;
    fc.assert(fc.property(mutated(good), (b) => {
      const target = new K.nn.Sequential(new K.nn.Linear(3, 2));
      if (parsesOrRejects(() => K.checkpointFromBytes(target, b)) === 'rejected') rejected++;
    }), params(104));
    expect(rejected).toBeGreaterThan(RUNS / 2);
    expect(model.parameters().map((p) => Array.from(p.dataSync()))).toEqual(before);
  });

  it('JSON network specs: mutated text, wrong types and huge layer sizes are KilnErrors', () => {
    const spec = {
      name: 'Net',
      inputs: [{ name: 'x', shape: [1, 6, 6] }],
      layers: [
        { name: 'conv', type: 'Conv2d', params: { inChannels: 1, outChannels: 2, kernelSize: 3 } },
        { name: 'act', type: 'ReLU' },
        { name: 'flat', type: 'Flatten' },
        { name: 'fc', type: 'Linear', params: { inFeatures: 32, outFeatures: 3 } },
      ],
    };
    const text = JSON.stringify(spec);
    expect(Module.fromSpec(JSON.parse(text))).toBeInstanceOf(Module);
    const fromText = (t: string) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(t);
      } catch {
        return; // not JSON: the caller's JSON.parse rejects it before Kiln sees it
      }
      parsesOrRejects(() => Module.fromSpec(parsed));
    };
    const textArb = fc.oneof(
      fc.array(fc.tuple(fc.nat(text.length - 1), fc.constantFrom(...'{}[]",:0123456789-eE.ntrufalsxyz ')), { minLength: 1, maxLength: 4 }).map((edits) => {
        const c = [...text];
        for (const [i, ch] of edits) c[i] = ch;
        return c.join('');
      }),
      fc.nat(text.length - 1).map((n) => text.slice(0, n)),
      fc.json(),
    );
    fc.assert(fc.property(textArb, fromText), { ...params(105), numRuns: Math.ceil(RUNS / 2) });
    // Values of the wrong kind in every field, and sizes whose weights could not be allocated.
    const valueArb = fc.oneof(fc.constant(null), fc.constant(-1), fc.constant(1e12), fc.constant(2 ** 31), fc.constant(0.5), fc.constant('3'), fc.constant([]), fc.constant({}), fc.constant(NaN));
    fc.assert(fc.property(fc.nat(3), fc.constantFrom('inChannels', 'outChannels', 'kernelSize', 'inFeatures', 'outFeatures', 'shape', 'name', 'type', 'inputs'), valueArb, (layer, key, value) => {
      const s = JSON.parse(text);
      const l = s.layers[layer];
      if (key === 'shape') s.inputs[0].shape = value;
      else if (key === 'name' || key === 'type' || key === 'inputs') l[key] = value;
      else l.params = { ...(l.params ?? {}), [key]: value };
      parsesOrRejects(() => Module.fromSpec(s));
    }), { ...params(106), numRuns: Math.ceil(RUNS / 2) });
    expect(() => Module.fromSpec({ ...spec, layers: [{ name: 'fc', type: 'Linear', params: { inFeatures: 1e6, outFeatures: 1e6 } }] })).toThrow(KilnError);
  });
});
