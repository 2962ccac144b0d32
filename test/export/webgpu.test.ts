// Artifacts carrying WebGPU code (section wgsl), checked without a GPU: what the section holds, that
// the loader validates it against the IR before asking for a device (a tampered plan, even re-hashed,
// is a KilnError), that Node without a GPU says so, and the `while` iteration bound of every backend.
// Running the shaders is test/browser/runtime_webgpu.test.ts (headless Chromium).
import { describe, expect, it } from 'vitest';
import '../../src/index.js';
import '../../src/codegen/wasm/device.js';
import { KilnError } from '../../src/ir/error.js';
import type { Tensor } from '../../src/frontend/tensor.js';
import { exportArtifact } from '../../src/frontend/export/export.js';
import { scan, whileLoop } from '../../src/frontend/control.js';
import { binary } from '../../src/frontend/ops/elementwise.js';
import { loadArtifact, loadArtifactSync, inspectArtifact } from '../../src/runtime.js';
import { TinyMlp, randTensor, rawContainer, rng, splitContainer } from './helpers.js';

/** The artifact with its wgsl section's JSON rewritten (and the file re-hashed, so only validation can catch it). */
function withPlan(bytes: Uint8Array, edit: (plan: any) => void): Uint8Array {
  const { manifest, sections } = splitContainer(bytes);
  const out = sections.map((s) => {
    if (s.name !== 'wgsl') return s;
    const plan = JSON.parse(new TextDecoder().decode(s.bytes));
    edit(plan);
    return { name: s.name, bytes: new TextEncoder().encode(JSON.stringify(plan)) };
  });
  return rawContainer(manifest, out);
}

