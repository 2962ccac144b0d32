// GPU benchmark: `npx tsx bench/gpu.ts [--quick] [--browser] [--swiftshader]`.
// For a machine with a real GPU: in Node through the optional `webgpu` package (Dawn), or with
// --browser in Chromium (a hardware adapter unless --swiftshader). Reports matmul GFLOP/s (1024² to
// 4096²), fused elementwise GB/s on 16M elements, and the MLP training step, jitted vs eager.
// On a machine without a GPU only `--browser --swiftshader --quick` runs (tiny sizes, CPU WebGPU):
// it checks that the script works, not how fast anything is.
import { fileURLToPath } from 'node:url';
import '../src/codegen/cpu_ref.js';
import { initWebGPU } from '../src/codegen/wgsl/init.js';
import { CHROMIUM_ARGS, bundle, runPage } from '../test/browser/harness.js';
import { runGpuBench } from './gpu_suite.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');

if (args.has('--browser')) {
  const entry = fileURLToPath(new URL('./gpu_browser_entry.ts', import.meta.url));
  const code = await bundle(entry);
  const flags = args.has('--swiftshader') ? CHROMIUM_ARGS : CHROMIUM_ARGS.filter((a) => !a.startsWith('--use-webgpu-adapter'));
  // The page reads the size choice from its query string (the harness's `filter`).
  const report = await runPage(code, { timeoutMs: 30 * 60_000, log: (l) => console.log(l), args: flags, filter: quick ? 'quick' : 'full' });
  if (report.fatal) {
    console.error(report.fatal);
    process.exit(1);
  }
} else {
  const info = await initWebGPU({ powerPreference: 'high-performance' });
  console.log(`adapter: ${info.adapter}`);
  await runGpuBench({ quick, device: 'webgpu', log: (l) => console.log(l) });
}
