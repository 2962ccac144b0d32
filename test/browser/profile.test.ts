// Per-kernel profiles on WebGPU in headless Chromium (SwiftShader): timestamp queries where the device
// has them, the wall-clock fallback where it does not (test/browser/profile_page/entry.ts). Skipped
// when /usr/bin/chromium is absent.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, bundle, runPage } from './harness.js';

const entry = fileURLToPath(new URL('./profile_page/entry.ts', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM))('webgpu kernel profiles in headless Chromium', () => {
  it('timestamp queries, the fallback, and the sync refusal', async () => {
    const report = await runPage(await bundle(entry, { binaryen: true }), { timeoutMs: 90_000 });
    expect(report.fatal, report.fatal).toBeUndefined();
    const failed = report.results.filter((r) => !r.ok);
    expect(failed, failed.map((r) => `${r.name}: ${r.detail}`).join('\n')).toEqual([]);
    expect(report.results).toHaveLength(3);
  }, 120_000);
});
