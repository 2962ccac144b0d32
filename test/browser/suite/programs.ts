// Whole programs on webgpu: fused kernels from the pass pipeline (shared pass-test programs and random
// ones), control flow as host-side loops, device limits forcing packed inputs and 2-D grids, and the
// user-level path: tensors on 'webgpu', round trips, jit training with one submit per step, a scan
// RNN, gradients, and the errors WebGPU's asynchrony calls for.
import fc from 'fast-check';
import type { HostArray } from '../../../src/ir/array.js';
import { hostArray } from '../../../src/ir/array.js';
import { Builder } from '../../../src/ir/builder.js';
import type { Function } from '../../../src/ir/function.js';
import { interpret } from '../../../src/ir/interpret.js';
import { KilnError } from '../../../src/ir/error.js';
import { runPipeline } from '../../../src/passes/pipeline.js';
import { countKernels } from '../../../src/passes/fuse.js';
import { getDevice } from '../../../src/codegen/device.js';
import type { Device } from '../../../src/codegen/device.js';
import { webgpuDevice } from '../../../src/codegen/wgsl/init.js';
import { GpuRuntime } from '../../../src/codegen/wgsl/runtime.js';
import { createWebGPUDevice } from '../../../src/codegen/wgsl/device.js';
import { elementwiseChain, layerNorm, mlp, mlpTrainStep, softmax } from '../../passes/programs.js';
import { buildProgram, recipeArb } from '../../passes/random_programs.js';
import { assertClose, expect, randomArray, rng, test } from './check.js';

const r = rng(99);
const inputsFor = (fn: Function): HostArray[] =>
  fn.body.params.map((p) => (p.type.dtype === 'int32' ? randomArray(r, 'int32', p.type.shape, 0, Math.max(0, (p.type.shape[0] ?? 1) - 1)) : randomArray(r, p.type.dtype, p.type.shape)));

/** Runs `fn` optimized (fused) on `device` and compares with the interpreter on the original. */
async function checkProgram(device: Device, fn: Function, rtol: number, inputs = inputsFor(fn), fused = true): Promise<Function> {
  const want = interpret(fn, inputs);
  const opt = fused ? runPipeline(fn) : fn;
  const outs = device.compile(opt).run(inputs.map((x) => device.upload(x)));
  for (let i = 0; i < want.length; i++) assertClose(`${fn.name} result ${i}`, await device.read(outs[i]), want[i], rtol);
  return opt;
}

const gpu = () => getDevice('webgpu');

// ---- fused programs --------------------------------------------------------------------------------

test('fused', 'softmax [64,300] (row kernels)', () => checkProgram(gpu(), softmax(64, 300), 1e-4).then(() => undefined));
test('fused', 'exp(x) and its sum over one long row (split reduction with an elementwise output)', async () => {
  const b = new Builder();
  const x = b.param(f32(60000), 'x');
  const e = b.op1('exp', [x], {});
  const s = b.op1('reduce_sum', [e], { axes: [0] });
  const mean = b.op1('div', [s, b.constant(60000, 'float32')], {});
  const opt = await checkProgram(gpu(), b.finish('expsum', [e, mean]), 1e-4);
  expect(countKernels(opt) === 1, `expected one kernel, got ${countKernels(opt)}`);
});
test('fused', 'layer norm [33,70]', () => checkProgram(gpu(), layerNorm(33, 70), 1e-4).then(() => undefined));
test('fused', 'MLP 16-64-64-10 (contraction epilogues)', () => checkProgram(gpu(), mlp(16, [16, 64, 64, 10]), 1e-3).then(() => undefined));
test('fused', 'elementwise chain', () => checkProgram(gpu(), elementwiseChain(17, 40), 1e-4).then(() => undefined));
test('fused', 'MLP training step (forward, backward, SGD)', async () => {
  const fn = mlpTrainStep(16, 24, 32, 10, 0.1);
  const inputs = fn.body.params.map((p) => (p.type.dtype === 'int32' ? randomArray(r, 'int32', p.type.shape, 0, 9) : randomArray(r, p.type.dtype, p.type.shape, -0.5, 0.5)));
  await checkProgram(gpu(), fn, 1e-3, inputs);
});
test('fused', '30 random programs (fast-check recipes)', async () => {
  for (const recipe of fc.sample(recipeArb, { seed: 7, numRuns: 30 })) await checkProgram(gpu(), buildProgram(recipe), 1e-3);
});

