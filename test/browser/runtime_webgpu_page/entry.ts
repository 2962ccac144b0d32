// A browser page built from kiln/runtime alone (src/runtime.ts; nothing else of Kiln) that runs
// exported artifacts on WebGPU ({backend: 'webgpu'}) and compares with the outputs the harness
// computed in process; each check reports its agreement numbers in `detail`.
import { loadArtifact, KilnError } from '../../../src/runtime.js';

interface Case { name: string; inputs: { shape: number[]; data: number[] }[]; output: number[]; classes: number; backend: string; tolerance: number }
declare const ARTIFACTS: { name: string; base64: string; cases: Case[] }[];
declare const FOREVER_BASE64: string;
declare const HOSTILE_SCAN_BASE64: string;

const w = window as unknown as { __kiln: unknown };

function decode(b64: string): Uint8Array {
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const argmax = (xs: ArrayLike<number>, from: number, n: number) => {
  let best = from;
  for (let i = from; i < from + n; i++) if (xs[i] > xs[best]) best = i;
  return best - from;
};

(async () => {
  const results: { group: string; name: string; ok: boolean; detail?: string; ms: number }[] = [];
  const check = async (name: string, f: () => Promise<{ ok: boolean; detail: string }>) => {
    const t0 = performance.now();
    try {
      const r = await f();
      results.push({ group: 'runtime-webgpu', name, ok: r.ok, detail: r.detail, ms: performance.now() - t0 });
    } catch (e) {
      results.push({ group: 'runtime-webgpu', name, ok: false, detail: String((e as Error)?.stack ?? e), ms: performance.now() - t0 });
    }
  };
  let adapter = 'none';
  for (const a of ARTIFACTS) {
    const art = await loadArtifact(decode(a.base64), { backend: 'webgpu' });
    adapter = art.adapter ?? adapter;
    for (const c of a.cases) {
      await check(`${a.name}: ${c.name}`, async () => {
        const [y] = await art.run(c.inputs.map((x) => ({ data: Float32Array.from(x.data), shape: x.shape })));
        const got = await y.data();
        const ran = art.backendFor(c.inputs[0].shape[0]);
        let maxAbs = 0;
        let maxRef = 0;
        for (let i = 0; i < got.length; i++) {
          maxAbs = Math.max(maxAbs, Math.abs(got[i] - c.output[i]));
          maxRef = Math.max(maxRef, Math.abs(c.output[i]));
        }
        const rows = got.length / c.classes;
        let same = 0;
        for (let r = 0; r < rows; r++) if (argmax(got, r * c.classes, c.classes) === argmax(c.output, r * c.classes, c.classes)) same++;
        const ok = ran === c.backend && got.length === c.output.length && !(maxAbs > c.tolerance * Math.max(1, maxRef)) && same === rows;
        return { ok, detail: `backend=${ran} maxAbsDiff=${maxAbs.toExponential(2)} maxAbsRef=${maxRef.toFixed(3)} argmaxAgree=${same}/${rows}` };
      });
    }
  }
  await check('a while loop that never ends stops at maxLoopIterations', async () => {
    const art = await loadArtifact(decode(FOREVER_BASE64), { backend: 'webgpu', maxLoopIterations: 20 });
    try {
      await art.run([{ data: Float32Array.from([0.5, 0.25, 0.125, 1]), shape: [4] }]);
      return { ok: false, detail: 'ran to completion' };
    } catch (e) {
      const ok = e instanceof KilnError && /while: more than 20 loop iterations in one call/.test(e.message);
      return { ok, detail: String((e as Error).message) };
    }
  });
  await check('a while loop that ends runs on WebGPU', async () => {
    const art = await loadArtifact(decode(FOREVER_BASE64), { backend: 'webgpu', maxLoopIterations: 20 });
    // The same loop from a start past its bound: the condition is false at once (no iteration).
    const [y] = await art.run([{ data: Float32Array.from([-5, -6, -7, -8]), shape: [4] }]);
    const got = Array.from(await y.data());
    return { ok: got.join(',') === '-5,-6,-7,-8', detail: got.join(',') };
  });
  await check('dispose destroys the GPU buffers; running afterwards is a KilnError', async () => {
    const art = await loadArtifact(decode(FOREVER_BASE64), { backend: 'webgpu' });
    const [y] = await art.run([{ data: Float32Array.from([-5, -6, -7, -8]), shape: [4] }]);
    art.dispose();
    try {
      await art.run([{ data: Float32Array.from([-5, -6, -7, -8]), shape: [4] }]);
      return { ok: false, detail: 'ran after dispose' };
    } catch (e) {
      const ok = e instanceof KilnError && /used after dispose/.test(e.message) && Array.from(await y.data()).join(',') === '-5,-6,-7,-8';
      return { ok, detail: String((e as Error).message) };
    }
  });
  await check('a scan of 10^12 steps stops at maxLoopIterations', async () => {
    const art = await loadArtifact(decode(HOSTILE_SCAN_BASE64), { backend: 'webgpu', maxLoopIterations: 100 });
    try {
      await art.run([{ data: Float32Array.from([1, 2, 3, 4]), shape: [4] }]);
      return { ok: false, detail: 'ran to completion' };
    } catch (e) {
      const ok = e instanceof KilnError && /scan: more than 100 loop iterations in one call/.test(e.message);
      return { ok, detail: String((e as Error).message) };
    }
  });
  w.__kiln = { adapter, results };
})().catch((e) => {
  w.__kiln = { adapter: '?', results: [], fatal: String((e as Error)?.stack ?? e) };
});
