// Quick numbers for the wasm contraction kernels: GFLOP/s, best of several calls, for square matmuls,
// the MLP's transposed layouts (x.T @ g and g @ W.T of the backward pass) and the conv2d rows, jit and
// eager. `KILN_THREADS=1 npx tsx bench/contract_quick.ts [matmul] [conv] [mlp] [--only text] [--ab key=value,...]`
// (BUDGET_MS: time per row):
// with --ab each row times two jitted versions side by side, compiled with the default `tuning`
// (src/codegen/wasm/lanes.ts) and with the given switches, alternating calls so drift hits both.
import * as k from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { tuning } from '../src/codegen/wasm/lanes.js';

k.setDefaultDevice('wasm');
const argv = process.argv.slice(2);
const abAt = argv.indexOf('--ab');
const ab = abAt >= 0 ? Object.fromEntries(argv[abAt + 1].split(',').map((kv) => kv.split('=')).map(([a, b]) => [a, JSON.parse(b)])) : null;
const which = argv.filter((a, i) => !a.startsWith('--') && !['--ab', '--only'].includes(argv[i - 1]));
const want = (w: string) => which.length === 0 || which.includes(w);
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? argv[onlyAt + 1] : '';
const budget = Number(process.env.BUDGET_MS ?? 2000);

function time(f: () => Tensor): number {
  const t0 = performance.now();
  const y = f();
  const t = performance.now() - t0;
  y.dispose();
  return t;
}

/** Best times in ms of each function, calls interleaved, within ~budget ms (at least `min` rounds). */
function best(fs: (() => Tensor)[], min = 5): number[] {
  fs.forEach((f) => f().dispose());
  const t = fs.map(() => Infinity);
  const stop = performance.now() + budget;
  for (let i = 0; i < min || performance.now() < stop; i++) fs.forEach((f, j) => (t[j] = Math.min(t[j], time(f))));
  return t;
}

function withTuning<T>(sw: Record<string, unknown>, f: () => T): T {
  const saved = { ...tuning };
  Object.assign(tuning, sw);
  try {
    return f();
  } finally {
    Object.assign(tuning, saved);
  }
}

function row(name: string, flops: number, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  if (!name.includes(only)) return;
  const gf = (t: number) => (flops / t / 1e6).toFixed(1).padStart(7);
  const jf = k.jit(fn);
  if (ab) {
    const jb = k.jit(fn);
    jf(...inputs).dispose();
    withTuning(ab, () => jb(...inputs).dispose());
    const [ta, tb] = best([() => jf(...inputs), () => jb(...inputs)]);
    console.log(`${name.padEnd(34)} jit ${gf(ta)}   with ${JSON.stringify(ab)} ${gf(tb)} GFLOP/s  (${(ta / tb).toFixed(2)}x)`);
    return;
  }
  const [tj, te] = best([() => jf(...inputs), () => k.tidy(() => fn(...inputs))]);
  console.log(`${name.padEnd(34)} jit ${gf(tj)}   eager ${gf(te)} GFLOP/s`);
}

const t = (shape: number[]) => k.randn(shape);
if (want('matmul')) {
  for (const n of [256, 512, 1024]) row(`matmul ${n}`, 2 * n ** 3, (a, b) => k.matmul(a, b), [t([n, n]), t([n, n])]);
  row('matmul 1000x1000 (tails)', 2 * 1000 ** 3, (a, b) => k.matmul(a, b), [t([1000, 1000]), t([1000, 1000])]);
}
if (want('mlp')) {
  row('fwd  [128,784]@[784,512]', 2 * 128 * 784 * 512, (a, b) => k.matmul(a, b), [t([128, 784]), t([784, 512])]);
  row('dW   [784,128].T@[128,512]', 2 * 128 * 784 * 512, (a, b) => k.matmul(k.transpose(a), b), [t([128, 784]), t([128, 512])]);
  row('dx   [128,512]@[784,512].T', 2 * 128 * 784 * 512, (a, b) => k.matmul(a, k.transpose(b)), [t([128, 512]), t([784, 512])]);
  row('fwd2 [128,512]@[512,512]+b relu', 2 * 128 * 512 * 512, (a, b, c) => k.relu(k.add(k.matmul(a, b), c)), [t([128, 512]), t([512, 512]), t([512])]);
}
if (want('conv')) {
  row('conv2d [32,16,32,32]->32 3x3 same', 2 * 32 * 32 * 32 * 32 * 16 * 9, (x, w) => k.conv2d(x, w, { padding: 'same' }), [t([32, 16, 32, 32]), t([32, 16, 3, 3])]);
  row('bmm with conv\'s extents', 2 * 32 * 32 * 32 * 32 * 16 * 9, (a, b) => k.matmul(a, b), [t([32, 32, 144]), t([32, 144, 1024])]);
  row('conv2d [128,1,28,28]->16 3x3 same', 2 * 128 * 16 * 28 * 28 * 9, (x, w) => k.conv2d(x, w, { padding: 1 }), [t([128, 1, 28, 28]), t([16, 1, 3, 3])]);
  row('conv2d weight-grad shape ->[16,32,3,3]', 2 * 16 * 32 * 9 * 128 * 196, (x, w) => k.conv2d(x, w, { padding: 1 }), [t([16, 128, 14, 14]), t([32, 128, 14, 14])]);
  row('conv2d [128,16,14,14]->32 3x3 same', 2 * 128 * 32 * 14 * 14 * 16 * 9, (x, w) => k.conv2d(x, w, { padding: 1 }), [t([128, 16, 14, 14]), t([32, 16, 3, 3])]);
}
process.exit(0);
