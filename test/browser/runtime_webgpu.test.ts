// kiln/runtime on WebGPU in headless Chromium (SwiftShader): the demo's CNN (conv-bn-relu-pool x2 +
// MLP, eval mode, seeded weights) exported in Node runs from a page bundled from src/runtime.ts alone
// with {backend: 'webgpu'} and matches the in-process model within f32 tolerance with the same
// predicted classes; a batch size other than the compiled one falls back to the interpreter; a scan
// with a cond after it runs both branches; a `while` that never ends and a scan of 10^12 steps stop
// at maxLoopIterations. Skipped when Chromium is absent.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, RUNTIME_ONLY, bundleRuntimePage, runPage } from './harness.js';
import '../../src/index.js';
import type { Tensor } from '../../src/frontend/tensor.js';
import { manualSeed } from '../../src/frontend/random.js';
import { exportArtifact } from '../../src/frontend/export/export.js';
import { cond, scan, whileLoop } from '../../src/frontend/control.js';
import { matmul } from '../../src/frontend/ops/linalg.js';
import { binary, unary } from '../../src/frontend/ops/elementwise.js';
import { randTensor, rawContainer, splitContainer } from '../export/helpers.js';
import { FashionCNN } from '../../examples/fashion_cnn.js';

const entry = fileURLToPath(new URL('./runtime_webgpu_page/entry.ts', import.meta.url));
const available = existsSync(CHROMIUM);


const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

describe.skipIf(!available)('kiln/runtime on WebGPU in headless Chromium', () => {
  it('runs the demo CNN artifact on WebGPU from a runtime-only page, matching the in-process model', async () => {
    manualSeed(7);
    const model = new FashionCNN(8, 32).eval();
    const bytes = await exportArtifact(model, [randTensor([4, 1, 28, 28], 1)], { batch: 'N' });
    const cases = [4, 3].map((n) => {
      const x = randTensor([n, 1, 28, 28], 20 + n);
      return { name: `batch ${n}`, inputs: [{ shape: [n, 1, 28, 28], data: Array.from(x.dataSync()) }], output: Array.from(model.call(x).dataSync()), classes: 10, backend: n === 4 ? 'webgpu' : 'interpreter', tolerance: 1e-3 };
    });
    // Control flow from the IR around the file's kernels: a scan (an RNN over the rows) whose final
    // state goes through a cond, so kernels inside nested regions must line up with the IR.
    const w = randTensor([4, 4], 30);
    const rnn = (x: Tensor) => {
      const [h, ys] = scan((hc: Tensor, xt: Tensor) => {
        const hn = unary('tanh', binary('add', matmul(hc.reshape([1, 4]), w).reshape([4]), xt));
        return [hn, hn.sum()];
      }, binary('mul', x.sum({ axis: 0 }), 0.1), x);
      const out = cond(binary('gt', h.sum(), 0), (a: Tensor) => binary('mul', a, 2), (a: Tensor) => binary('sub', a, 1), h);
      return binary('add', out, ys.mean());
    };
    const rnnCases = [1, -1].map((sign, k) => {
      const x = binary('add', randTensor([6, 4], 40 + k), sign * 2);
      return { name: `${sign > 0 ? 'then' : 'else'} branch`, inputs: [{ shape: [6, 4], data: Array.from(x.dataSync()) }], output: Array.from(rnn(x).dataSync()), classes: 4, backend: 'webgpu', tolerance: 1e-4 };
    });
    const rnnBytes = await exportArtifact(rnn, [randTensor([6, 4], 41)], { backends: ['webgpu'] });
    // Phases the CNN does not use: a whole-tensor sum of 40000 elements (two dispatches sharing a
    // scratch buffer) and eleven inputs in one kernel (more than 8 storage buffers: packed inputs).
    const big = randTensor([200, 200], 3);
    const sumBytes = await exportArtifact((x: Tensor) => x.sum(), [big], { backends: ['webgpu'] });
    const sumCases = [{ name: 'split reduction', inputs: [{ shape: [200, 200], data: Array.from(big.dataSync()) }], output: [big.sum().item()], classes: 1, backend: 'webgpu', tolerance: 1e-4 }];
    const many = (...xs: Tensor[]) => xs.reduce((a, b) => binary('add', a, binary('mul', b, b)));
    const xs = Array.from({ length: 11 }, (_, i) => randTensor([5], 50 + i));
    const wideBytes = await exportArtifact(many, xs, { backends: ['webgpu'] });
    const wideCases = [{ name: 'packed inputs', inputs: xs.map((x) => ({ shape: [5], data: Array.from(x.dataSync()) })), output: Array.from(many(...xs).dataSync()), classes: 5, backend: 'webgpu', tolerance: 1e-5 }];
    const forever = (x: Tensor) => whileLoop((c: Tensor) => binary('ge', c.sum(), 0), (c: Tensor) => binary('add', c, 1), x);
    const foreverBytes = await exportArtifact(forever, [randTensor([4], 5)], { backends: ['webgpu'] });
    // A scan of 10^12 steps over no sliced input: the IR's length rewritten (re-hashed).
    const steps = (x: Tensor) => scan((c: Tensor) => [binary('add', c, 1), []], x, [], { length: 7 })[0];
    const { manifest, sections } = splitContainer(await exportArtifact(steps, [randTensor([4], 6)], { backends: ['webgpu'] }));
    const hostileScan = rawContainer(manifest, sections.map((sec) => (sec.name === 'ir' ? { name: 'ir', bytes: new TextEncoder().encode(new TextDecoder().decode(sec.bytes).replace('length=7', 'length=1000000000000')) } : sec)));
    const { code, modules } = await bundleRuntimePage(entry, { ARTIFACTS: JSON.stringify([{ name: 'FashionCNN', base64: b64(bytes), cases }, { name: 'scan+cond RNN', base64: b64(rnnBytes), cases: rnnCases }, { name: 'sum', base64: b64(sumBytes), cases: sumCases }, { name: 'eleven inputs', base64: b64(wideBytes), cases: wideCases }]), FOREVER_BASE64: JSON.stringify(b64(foreverBytes)), HOSTILE_SCAN_BASE64: JSON.stringify(b64(hostileScan)) });
    // The page holds the runtime and nothing else of Kiln.
    expect(modules.filter((p) => !RUNTIME_ONLY.test(p))).toEqual([]);
    const report = await runPage(code, { timeoutMs: 150_000 });
    expect(report.fatal, report.fatal).toBeUndefined();
    for (const r of report.results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail} (${r.ms.toFixed(0)} ms, adapter ${report.adapter})`);
    const failed = report.results.filter((r) => !r.ok);
    expect(failed, failed.map((r) => `${r.name}: ${r.detail}`).join('\n')).toEqual([]);
    expect(report.results.map((r) => r.name)).toEqual(['FashionCNN: batch 4', 'FashionCNN: batch 3', 'scan+cond RNN: then branch', 'scan+cond RNN: else branch', 'sum: split reduction', 'eleven inputs: packed inputs', 'a while loop that never ends stops at maxLoopIterations', 'a while loop that ends runs on WebGPU', 'dispose destroys the GPU buffers; running afterwards is a KilnError', 'a scan of 10^12 steps stops at maxLoopIterations']);
  });
});