describe('artifacts with WebGPU code', () => {
  it('carry WGSL kernels lined up with the IR, emitted for the WebGPU default limits', async () => {
    const bytes = await exportArtifact(new TinyMlp(), [randTensor([2, 6], 1)], { batch: 'N' });
    const info = inspectArtifact(bytes);
    expect(info.backends).toEqual(['interpreter', 'wasm', 'webgpu']);
    const { sections } = splitContainer(bytes);
    const plan = JSON.parse(new TextDecoder().decode(sections.find((s) => s.name === 'wgsl')!.bytes));
    expect(plan.version).toBe(1);
    expect(plan.limits).toEqual({ maxStorageBuffers: 8, maxThreads: 256, maxWorkgroupsPerDim: 65535, maxWorkgroupStorage: 16384 });
    expect(plan.kernels.length).toBeGreaterThan(0);
    expect(plan.kernels.length).toBe(info.kernels.webgpu);
    for (const k of plan.kernels) for (const ph of k.phases) expect(ph.code).toMatch(/@compute/);
    // Asked for alone: only the wgsl section; not asked for: none.
    expect(inspectArtifact(await exportArtifact(new TinyMlp(), [randTensor([2, 6], 1)], { backends: ['webgpu'] })).backends).toEqual(['interpreter', 'webgpu']);
    expect(inspectArtifact(await exportArtifact(new TinyMlp(), [randTensor([2, 6], 1)], { backends: ['wasm'] })).backends).toEqual(['interpreter', 'wasm']);
  });

  it('every kind of phase passes the loader: a split reduction (scratch), packed inputs, a contraction', async () => {
    // 40000 elements summed whole: two dispatches sharing a scratch buffer.
    const big = await exportArtifact((x: Tensor) => x.sum(), [randTensor([200, 200], 3)], { backends: ['webgpu'] });
    // Eleven inputs in one elementwise kernel: more than 8 storage buffers, so the inputs are packed.
    const many = (...xs: Tensor[]) => xs.reduce((a, b) => binary('add', a, binary('mul', b, b)));
    const wide = await exportArtifact(many, Array.from({ length: 11 }, (_, i) => randTensor([5], 50 + i)), { backends: ['webgpu'] });
    const kinds = (bytes: Uint8Array) => {
      const plan = JSON.parse(new TextDecoder().decode(splitContainer(bytes).sections.find((s) => s.name === 'wgsl')!.bytes));
      return plan.kernels.flatMap((k: any) => k.phases.map((p: any) => `${p.mode}${p.scratchWords ? '+scratch' : ''}${p.pack ? '+pack' : ''}`));
    };
    expect(kinds(big).filter((k: string) => k.includes('scratch')).length).toBe(2);
    expect(kinds(wide).some((k: string) => k.includes('pack'))).toBe(true);
    // Valid files: loading gets as far as asking for a GPU (none in Node).
    for (const b of [big, wide]) await expect(loadArtifact(b, { backend: 'webgpu' })).rejects.toThrow(/no WebGPU adapter/);
  });

  it('float64 functions carry no WebGPU code, and asking for it is a KilnError naming the dtype', async () => {
    const f = (x: Tensor) => binary('mul', x, x);
    const x = randTensor([3], 2).astype('float64');
    expect(inspectArtifact(await exportArtifact(f, [x])).backends).not.toContain('webgpu');
    await expect(exportArtifact(f, [x], { backends: ['webgpu'] })).rejects.toThrow(/webgpu backend cannot compile f: .*f64 is not supported on webgpu/);
  });

  it('backend webgpu: no wgsl section, no GPU in Node, and the sync loader are KilnErrors', async () => {
    const mlp = new TinyMlp();
    const plain = await exportArtifact(mlp, [randTensor([2, 6], 1)], { backends: ['wasm'] });
    await expect(loadArtifact(plain, { backend: 'webgpu' })).rejects.toThrow(/carries no WebGPU code/);
    const bytes = await exportArtifact(mlp, [randTensor([2, 6], 1)]);
    await expect(loadArtifact(bytes, { backend: 'webgpu' })).rejects.toThrow(/WebGPU code of TinyMlp does not load here: no WebGPU adapter was found/);
    expect(() => loadArtifactSync(bytes, { backend: 'webgpu' })).toThrow(/asynchronous/);
    // 'auto' never picks WebGPU: the same file runs on wasm.
    expect((await loadArtifact(bytes)).backendFor()).toBe('wasm');
  });

  it('a tampered plan (re-hashed) is rejected before any GPU is asked for', async () => {
    const bytes = await exportArtifact(new TinyMlp(), [randTensor([2, 6], 1)], { backends: ['webgpu'] });
    const cases: [string, (p: any) => void, RegExp][] = [
      ['a kernel fewer', (p) => p.kernels.pop(), /holds \d+ kernels, the IR needs \d+/],
      ['a binding past the buffers', (p) => (p.kernels[0].phases[0].bindings[0] = 99), /bindings holds 99/],
      ['an output of the wrong size', (p) => (p.kernels[0].buffers.find((b: any) => b.role === 'output').size += 1), /has outputs .* but its .* op has/],
      ['a huge buffer', (p) => (p.kernels[0].buffers[0].size = 2 ** 40), /size must be an integer in \[0, \d+\]/],
      ['float64', (p) => (p.kernels[0].buffers[0].dtype = 'float64'), /WGSL has no float64/],
      ['an unknown field', (p) => (p.kernels[0].phases[0].eval = 'x'), /unknown field "eval"/],
      ['no code', (p) => (p.kernels[0].phases[0].code = ''), /code must be WGSL source/],
      ['a version', (p) => (p.version = 2), /version 2 is not 1/],
      ['launch size past the grid', (p) => (p.kernels[0].phases[0].workgroups = 2 ** 40), /workgroups must be an integer/],
    ];
    for (const [what, edit, msg] of cases) {
      const bad = withPlan(bytes, edit);
      await expect(loadArtifact(bad, { backend: 'webgpu' }), what).rejects.toThrow(KilnError);
      await expect(loadArtifact(bad, { backend: 'webgpu' }), what).rejects.toThrow(msg);
    }
  });

  it('random mutations of the plan (re-hashed) are all KilnErrors, never crashes', async () => {
    const bytes = await exportArtifact(new TinyMlp(), [randTensor([2, 6], 1)], { backends: ['webgpu'] });
    const r = rng(99);
    const junk = [-1, 0, 1, 2 ** 53, 1e308, NaN, 'x', '', null, true, [], {}, [-1], { a: 1 }, 'float64', 'output', 'const'];
    /** Every (parent, key) of the JSON tree, to pick one to replace or delete. */
    const places = (x: any, out: [any, string | number][] = []): [any, string | number][] => {
      if (x && typeof x === 'object') for (const k of Object.keys(x)) {
        out.push([x, Array.isArray(x) ? Number(k) : k]);
        places(x[k], out);
      }
      return out;
    };
    const harmless: string[] = [];
    let what = '';
    for (let i = 0; i < 150; i++) {
      const bad = withPlan(bytes, (plan) => {
        const all = places(plan).filter(([, k]) => k !== 'code'); // WGSL text itself only a GPU can judge
        const [parent, key] = all[Math.floor(r() * all.length)];
        const old = JSON.stringify(parent[key]);
        if (r() < 0.2 && !Array.isArray(parent)) delete parent[key];
        else parent[key] = junk[Math.floor(r() * junk.length)];
        what = `${String(key)}: ${old?.slice(0, 30)} -> ${JSON.stringify(parent[key])}`;
      });
      // Either the mutation is caught, or it was harmless and loading stops at "no adapter" (Node has no GPU).
      const e = await loadArtifact(bad, { backend: 'webgpu' }).then(() => null, (err: unknown) => err);
      expect(e, `mutation ${i}`).toBeInstanceOf(KilnError);
      if (/no WebGPU adapter/.test(String((e as Error).message))) harmless.push(`${i} ${what}`);
    }
    if (process.env.KILN_SHOW_HARMLESS) console.log(harmless);
    expect(harmless.length).toBeLessThan(30);
  });

  it('while loops are bounded per call (nested loops together) by maxLoopIterations, on wasm and on the interpreter', async () => {
    // x >= 0 stays true while x grows: the loop never ends.
    const forever = (x: Tensor) => whileLoop((c: Tensor) => binary('ge', c.sum(), randTensor([1], 3).sum().mul(0)), (c: Tensor) => binary('add', c, 1), x);
    const x = randTensor([4], 5).abs();
    const bytes = await exportArtifact(forever, [x], { backends: ['wasm'] });
    for (const backend of ['wasm', 'interpreter'] as const) {
      const art = await loadArtifact(bytes, { backend, maxLoopIterations: 50 });
      await expect(art.run([x]), backend).rejects.toThrow(KilnError);
      await expect(art.run([x]), backend).rejects.toThrow(/while: more than 50 loop iterations in one call \(while iterations and scan steps together; does a condition never become false\?\): the limit is LoadOptions.maxLoopIterations/);
    }
    // Nested loops: 6 outer iterations of 8 inner ones (6 + 48 = 54 in all) each end, but together
    // they are what a limit must bound (a per-loop limit would let nesting multiply it).
    const nested = (x: Tensor) => whileLoop(
      (c: Tensor[]) => binary('lt', c[1], 6),
      (c: Tensor[]) => [whileLoop((d: Tensor[]) => binary('lt', d[1], 8), (d: Tensor[]) => [binary('add', d[0], 1), binary('add', d[1], 1)], [c[0], binary('mul', c[1], 0)])[0], binary('add', c[1], 1)],
      [x, binary('mul', x.sum(), 0)],
    )[0];
    const nestedBytes = await exportArtifact(nested, [x], { backends: ['wasm'] });
    for (const backend of ['wasm', 'interpreter'] as const) {
      const under = await loadArtifact(nestedBytes, { backend, maxLoopIterations: 54 });
      const [y] = await under.run([x]);
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(x.dataSync()[i] + 48, 4));
      const over = await loadArtifact(nestedBytes, { backend, maxLoopIterations: 53 });
      await expect(over.run([x]), backend).rejects.toThrow(/more than 53 loop iterations in one call/);
    }
    // A loop that ends under the limit runs.
    const count = (x: Tensor) => whileLoop((c: Tensor) => binary('lt', c.sum(), 20), (c: Tensor) => binary('add', c, 1), x);
    const ok = await loadArtifact(await exportArtifact(count, [x], { backends: ['wasm'] }), { maxLoopIterations: 50 });
    expect((await ok.run([x]))[0].dataSync()[0]).toBeGreaterThan(0);
    await expect(loadArtifact(bytes, { maxLoopIterations: -1 })).rejects.toThrow(/maxLoopIterations must be a non-negative integer/);
  });

  it('a scan of 10^12 steps over no sliced input (a valid IR) spends the same budget', async () => {
    const steps = (x: Tensor) => scan((c: Tensor) => [binary('add', c, 1), []], x, [], { length: 7 })[0];
    const x = randTensor([4], 6);
    const good = await exportArtifact(steps, [x], { backends: ['wasm'] });
    // Rewrite the length in the IR and in the wasm plan, re-hashed: only the budget can stop it now.
    const { manifest, sections } = splitContainer(good);
    const hostile = rawContainer(manifest, sections.map((sec) => {
      if (sec.name !== 'ir' && sec.name !== 'wasm.plan') return sec;
      const text = new TextDecoder().decode(sec.bytes);
      const out = sec.name === 'ir' ? text.replace('length=7', 'length=1000000000000') : text.replace('"length":7', '"length":1000000000000');
      expect(out).not.toBe(text);
      return { name: sec.name, bytes: new TextEncoder().encode(out) };
    }));
    for (const backend of ['wasm', 'interpreter'] as const) {
      const art = await loadArtifact(hostile, { backend, maxLoopIterations: 1000 });
      await expect(art.run([x]), backend).rejects.toThrow(/scan: more than 1000 loop iterations in one call/);
      // The honest file runs under the same limit.
      const [y] = await (await loadArtifact(good, { backend, maxLoopIterations: 1000 })).run([x]);
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(x.dataSync()[i] + 7, 5));
    }
  });
});
