// The GPU benchmark body, shared by Node (the `webgpu` package) and the browser (bench/gpu.ts
// --browser): matmul GFLOP/s, fused elementwise GB/s, an MLP training step, each jitted and eager.
// Timing: K calls recorded back to back, then one readback of the last result; per-call time is the
// total over K (the GPU runs the calls in order, so the readback waits for all of them).
import { hostArray } from '../src/ir/array.js';
import { Tensor } from '../src/frontend/tensor.js';
import { add, mul, sub, relu, sigmoid, tanh } from '../src/frontend/ops/elementwise.js';
import { matmul } from '../src/frontend/ops/linalg.js';
import { crossEntropy } from '../src/frontend/ops/losses.js';
import { jit } from '../src/frontend/jit/jit.js';
import { valueAndGrad } from '../src/frontend/autograd/functional.js';

export interface BenchRow {
  workload: string;
  mode: 'jit' | 'eager';
  ms: number;
  rate: string;
}

export interface BenchOptions {
  quick: boolean;
  device: string;
  log?: (line: string) => void;
}

function random(shape: number[], seed: number, scale = 1): Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return Tensor._fromHost(hostArray('float32', shape, data), 'cpu-ref');
}

const now = () => performance.now();

/** Mean ms per call of `call` over `reps` calls after `warm` warm-up calls. */
async function time(call: () => Tensor, reps: number, warm = 2): Promise<number> {
  for (let i = 0; i < warm; i++) await call().data();
  const t0 = now();
  let last: Tensor | null = null;
  for (let i = 0; i < reps; i++) {
    last?.dispose();
    last = call();
  }
  await last!.data();
  return (now() - t0) / reps;
}

export async function runGpuBench(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const log = opts.log ?? (() => {});
  const dev = opts.device;
  const on = (t: Tensor) => t.to(dev);
  const push = (row: BenchRow) => {
    rows.push(row);
    log(`${row.workload.padEnd(44)} ${row.mode.padEnd(6)} ${row.ms.toFixed(3).padStart(10)} ms  ${row.rate}`);
  };

  // ---- matmul --------------------------------------------------------------------------------------
  const mm = jit((a: Tensor, b: Tensor) => matmul(a, b));
  for (const n of opts.quick ? [64, 128] : [1024, 2048, 4096]) {
    const a = on(random([n, n], 1));
    const b = on(random([n, n], 2));
    const reps = opts.quick ? 3 : n >= 4096 ? 5 : 20;
    const ms = await time(() => mm(a, b) as Tensor, reps);
    push({ workload: `matmul ${n}x${n} f32`, mode: 'jit', ms, rate: `${((2 * n ** 3) / (ms * 1e6)).toFixed(1)} GFLOP/s` });
  }

  // ---- fused elementwise ---------------------------------------------------------------------------
  const n = opts.quick ? 1 << 16 : 1 << 24;
  const x = on(random([n], 3));
  const f = (t: Tensor) => sub(mul(tanh(add(mul(t, 1.5), 0.5)), sigmoid(t)), mul(t, 0.1));
  const fj = jit(f);
  for (const [mode, call] of [['jit', () => fj(x) as Tensor], ['eager', () => f(x)]] as const) {
    const ms = await time(call, opts.quick ? 3 : 20);
    push({ workload: `tanh(x*1.5+0.5)*sigmoid(x)-0.1*x, ${n} f32`, mode, ms, rate: `${((8 * n) / (ms * 1e6)).toFixed(2)} GB/s (1 read + 1 write)` });
  }

  // ---- MLP training step ---------------------------------------------------------------------------
  const [batch, inp, hid, cls] = opts.quick ? [16, 32, 64, 10] : [128, 784, 512, 10];
  const params = [on(random([inp, hid], 4, 0.05)), on(random([hid], 5, 0)), on(random([hid, hid], 6, 0.05)), on(random([hid], 7, 0)), on(random([hid, cls], 8, 0.05)), on(random([cls], 9, 0))];
  const xb = on(random([batch, inp], 10));
  const labels = Tensor._fromHost(hostArray('int32', [batch], Array.from({ length: batch }, (_, i) => i % cls)), 'cpu-ref').to(dev);
  const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, w3: Tensor, b3: Tensor, xs: Tensor, ys: Tensor) => {
    const h1 = relu(add(matmul(xs, w1), b1));
    const h2 = relu(add(matmul(h1, w2), b2));
    return crossEntropy(add(matmul(h2, w3), b3), ys);
  };
  const step = (...args: Tensor[]) => {
    const [l, g] = valueAndGrad(loss, { argnums: [0, 1, 2, 3, 4, 5] })(...args);
    return [l, ...(g as Tensor[]).map((gi, i) => sub(args[i], mul(gi, 0.01)))] as Tensor[];
  };
  const stepJ = jit(step);
  for (const [mode, s] of [['jit', stepJ], ['eager', step]] as const) {
    let ps = params;
    const ms = await time(() => {
      const [l, ...next] = s(...ps, xb, labels) as Tensor[];
      ps = next;
      return l;
    }, opts.quick ? 3 : 20);
    push({ workload: `MLP ${inp}-${hid}-${hid}-${cls} train step, batch ${batch}`, mode, ms, rate: `${(1000 / ms).toFixed(1)} steps/s` });
  }
  return rows;
}
