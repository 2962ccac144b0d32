// The WebGPU browser suite, driven from vitest: bundles test/browser/suite/entry.ts, runs it in headless
// Chromium on SwiftShader (CPU WebGPU) and turns each in-page case into an assertion. Skipped, with the
// reason printed, when /usr/bin/chromium is absent (`.ci/run` installs it with apt-get).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, bundle, runPage } from './harness.js';
import type { PageReport } from './harness.js';

const entry = fileURLToPath(new URL('./suite/entry.ts', import.meta.url));
const available = existsSync(CHROMIUM);
if (!available) console.warn(`webgpu browser suite skipped: ${CHROMIUM} not found (apt-get install -y chromium, or set KILN_CHROMIUM)`);

describe.skipIf(!available)('webgpu in headless Chromium (SwiftShader)', () => {
  let report: PageReport;

  it('runs the in-page suite', async () => {
    report = await runPage(await bundle(entry, { binaryen: true }), { timeoutMs: 170_000, filter: process.env.KILN_WEBGPU_FILTER });
    expect(report.fatal, report.fatal).toBeUndefined();
    expect(report.results.length).toBeGreaterThan(0);
  }, 200_000);

  it('every case passes', () => {
    const failed = (report?.results ?? []).filter((r) => !r.ok);
    const text = failed.map((r) => `${r.group} / ${r.name}: ${r.detail}`).join('\n\n');
    expect(failed.length, text).toBe(0);
  });

  it('covers every primitive and control flow', () => {
    const names = (report?.results ?? []).map((r) => r.name);
    const groups = new Set((report?.results ?? []).map((r) => r.group));
    for (const g of ['ops eager', 'ops compiled', 'fused', 'control', 'limits', 'batching', 'frontend', 'jit', 'grad']) expect(groups.has(g), g).toBe(true);
    for (const prim of ['cond', 'while', 'scan']) expect(names.some((n) => n.includes(prim)), prim).toBe(true);
  });
});
