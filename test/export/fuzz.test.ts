// Hostile files: flipped bytes, truncations, appended bytes, huge declared sizes, garbage, and
// re-hashed files with mutated manifests or IR. Loading (and running) either works or throws a
// KilnError, never another error, a crash or a hang.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { KilnError } from '../../src/ir/error.js';
import { exportArtifact } from '../../src/frontend/export/export.js';
import { loadArtifactSync } from '../../src/runtime.js';
import { TinyMlp, randTensor, rawContainer, splitContainer } from './helpers.js';

let good: Uint8Array;
const x = randTensor([2, 6], 3);

beforeAll(async () => {
  good = await exportArtifact(new TinyMlp(), [x], { batch: 'N' });
});

/** Load (and run when it loads): anything but success or a KilnError fails the property. */
function loadOrKilnError(bytes: Uint8Array): 'ok' | 'rejected' {
  try {
    const art = loadArtifactSync(bytes, { maxElements: 1 << 20 });
    const specs = art.inputs;
    try {
      const args = specs.map((s) => {
        const shape = s.shape.map((d) => (typeof d === 'number' ? d : 2));
        const n = shape.reduce((p, d) => p * d, 1);
        return { dtype: s.dtype, shape, data: new Float32Array(n).fill(0.5) };
      });
      if (args.every((a) => a.data.length <= 1 << 16)) art.execute(art.manifest.batch ? 2 : 0, args as never);
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
    }
    return 'ok';
  } catch (e) {
    if (e instanceof KilnError) return 'rejected';
    throw e;
  }
}

