// kiln/runtime in a browser page: a model exported in Node runs in headless Chromium from a bundle of
// src/runtime.ts alone, on its wasm code at the compiled batch size and on the interpreter otherwise,
// with outputs identical to Node's runtime. Skipped when Chromium is absent.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, RUNTIME_ONLY, bundleRuntimePage, runPage } from './harness.js';
import { exportArtifact } from '../../src/frontend/export/export.js';
import { loadArtifact } from '../../src/runtime.js';
import { TinyMlp, randTensor } from '../export/helpers.js';

const entry = fileURLToPath(new URL('./runtime_page/entry.ts', import.meta.url));
const available = existsSync(CHROMIUM);

describe.skipIf(!available)('kiln/runtime in headless Chromium', () => {
  it('runs an exported artifact from a runtime-only bundle', async () => {
    const bytes = await exportArtifact(new TinyMlp(), [randTensor([2, 6], 1)], { batch: 'N' });
    const art = await loadArtifact(bytes);
    const cases = [];
    for (const n of [2, 3]) {
      const x = randTensor([n, 6], 10 + n);
      const [y] = await art.run([x]);
      cases.push({ name: `batch ${n}`, shape: [n, 6], input: Array.from(x.dataSync()), output: Array.from(y.dataSync()), backend: art.backendFor(n) });
    }
    expect(cases.map((c) => c.backend)).toEqual(['wasm', 'interpreter']);
    const { code, modules } = await bundleRuntimePage(entry, { ARTIFACT_BASE64: JSON.stringify(Buffer.from(bytes).toString('base64')), CASES: JSON.stringify(cases) });
    // The page holds the runtime and nothing else of Kiln.
    expect(modules.filter((p) => !RUNTIME_ONLY.test(p))).toEqual([]);
    const report = await runPage(code, { timeoutMs: 60_000 });
    expect(report.fatal, report.fatal).toBeUndefined();
    const failed = report.results.filter((r) => !r.ok);
    expect(failed, failed.map((r) => `${r.name}: ${r.detail}`).join('\n')).toEqual([]);
    expect(report.results.map((r) => r.name)).toEqual(['batch 2', 'batch 3', 'a flipped byte is a KilnError']);
  });
});
