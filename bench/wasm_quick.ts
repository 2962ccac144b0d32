// Quick numbers for the wasm backend (npx tsx bench/wasm_quick.ts [--quick]): matmul GFLOP/s, the
// fused elementwise chain tanh(x*1.5+0.5)*sigmoid(x)-0.1*x in GB/s (one read + one write) eager vs
// jit, and softmax over rows of [4096,1024] in ms. The benny suite in bench/ is the full comparison.
import * as k from '../src/index.js';
import type { Tensor } from '../src/index.js';

const quick = process.argv.includes('--quick');
k.setDefaultDevice('wasm');

/** Lets FinalizationRegistry callbacks run (they free dropped eager intermediates). */
async function settle(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 0));
}

/** Best time in ms of `reps` runs after one warm-up run. */
async function best(reps: number, f: () => Tensor): Promise<number> {
  f().dispose();
  let t = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const y = f();
    y.dataSync().length; // reading forces nothing on wasm (synchronous), but keeps the comparison honest
    t = Math.min(t, performance.now() - t0);
    y.dispose();
    await settle();
  }
  return t;
}

const fmt = (x: number, d = 1) => x.toFixed(d).padStart(8);

async function main(): Promise<void> {
  console.log(`kiln wasm backend, node ${process.version}, ${quick ? 'quick' : 'full'} run`);
  for (const n of quick ? [256, 512] : [256, 512, 1024]) {
    const a = k.randn([n, n]);
    const b = k.randn([n, n]);
    const mm = k.jit((x: Tensor, y: Tensor) => k.matmul(x, y));
    const reps = n >= 1024 ? 3 : 10;
    const tj = await best(reps, () => mm(a, b));
    const te = await best(reps, () => k.matmul(a, b));
    const gf = (t: number) => (2 * n ** 3) / t / 1e6;
    console.log(`matmul ${n}x${n}        jit ${fmt(gf(tj))} GFLOP/s   eager ${fmt(gf(te))} GFLOP/s`);
  }
  const chain = (x: Tensor) => k.sub(k.mul(k.tanh(k.add(k.mul(x, 1.5), 0.5)), k.sigmoid(x)), k.mul(x, 0.1));
  const chainJit = k.jit(chain);
  for (const n of quick ? [1 << 20] : [1 << 20, 1 << 24]) {
    const x = k.randn([n]);
    const reps = n > 1 << 20 ? 3 : 10;
    const tj = await best(reps, () => chainJit(x));
    const te = await best(reps, () => chain(x));
    const gb = (t: number) => (8 * n) / t / 1e6;
    console.log(`chain ${n >> 20}M ${' '.repeat(n > 1 << 20 ? 9 : 10)}jit ${fmt(gb(tj), 2)} GB/s      eager ${fmt(gb(te), 2)} GB/s   (${(te / tj).toFixed(1)}x)`);
    x.dispose();
    await settle();
  }
  const rows = quick ? 1024 : 4096;
  const s = k.randn([rows, 1024]);
  const sm = k.jit((x: Tensor) => k.softmax(x, { axis: -1 }));
  const tj = await best(10, () => sm(s));
  const te = await best(5, () => k.softmax(s, { axis: -1 }));
  console.log(`softmax [${rows},1024]    jit ${fmt(tj, 2)} ms         eager ${fmt(te, 2)} ms`);
}

await main();
