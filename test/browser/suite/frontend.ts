// The user's view of webgpu: tensors created on it, eager ops, reading back, moving between devices,
// jit (one queue.submit per training step, loss going down), a scan RNN and gradients, each against
// the same code on the reference device.
import { hostArray } from '../../../src/ir/array.js';
import { KilnError } from '../../../src/ir/error.js';
import { Tensor } from '../../../src/frontend/tensor.js';
import { tensor } from '../../../src/frontend/convert.js';
import { setDefaultDevice, defaultDevice } from '../../../src/frontend/trace.js';
import { add, mul, sub, tanh, relu, exp, sigmoid } from '../../../src/frontend/ops/elementwise.js';
import { matmul } from '../../../src/frontend/ops/linalg.js';
import { mean, sum } from '../../../src/frontend/ops/reduce.js';
import { jit } from '../../../src/frontend/jit/jit.js';
import { scan } from '../../../src/frontend/control.js';
import { grad, valueAndGrad } from '../../../src/frontend/autograd/functional.js';
import { conv2d, maxPool2d } from '../../../src/frontend/ops/conv.js';
import { reshape } from '../../../src/frontend/ops/shape.js';
import { crossEntropy } from '../../../src/frontend/ops/losses.js';
import { assertClose, expect, randomArray, rng, test } from './check.js';

const r = rng(5);
const data = (shape: number[], lo = -1, hi = 1) => randomArray(r, 'float32', shape, lo, hi);
const on = (a: ReturnType<typeof data>, device: string) => Tensor._fromHost(a, device);
const host = async (t: Tensor) => hostArray(t.dtype, t.shape, await t.data());
const submits = () => (window as unknown as { __submits: number }).__submits;

test('frontend', "to('webgpu').to('cpu-ref') round-trips exactly (f32, i32, bool)", async () => {
  for (const a of [data([3, 5]), randomArray(r, 'int32', [7], -1e6, 1e6), randomArray(r, 'bool', [4, 2])]) {
    const back = on(a, 'cpu-ref').to('webgpu').to('cpu-ref');
    assertClose('round trip', back._host('test'), a, 0);
    const viaGpu = await (await on(a, 'cpu-ref').to('webgpu').toAsync('cpu-ref')).data();
    assertClose('toAsync round trip', hostArray(a.dtype, a.shape, viaGpu), a, 0);
  }
});

test('frontend', "to('webgpu').to('wasm') and back round-trip exactly", async () => {
  for (const a of [data([4, 6]), randomArray(r, 'int32', [9], -1e6, 1e6), randomArray(r, 'bool', [5])]) {
    const w = on(a, 'cpu-ref').to('webgpu').to('wasm');
    expect(w.device === 'wasm', `on ${w.device}`);
    assertClose('webgpu -> wasm', w._host('test'), a, 0);
    const back = await w.to('webgpu').toAsync('wasm');
    assertClose('wasm -> webgpu -> wasm', back._host('test'), a, 0);
  }
});

test('frontend', 'eager ops on webgpu match cpu-ref; await t.data()', async () => {
  const [a, b] = [data([6, 9]), data([9])];
  const f = (x: Tensor, y: Tensor) => sum(mul(tanh(add(x, y)), sigmoid(x)), { axis: 1 });
  assertClose('eager', await host(f(on(a, 'webgpu'), on(b, 'webgpu'))), await host(f(on(a, 'cpu-ref'), on(b, 'cpu-ref'))), 1e-4);
});

test('frontend', 'a computed webgpu tensor cannot be read synchronously: clear KilnError', async () => {
  const t = exp(on(data([2, 2]), 'webgpu'));
  for (const read of [() => t.dataSync(), () => t.tolist(), () => t.to('cpu-ref')]) {
    let msg = '';
    try {
      read();
    } catch (e) {
      msg = e instanceof KilnError ? e.message : `not a KilnError: ${e}`;
    }
    expect(msg.includes('await t.'), `message: ${msg}`);
  }
});