// ---- control flow ----------------------------------------------------------------------------------

const f32 = (...shape: number[]) => ({ dtype: 'float32' as const, shape });

function condProgram(): Function {
  const b = new Builder();
  const p = b.param({ dtype: 'bool', shape: [] }, 'p');
  const x = b.param(f32(5), 'x');
  const t = new Builder();
  const tx = t.param(f32(5));
  const e = new Builder();
  const ex = e.param(f32(5));
  const [y] = b.op('cond', [p, x], {}, [t.block([t.op1('exp', [tx], {})]), e.block([e.op1('mul', [ex, x], {})])]);
  return b.finish('cond', [y]);
}

/** while (sum(x) < 100) x = x * 1.5 + 1; with a counter. */
function whileProgram(): Function {
  const b = new Builder();
  const x = b.param(f32(4), 'x');
  const i = b.constant(0, 'int32');
  const c = new Builder();
  const [cx] = [c.param(f32(4)), c.param({ dtype: 'int32', shape: [] })];
  const go = c.op1('lt', [c.op1('reduce_sum', [cx], { axes: [0] }), c.constant(100, 'float32')], {});
  const body = new Builder();
  const [bx, bi] = [body.param(f32(4)), body.param({ dtype: 'int32', shape: [] })];
  const nx = body.op1('add', [body.op1('mul', [bx, body.op1('broadcast', [body.constant(1.5, 'float32')], { shape: [4], dims: [] })], {}), body.op1('broadcast', [body.constant(1, 'float32')], { shape: [4], dims: [] })], {});
  const ni = body.op1('add', [bi, body.constant(1, 'int32')], {});
  const res = b.op('while', [x, i], {}, [c.block([go]), body.block([nx, ni])]);
  return b.finish('while', res);
}

/** An RNN over 12 steps: h = tanh(h @ W + x_t), ys = h per step; W read from the enclosing block. */
function scanProgram(reverse: boolean): Function {
  const b = new Builder();
  const h0 = b.param(f32(3, 8), 'h0');
  const xs = b.param(f32(12, 3, 8), 'xs');
  const w = b.param(f32(8, 8), 'w');
  const s = new Builder();
  const [h, xt] = [s.param(f32(3, 8)), s.param(f32(3, 8))];
  const hw = s.op1('dot_general', [h, w], { contract: [[1], [0]], batch: [[], []] });
  const hn = s.op1('tanh', [s.op1('add', [hw, xt], {})], {});
  const res = b.op('scan', [h0, xs], { length: 12, numCarry: 1, reverse }, [s.block([hn, hn])]);
  return b.finish('rnn', res);
}

/** A scan whose body branches on its slice: a predicate read back inside every step. */
function scanWithCond(): Function {
  const b = new Builder();
  const c0 = b.param(f32(3), 'c0');
  const xs = b.param(f32(5, 3), 'xs');
  const s = new Builder();
  const [c, x] = [s.param(f32(3)), s.param(f32(3))];
  const p = s.op1('gt', [s.op1('reduce_sum', [x], { axes: [0] }), s.constant(0, 'float32')], {});
  const t = new Builder();
  const tx = t.param(f32(3));
  const e = new Builder();
  const ex = e.param(f32(3));
  const [y] = s.op('cond', [p, x], {}, [t.block([t.op1('exp', [tx], {})]), e.block([e.op1('neg', [ex], {})])]);
  const next = s.op1('add', [c, y], {});
  const res = b.op('scan', [c0, xs], { length: 5, numCarry: 1, reverse: false }, [s.block([next, y])]);
  return b.finish('scan_cond', res);
}