function expectRejected(bytes: Uint8Array, message?: RegExp): void {
  let err: unknown;
  try {
    loadArtifactSync(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KilnError);
  if (message) expect((err as Error).message).toMatch(message);
}

const outcomes: string[] = [];

describe('artifact fuzzing', () => {
  it('the untouched file loads', () => {
    expect(loadOrKilnError(good)).toBe('ok');
  });

  it('every flipped byte is detected (all bytes are hashed or checked)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (pos, mask) => {
        const bad = good.slice();
        bad[pos % bad.length] ^= mask;
        expect(loadOrKilnError(bad)).toBe('rejected');
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  it('every truncation and every appended tail is rejected', () => {
    fc.assert(
      fc.property(fc.nat(), (cut) => {
        expect(loadOrKilnError(good.subarray(0, cut % good.length))).toBe('rejected');
      }),
      { numRuns: 200, seed: 2 },
    );
    for (const tail of [[0], [1, 2, 3], new Array(8).fill(0)]) {
      const longer = new Uint8Array(good.length + tail.length);
      longer.set(good);
      longer.set(tail, good.length);
      expectRejected(longer, /appended/);
    }
  });

  it('huge declared sizes in the header are rejected without allocating', () => {
    const v = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (const size of [0xffffffff, 0x7fffffff, 16 << 20, good.length]) {
      const bad = good.slice();
      v(bad).setUint32(12, size, true);
      expectRejected(bad, /manifest/);
    }
    const wrongVersion = good.slice();
    v(wrongVersion).setUint32(8, 2, true);
    expectRejected(wrongVersion, /format version 2 is not supported.*newer/);
    const { manifest, sections } = splitContainer(good);
    // A re-hashed manifest that declares a section far past the end of the file.
    const rehashed = rawContainer(manifest, sections);
    const m = JSON.parse(new TextDecoder().decode(rehashed.subarray(48, 48 + v(rehashed).getUint32(12, true)))) as { sections: { size: number }[] };
    m.sections[1].size = Number.MAX_SAFE_INTEGER;
    const text = new TextEncoder().encode(JSON.stringify(m));
    const forged = new Uint8Array(48 + text.length);
    forged.set(rehashed.subarray(0, 48));
    v(forged).setUint32(12, text.length, true);
    forged.set(createHash('sha256').update(text).digest(), 16);
    forged.set(text, 48);
    expectRejected(forged);
  });

  it('garbage and other formats are rejected', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(loadOrKilnError(bytes)).toBe('rejected');
      }),
      { numRuns: 200, seed: 3 },
    );
    expectRejected(new TextEncoder().encode('{"format":"kiln-artifact"}'), /not a Kiln artifact/);
  });

  it('re-hashed files with mutated manifest fields: a KilnError or a working artifact', () => {
    const { manifest, sections } = splitContainer(good);
    const paths: string[][] = [
      ['formatVersion'], ['name'], ['inputs', '0', 'shape', '1'], ['inputs', '0', 'dtype'], ['inputs', '0', 'shape'], ['outputs', '0', 'shape', '0'],
      ['weights', '0', 'shape', '0'], ['weights', '1', 'name'], ['batch', 'example'], ['batch', 'symbol'], ['batch', 'sites', '0', '0'],
      ['batch', 'sites', '3', '2'], ['batch', 'sites'], ['backends'], ['kernels'], ['inputs'], ['weights'], ['format'],
    ];
    const values = fc.oneof(
      fc.constantFrom<unknown>(0, 1, -1, 2, 1e300, 2 ** 53, 'N', 'x', '', 'float64', 'int32', null, true, [], {}, [1, 2], 'interpreter', ['wasm'], 0.5),
      fc.jsonValue({ maxDepth: 2 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...paths), values, (path, value) => {
        const m = structuredClone(manifest) as Record<string, unknown>;
        let at: Record<string, unknown> = m;
        for (const k of path.slice(0, -1)) {
          if (typeof at[k] !== 'object' || at[k] === null) return;
          at = at[k] as Record<string, unknown>;
        }
        at[path[path.length - 1]] = value;
        outcomes.push(loadOrKilnError(rawContainer(m, sections)));
      }),
      { numRuns: 300, seed: 4 },
    );
    // Both outcomes occur: the mutations reach the semantic checks, not only the JSON parser.
    expect(outcomes).toContain('ok');
    expect(outcomes).toContain('rejected');
    outcomes.length = 0;
  });

  it('re-hashed files with mutated IR or weights: a KilnError or a working artifact, never a crash', () => {
    const { manifest, sections } = splitContainer(good);
    const ir = sections.find((s) => s.name === 'ir')!.bytes;
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom(...'0123456789[],%:=(){}^-. \nabcfxyz9'), fc.boolean(), (pos, ch, insert) => {
        const text = new TextDecoder().decode(ir);
        const i = pos % text.length;
        const mutated = insert ? text.slice(0, i) + ch + text.slice(i) : text.slice(0, i) + ch + text.slice(i + 1);
        const secs = sections.map((s) => (s.name === 'ir' ? { name: 'ir', bytes: new TextEncoder().encode(mutated) } : s));
        outcomes.push(loadOrKilnError(rawContainer(manifest, secs)));
      }),
      { numRuns: 300, seed: 5 },
    );
    expect(outcomes).toContain('ok');
    expect(outcomes).toContain('rejected');
    const weights = sections.find((s) => s.name === 'weights')!.bytes;
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (pos, mask) => {
        const w = weights.slice();
        w[pos % w.length] ^= mask;
        const secs = sections.map((s) => (s.name === 'weights' ? { name: 'weights', bytes: w } : s));
        loadOrKilnError(rawContainer(manifest, secs));
      }),
      { numRuns: 200, seed: 6 },
    );
  });

  it('re-hashed files with a mutated wasm plan: a KilnError or a working artifact, never a crash', () => {
    const { manifest, sections } = splitContainer(good);
    expect(sections.map((s) => s.name)).toContain('wasm.plan');
    const plan = JSON.parse(new TextDecoder().decode(sections.find((s) => s.name === 'wasm.plan')!.bytes)) as Record<string, unknown>;
    // Every path into the plan JSON, so mutations reach slots, steps, kinds, offsets and constants.
    const paths: (string | number)[][] = [];
    const walk = (x: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (Array.isArray(x)) x.forEach((v, i) => walk(v, [...path, i]));
      else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) walk(v, [...path, k]);
    };
    walk(plan, []);
    const values = fc.constantFrom<unknown>(0, 1, -1, 3, 1e9, 2 ** 40, 'arena', 'fresh', 'const', 'param', 'kernel', 'copy', 'scan', null, [], {}, [0, 0], 'nan', true);
    fc.assert(
      fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), values, (path, value) => {
        const m = structuredClone(plan);
        let at = m as Record<string | number, unknown>;
        for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
        at[path[path.length - 1]] = value;
        const secs = sections.map((s) => (s.name === 'wasm.plan' ? { name: s.name, bytes: new TextEncoder().encode(JSON.stringify(m)) } : s));
        outcomes.push(loadOrKilnError(rawContainer(manifest, secs)));
      }),
      { numRuns: 150, seed: 7 },
    );
    expect(outcomes).toContain('rejected');
  });

  it('a batch size that makes intermediates huge is refused before allocating', () => {
    const art = loadArtifactSync(good);
    let err: unknown;
    try {
      art.program(1e9);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KilnError);
    expect((err as Error).message).toMatch(/element limit/);
  });
});