test('frontend', "setDefaultDevice('webgpu') and tensor(x, {device: 'webgpu'})", async () => {
  const prev = defaultDevice();
  setDefaultDevice('webgpu');
  try {
    const t = tensor([[1, 2], [3, 4]]);
    expect(t.device === 'webgpu', `created on ${t.device}`);
    const u = tensor([5, 6], { device: 'webgpu', dtype: 'int32' });
    expect(u.device === 'webgpu' && u.dtype === 'int32', `${u.device} ${u.dtype}`);
    assertClose('default device', await host(add(t, 1)), hostArray('float32', [2, 2], [2, 3, 4, 5]), 0);
  } finally {
    setDefaultDevice(prev);
  }
});

// ---- jit -----------------------------------------------------------------------------------------

function mlpProblem(device: string) {
  const rr = rng(11);
  const x = Tensor._fromHost(randomArray(rr, 'float32', [64, 8], -1, 1), device);
  const wTrue = randomArray(rr, 'float32', [8, 1], -1, 1);
  const y = matmul(x, Tensor._fromHost(wTrue, device));
  const params = [
    Tensor._fromHost(randomArray(rr, 'float32', [8, 32], -0.5, 0.5), device),
    Tensor._fromHost(hostArray('float32', [32], new Array(32).fill(0.01)), device),
    Tensor._fromHost(randomArray(rr, 'float32', [32, 1], -0.5, 0.5), device),
    Tensor._fromHost(hostArray('float32', [1], [0]), device),
  ];
  const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, xb: Tensor, yb: Tensor) => mean(mul(sub(add(matmul(relu(add(matmul(xb, w1), b1)), w2), b2), yb), sub(add(matmul(relu(add(matmul(xb, w1), b1)), w2), b2), yb)));
  const step = jit((w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, xb: Tensor, yb: Tensor) => {
    const [l, g] = valueAndGrad(loss, { argnums: [0, 1, 2, 3] })(w1, b1, w2, b2, xb, yb);
    const ps = [w1, b1, w2, b2].map((p, i) => sub(p, mul(g[i], 0.1)));
    return [l, ...ps];
  });
  return { x, y, params, step };
}

test('jit', 'MLP training step: loss goes down, one queue.submit per step, matches cpu-ref', async () => {
  const gpuRun = mlpProblem('webgpu');
  const refRun = mlpProblem('cpu-ref');
  let p = gpuRun.params;
  let q = refRun.params;
  const losses: number[] = [];
  for (let i = 0; i < 25; i++) {
    const before = submits();
    const [l, ...next] = gpuRun.step(...(p as [Tensor, Tensor, Tensor, Tensor]), gpuRun.x, gpuRun.y) as Tensor[];
    const during = submits() - before;
    if (i > 0) expect(during === 1, `step ${i} issued ${during} queue.submit calls`);
    const [lr, ...nextRef] = refRun.step(...(q as [Tensor, Tensor, Tensor, Tensor]), refRun.x, refRun.y) as Tensor[];
    if (i % 8 === 0 || i === 24) assertClose(`loss at step ${i}`, await host(l), await host(lr), 1e-3);
    losses.push((await l.data())[0]);
    p = next;
    q = nextRef;
  }
  expect(losses[24] < 0.5 * losses[0], `loss went from ${losses[0]} to ${losses[24]}`);
  const stats = gpuRun.step.stats();
  expect(stats.traces === 1 && stats.hits === 24, `traces ${stats.traces}, hits ${stats.hits}`);
});

test('jit', 'scan RNN under jit matches cpu-ref (one submit, no readback)', async () => {
  const rnn = (h0: Tensor, xs: Tensor, w: Tensor) => scan((h: Tensor, x: Tensor) => {
    const hn = tanh(add(matmul(h, w), x));
    return [hn, sum(hn)];
  }, h0, xs);
  const f = jit(rnn);
  const args = [data([2, 6]), data([10, 2, 6]), data([6, 6])];
  const before = submits();
  const [hg, ysg] = f(...(args.map((a) => on(a, 'webgpu')) as [Tensor, Tensor, Tensor])) as [Tensor, Tensor];
  const during = submits() - before;
  expect(during === 1, `the scan call issued ${during} submits`);
  const [hr, ysr] = jit(rnn)(...(args.map((a) => on(a, 'cpu-ref')) as [Tensor, Tensor, Tensor])) as [Tensor, Tensor];
  assertClose('final carry', await host(hg), await host(hr), 1e-3);
  assertClose('ys', await host(ysg), await host(ysr), 1e-3);
});