test('control', 'scan with a cond in its body (a readback per step)', async () => {
  const fn = scanWithCond();
  await checkProgram(gpu(), fn, 1e-4);
});
test('control', 'cond, both branches (predicate read back)', async () => {
  const fn = condProgram();
  for (const p of [1, 0]) await checkProgram(gpu(), fn, 1e-4, [hostArray('bool', [], [p]), randomArray(r, 'float32', [5])]);
});
test('control', 'while with a counter', async () => {
  await checkProgram(gpu(), whileProgram(), 1e-4, [randomArray(r, 'float32', [4], 0.1, 1)]);
});
test('control', 'scan RNN (IR), forward and reverse', async () => {
  for (const rev of [false, true]) await checkProgram(gpu(), scanProgram(rev), 1e-3);
});
test('control', 'work queued behind a while loop stays in order', async () => {
  const d = gpu();
  const exec = d.compile(runPipeline(whileProgram()));
  const x = d.upload(randomArray(r, 'float32', [4], 0.1, 1));
  const [y] = exec.run([x]);
  // These eager ops are recorded only after the loop finished (they read its result).
  const [z] = d.execute('neg', [y], {}, []);
  const want = interpret(whileProgram(), [await d.read(x)]);
  assertClose('neg(while)', await d.read(z), evalNeg(want[0]), 1e-4);
});
const evalNeg = (a: HostArray): HostArray => hostArray('float32', a.shape, a.data.map((v) => -v));

// ---- device limits -----------------------------------------------------------------------------------

/** A device on the same GPU that pretends to allow 4 storage buffers and 16 workgroups per dimension. */
function tightDevice(): Device {
  const real = webgpuDevice()!.runtime;
  return createWebGPUDevice(new GpuRuntime(real.device, { ...real.limits, maxStorageBuffers: 4, maxWorkgroupsPerDim: 16 }));
}

test('limits', 'a kernel reading 9 inputs packs them past maxStorageBuffersPerShaderStage=4', async () => {
  const b = new Builder();
  const ps = Array.from({ length: 9 }, (_, i) => b.param(f32(50, 30), `p${i}`));
  let acc = ps[0];
  for (const p of ps.slice(1)) acc = b.op1('add', [b.op1('mul', [acc, p], {}), p], {});
  const d = tightDevice();
  const opt = await checkProgram(d, b.finish('wide', [acc]), 1e-4);
  expect(countKernels(opt) === 1, `expected one fused kernel, got ${countKernels(opt)}`);
});
test('limits', 'dispatches beyond maxComputeWorkgroupsPerDimension=16 fold into a 2-D grid', async () => {
  const b = new Builder();
  const x = b.param(f32(100, 101), 'x');
  const s = b.op1('reduce_sum', [b.op1('exp', [x], {})], { axes: [1] });
  await checkProgram(tightDevice(), b.finish('grid', [b.op1('sigmoid', [x], {}), s]), 1e-4);
  await checkProgram(tightDevice(), b.finish('matmul', [b.op1('dot_general', [x, b.op1('transpose', [x], { perm: [1, 0] })], { contract: [[1], [0]], batch: [[], []] })]), 1e-3);
});
test('limits', 'float64 is refused with a KilnError', async () => {
  let msg = '';
  try {
    gpu().upload(hostArray('float64', [2], [1, 2]));
  } catch (e) {
    msg = e instanceof KilnError ? e.message : `not a KilnError: ${e}`;
  }
  expect(msg.includes('f64') && msg.includes('webgpu'), `message: ${msg}`);
});

// ---- batching ----------------------------------------------------------------------------------------

test('batching', 'a compiled call of 300 unfused kernels is one command buffer, one submit', async () => {
  const b = new Builder();
  let v = b.param(f32(64), 'x');
  for (let i = 0; i < 300; i++) v = b.op1(i % 2 ? 'sin' : 'cos', [v], {});
  const fn = b.finish('long', [v]);
  const d = gpu();
  const exec = d.compile(runPipeline(fn, { fuse: false }));
  const x = d.upload(randomArray(r, 'float32', [64]));
  const counter = window as unknown as { __submits: number };
  const before = counter.__submits;
  const [y] = exec.run([x]);
  expect(counter.__submits - before === 1, `${counter.__submits - before} submits`);
  assertClose('300 kernels', await d.read(y), interpret(fn, [await d.read(x)])[0], 1e-4);
});
