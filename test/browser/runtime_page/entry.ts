// A browser page built from kiln/runtime alone (src/runtime.ts; nothing else of Kiln): it loads the
// artifact embedded by the harness, runs it, and reports each check on window.__kiln.
import { loadArtifact, KilnError } from '../../../src/runtime.js';

declare const ARTIFACT_BASE64: string;
declare const CASES: { name: string; shape: number[]; input: number[]; output: number[]; backend: string }[];

const w = window as unknown as { __kiln: unknown };

function decode(b64: string): Uint8Array {
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

(async () => {
  const results: { group: string; name: string; ok: boolean; detail?: string; ms: number }[] = [];
  const check = async (name: string, f: () => Promise<string | undefined>) => {
    const t0 = performance.now();
    try {
      const problem = await f();
      results.push({ group: 'runtime', name, ok: problem === undefined, ...(problem ? { detail: problem } : {}), ms: performance.now() - t0 });
    } catch (e) {
      results.push({ group: 'runtime', name, ok: false, detail: String((e as Error)?.stack ?? e), ms: performance.now() - t0 });
    }
  };
  const bytes = decode(ARTIFACT_BASE64);
  const art = await loadArtifact(bytes);
  for (const c of CASES) {
    await check(c.name, async () => {
      const [y] = await art.run([{ data: Float32Array.from(c.input), shape: c.shape }]);
      const got = Array.from(await y.data());
      if (art.backendFor(c.shape[0]) !== c.backend) return `ran on ${art.backendFor(c.shape[0])}, expected ${c.backend}${art.wasmError ? ` (${art.wasmError})` : ''}`;
      const bad = got.findIndex((v, i) => v !== c.output[i]);
      return got.length !== c.output.length || bad >= 0 ? `output differs at ${bad}: ${got[bad]} vs ${c.output[bad]}` : undefined;
    });
  }
  await check('a flipped byte is a KilnError', async () => {
    const bad = bytes.slice();
    bad[100] ^= 4;
    try {
      await loadArtifact(bad);
      return 'loaded';
    } catch (e) {
      return e instanceof KilnError ? undefined : `threw ${String(e)}`;
    }
  });
  w.__kiln = { adapter: 'none', results };
})().catch((e) => {
  w.__kiln = { adapter: '?', results: [], fatal: String((e as Error)?.stack ?? e) };
});