test('grad', 'eager gradients on webgpu match cpu-ref', async () => {
  const f = (x: Tensor, w: Tensor) => sum(mul(tanh(matmul(x, w)), sigmoid(matmul(x, w))));
  const [a, b] = [data([5, 7]), data([7, 3])];
  const gg = grad(f, { argnums: [0, 1] })(on(a, 'webgpu'), on(b, 'webgpu')) as Tensor[];
  const gr = grad(f, { argnums: [0, 1] })(on(a, 'cpu-ref'), on(b, 'cpu-ref')) as Tensor[];
  for (let i = 0; i < 2; i++) assertClose(`grad ${i}`, await host(gg[i]), await host(gr[i]), 1e-3);
});

test('grad', 'jitted gradients on webgpu match cpu-ref', async () => {
  const f = (x: Tensor) => mean(exp(mul(x, 0.5)));
  const a = data([4, 33]);
  const gj = jit(grad(f));
  assertClose('jit(grad)', await host(gj(on(a, 'webgpu')) as Tensor), await host(gj(on(a, 'cpu-ref')) as Tensor), 1e-4);
});

test('jit', 'CNN training step (conv, max pool, cross-entropy) matches cpu-ref over 3 steps', async () => {
  const rr = rng(21);
  const init = [randomArray(rr, 'float32', [4, 1, 3, 3], -0.5, 0.5), randomArray(rr, 'float32', [4 * 4 * 4, 5], -0.3, 0.3)];
  const xs = randomArray(rr, 'float32', [6, 1, 8, 8], 0, 1);
  const ys = randomArray(rr, 'int32', [6], 0, 4);
  const loss = (w: Tensor, v: Tensor, x: Tensor, y: Tensor) => {
    const h = maxPool2d(relu(conv2d(x, w, { padding: 1 })), 2);
    return crossEntropy(matmul(reshape(h, [6, 64]), v), y);
  };
  const step = jit((w: Tensor, v: Tensor, x: Tensor, y: Tensor) => {
    const [l, [gw, gv]] = valueAndGrad(loss, { argnums: [0, 1] })(w, v, x, y);
    return [l, sub(w, mul(gw, 0.5)), sub(v, mul(gv, 0.5))];
  });
  const run = async (device: string) => {
    let [w, v] = init.map((a) => on(a, device));
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [l, w2, v2] = step(w, v, on(xs, device), on(ys, device)) as Tensor[];
      losses.push((await l.data())[0]);
      [w, v] = [w2, v2];
    }
    return { losses, w: await host(w), v: await host(v) };
  };
  const g = await run('webgpu');
  const c = await run('cpu-ref');
  assertClose('losses', hostArray('float32', [3], g.losses), hostArray('float32', [3], c.losses), 1e-3);
  assertClose('conv weights after 3 steps', g.w, c.w, 1e-3);
  assertClose('dense weights after 3 steps', g.v, c.v, 1e-3);
  expect(g.losses[2] < g.losses[0], `loss ${g.losses.join(' -> ')}`);
});

test('frontend', 'item() inside jit on webgpu (a guard) is a KilnError pointing to cond/whileLoop', async () => {
  const f = jit((x: Tensor) => ((sum(x).item() as number) > 0 ? exp(x) : x));
  let msg = '';
  try {
    f(on(data([3]), 'webgpu'));
  } catch (e) {
    msg = e instanceof KilnError ? e.message : `not a KilnError: ${e}`;
  }
  expect(msg.includes('cond()'), `message: ${msg}`);
});
