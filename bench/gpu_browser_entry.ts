// bench/gpu.ts --browser runs this page: the same benchmark body, printed through the console.
import '../src/codegen/cpu_ref.js';
import { initWebGPU } from '../src/codegen/wgsl/init.js';
import { runGpuBench } from './gpu_suite.js';

const w = window as unknown as { __kiln: unknown };
(async () => {
  const info = await initWebGPU({ powerPreference: 'high-performance' });
  console.log(`adapter: ${info.adapter}`);
  await runGpuBench({ quick: new URLSearchParams(location.search).get('filter') === 'quick', device: 'webgpu', log: (l) => console.log(l) });
  w.__kiln = { adapter: info.adapter, results: [] };
})().catch((e) => {
  w.__kiln = { adapter: '?', results: [], fatal: String((e as Error)?.stack ?? e) };
});
