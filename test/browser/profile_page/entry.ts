// The per-kernel profile on WebGPU, in a page: with 'timestamp-query' (SwiftShader offers it) the
// times are GPU timestamps per dispatch; on a device created without it the profile falls back to
// wall-clock time and says so; the synchronous profileKernels refuses webgpu. Reports to window.__kiln.
import '../../../src/codegen/cpu_ref.js';
import { initWebGPU } from '../../../src/codegen/wgsl/init.js';
import { KilnError } from '../../../src/ir/error.js';
import type { Tensor } from '../../../src/frontend/tensor.js';
import { tensor } from '../../../src/frontend/convert.js';
import { matmul } from '../../../src/frontend/ops/linalg.js';
import { relu } from '../../../src/frontend/ops/elementwise.js';
import { softmax } from '../../../src/frontend/ops/nn_functional.js';
import { reshape } from '../../../src/frontend/ops/shape.js';
import { profileKernels, profileKernelsAsync } from '../../../src/frontend/viz/profile.js';
import { fusionViews, vizHtml } from '../../../src/frontend/viz/html.js';
import { expect, runAll, test } from '../suite/check.js';

const head = (x: Tensor, w: Tensor) => softmax(relu(matmul(x, w)), { axis: -1 });
const args = () => [
  reshape(tensor(Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i * 0.37) * 0.9 + 0.05), { device: 'webgpu' }), [64, 32]),
  reshape(tensor(Array.from({ length: 32 * 16 }, (_, i) => Math.cos(i * 0.11) * 0.5), { device: 'webgpu' }), [32, 16]),
];

test('profile', 'timestamp-query: GPU time per kernel, one row per fused kernel', async () => {
  const info = await initWebGPU();
  expect(info.timestampQuery, `the adapter offers timestamp-query (features: ${info.features.join(', ')})`);
  const a = args();
  const p = await profileKernelsAsync(head, a, { iterations: 3 });
  const kernels = fusionViews(head, a).kernels;
  expect(p.device === 'webgpu', `device ${p.device}`);
  expect(p.kernels.length === kernels, `${p.kernels.length} profiled steps for ${kernels} kernels`);
  expect(p.method.includes('timestamp queries'), p.method);
  expect(p.kernels.every((k) => Number.isFinite(k.ms) && k.ms >= 0), JSON.stringify(p.kernels));
  expect(p.totalMs > 0, `total ${p.totalMs} ms`);
  const html = vizHtml(p.fn, p.fn, { profile: p });
  expect(html.includes('timestamp queries'), 'the page states how the numbers were taken');
});

test('profile', 'the synchronous profileKernels refuses webgpu and names the async one', async () => {
  let err: unknown;
  try {
    profileKernels(head, args());
  } catch (e) {
    err = e;
  }
  expect(err instanceof KilnError && err.message.includes('profileKernelsAsync'), String(err));
});

test('profile', 'without timestamp-query: wall-clock per kernel, and the method says so', async () => {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice(); // no optional features
  const info = await initWebGPU({ device });
  expect(!info.timestampQuery, 'a device created without the feature reports none');
  const p = await profileKernelsAsync(head, args(), { iterations: 2 });
  expect(p.method.includes("no 'timestamp-query'"), p.method);
  expect(p.kernels.every((k) => k.ms > 0), JSON.stringify(p.kernels));
});

const w = window as unknown as { __kiln: unknown };
runAll().then(
  (results) => (w.__kiln = { adapter: 'webgpu', results }),
  (e) => (w.__kiln = { adapter: '?', results: [], fatal: String((e as Error)?.stack ?? e) }),
);
