// The browser suite's entry: initializes WebGPU (SwiftShader in CI), counts queue submits, runs every
// registered case and leaves the report on window.__kiln for the harness.
import '../../../src/codegen/cpu_ref.js';
import '../../../src/codegen/wasm/device.js';
import { initWebGPU } from '../../../src/codegen/wgsl/init.js';
import { runAll } from './check.js';
import './ops.js';
import './programs.js';
import './frontend.js';

const w = window as unknown as { __kiln: unknown; __kilnFilter?: string };

// Every queue.submit is counted (tests assert one submit per jitted call).
const counter = window as unknown as { __submits: number };
counter.__submits = 0;
const submit = GPUQueue.prototype.submit;
GPUQueue.prototype.submit = function (this: GPUQueue, buffers: Iterable<GPUCommandBuffer>) {
  counter.__submits++;
  return submit.call(this, buffers);
};

(async () => {
  const info = await initWebGPU();
  const filter = new URLSearchParams(location.search).get('filter') ?? undefined;
  const results = await runAll(filter);
  w.__kiln = { adapter: info.adapter, results };
})().catch((e) => {
  w.__kiln = { adapter: '?', results: [], fatal: String((e as Error)?.stack ?? e) };
});
