// Bad-input cases for the rest of the public API: tensors and devices, memory, jit and control flow,
// autograd, io and export, training, diagnostics. Exports that take no input say so (with a reason).
import * as K from '../../src/index.js';
import type { Case, Entry } from './bad_input_table.js';

const f2 = () => K.tensor([[1, 2], [3, 4]]);
const f1 = () => K.tensor([1, 2, 3]);
const c = (call: () => unknown, msg: RegExp): Case => ({ call, msg });
const none = (reason: string): Entry => ({ none: reason });
const model = () => new K.nn.Linear(2, 2);
const junk = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);

export const API_CASES: Record<string, Entry> = {
  // ---- values, devices, memory ---------------------------------------------------------------------
  Tensor: [
    c(() => f1().to('tpu'), /device: unknown device 'tpu'/),
    c(() => f2().item(), /^item: only one-element tensors can be read as a scalar, got f32\[2,2\]/),
    c(() => { const t = f1(); t.dispose(); return t.dataSync(); }, /tensor f32\[3\] was disposed and can no longer be used/),
  ],
  KilnError: none('the error class itself'),
  COMPARISON_OPS: none('a constant set of primitive names'),
  formatTensor: [c(() => K.formatTensor(undefined as never), /^formatTensor: expected a tensor, got undefined/)],
  setDefaultDevice: [c(() => K.setDefaultDevice('tpu'), /^device: unknown device 'tpu' \(known: .*cpu-ref/)],
  defaultDevice: none('takes no arguments'),
  withDevice: [
    c(() => K.withDevice('tpu', () => 1), /^device: unknown device 'tpu' \(known: .*cpu-ref/),
    c(() => K.withDevice('cpu-ref', undefined as never), /^withDevice: expected a function to run on 'cpu-ref', got undefined/),
  ],
  deviceNames: none('takes no arguments'),
  memory: none('takes no arguments'),
  tidy: [c(() => K.tidy(undefined as never), /^tidy: expected a function \(or a name and a function\), got undefined/)],
  keep: [c(() => K.keep('abc' as never), /^keep: expected a tensor, got "abc"/)],
  dispose: [c(() => K.dispose(42), /^dispose: expected tensors \(or arrays and objects of them\), got 42/)],
  webgpuDevice: none('takes no arguments (null until initWebGPU)'),
  initWebGPU: [c(() => K.initWebGPU({ powerPreference: 'fastest' as never }), /^initWebGPU: powerPreference must be 'low-power' or 'high-performance', got 'fastest'/)],
  // ---- jit, tracing, control flow -----------------------------------------------------------------
  jit: [
    c(() => K.jit(42 as never), /^jit: expected a function or an options object, got 42/),
    c(() => K.jit((x: K.Tensor) => x, { static: ['y'] }), /^jit\(.*\): static argument 'y' is not a parameter/),
    c(() => K.jit((x: K.Tensor) => x, { maxEntries: 0 }), /^jit\(.*\): maxEntries must be a positive integer, got 0/),
  ],
  makeIR: [c(() => K.makeIR(undefined as never), /^makeIR: expected a function, got undefined/)],
  cond: [c(() => K.cond(K.tensor(true), 1 as never, () => 0), /^cond: trueFn must be a function, got 1/), c(() => K.cond(f1(), () => 1, () => 2), /^cond: the predicate must have one element, got f32\[3\]/)],
  whileLoop: [c(() => K.whileLoop(undefined as never, (x) => x, f1()), /^whileLoop: condFn must be a function, got undefined/)],
  forLoop: [c(() => K.forLoop(0, 1.5, (_i: unknown, x: K.Tensor) => x, f1()), /^forLoop: upper must be an integer \(the trip count is static\), got 1.5/), c(() => K.forLoop(0, 2, 'f' as never, f1()), /^forLoop: bodyFn must be a function, got "f"/)],
  scan: [c(() => K.scan((cc: K.Tensor, x: K.Tensor) => [cc, x], f1(), [f1(), f2()] as never), /^scan: scanned inputs disagree on the length: 3 vs 2/), c(() => K.scan(null as never, f1(), f2()), /^scan: fn must be a function, got null/)],
  // ---- autograd -------------------------------------------------------------------------------------
  backward: [c(() => K.backward(undefined as never), /^backward: expected a tensor, got undefined/), c(() => K.backward(f1()), /^backward: the tensor f32\[3\] does not require grad/)],
  gradients: [c(() => K.gradients(f1() as never, [f1()]), /^gradients: outputs must be a list, got f32\[3\]/)],
  zeroGrad: [c(() => K.zeroGrad(42), /^zeroGrad: expected tensors \(or arrays and objects of them\), got 42/)],
  noGrad: [c(() => K.noGrad(undefined as never), /^noGrad: expected a function, got undefined/)],
  enableGrad: [c(() => K.enableGrad('x' as never), /^enableGrad: expected a function, got "x"/)],
  isGradEnabled: none('takes no arguments'),
  grad: [c(() => K.grad(undefined as never), /^grad: expected a function, got undefined/), c(() => K.grad((x: K.Tensor) => K.sum(x), { argnums: 3 })(f1()), /^grad: argnums 3 is out of range for 1 argument/)],
  valueAndGrad: [c(() => K.valueAndGrad(7 as never), /^valueAndGrad: expected a function, got 7/), c(() => K.valueAndGrad((x: K.Tensor) => x)(f1()), /^valueAndGrad: the function must return a one-element float tensor, got f32\[3\]/)],
  vjp: [c(() => K.vjp(undefined as never, f1()), /^vjp: expected a function, got undefined/)],
  jvp: [c(() => K.jvp((x: K.Tensor) => x, f1() as never, [f1()]), /^jvp: primals must be a list, got f32\[3\]/), c(() => K.jvp((x: K.Tensor) => x, [f1()], [f2()]), /^jvp: .*tangent.*f32\[2,2\].*f32\[3\]/)],
  jacobian: [c(() => K.jacobian(null as never), /^jacobian: expected a function, got null/)],
  hessian: [c(() => K.hessian('f' as never), /^hessian: expected a function, got "f"/)],
  customVjp: [c(() => K.customVjp(undefined as never, undefined as never, undefined as never), /^customVjp: fn must be a function, got undefined/)],
  CustomFunction: [c(() => (class extends K.CustomFunction {} as unknown as { apply(x: unknown): unknown }).apply(f1()), /CustomFunction: .*forward/)],
  FunctionContext: [c(() => new K.FunctionContext().saveForBackward(42 as never), /^saveForBackward: expected tensors, got 42/)],
  stopGradient: [c(() => K.stopGradient(undefined as never), /^stopGradient: expected a tensor, got undefined/)],
  checkGrad: [c(() => K.checkGrad((x: K.Tensor) => K.sum(x), f1() as never), /^checkGrad: inputs must be a list of tensors, got f32\[3\]/)],
  vjpFunction: [c(() => K.vjpFunction(undefined as never, [0]), /^vjpFunction: expected an IR Function, got undefined/)],
  jvpFunction: [c(() => K.jvpFunction({} as never), /^jvpFunction: expected an IR Function, got \{\}/)],
  // ---- io and export --------------------------------------------------------------------------------
  parseSafetensors: [c(() => K.parseSafetensors(junk), /^safetensors: /), c(() => K.parseSafetensors('x' as never), /^safetensors: expected bytes \(a Uint8Array\), got "x"/)],
  serializeSafetensors: [c(() => K.serializeSafetensors(undefined as never), /^safetensors: expected a record of arrays, got undefined/), c(() => K.serializeSafetensors({ a: null } as never), /^safetensors: tensor 'a' is not an array: null/)],
  stateDictToBytes: [c(() => K.stateDictToBytes({ w: 3 } as never), /^stateDictToBytes: 'w' is not a tensor: 3/)],
  stateDictFromBytes: [c(() => K.stateDictFromBytes(junk), /^safetensors: /)],
  save: [c(() => K.save({ w: f1() }, 42 as never), /^save: path must be a string, got 42/)],
  load: [c(() => K.load('/nonexistent/kiln/x.safetensors'), /^load: cannot read \/nonexistent\/kiln\/x.safetensors: ENOENT/)],
  parseNpy: [c(() => K.parseNpy(junk), /^npy: /), c(() => K.parseNpy(undefined as never), /^npy: expected bytes \(a Uint8Array\), got undefined/)],
  serializeNpy: [c(() => K.serializeNpy(undefined as never), /^npy: expected an array \{dtype, shape, data\}, got undefined/)],
  tensorToNpy: [c(() => K.tensorToNpy('x' as never), /^tensorToNpy: expected a tensor, got "x"/)],
  tensorFromNpy: [c(() => K.tensorFromNpy(junk), /^npy: /)],
  saveNpy: [c(() => K.saveNpy(f1(), undefined as never), /^saveNpy: path must be a string, got undefined/)],
  loadNpy: [c(() => K.loadNpy('/nonexistent/kiln/x.npy'), /^loadNpy: cannot read \/nonexistent\/kiln\/x.npy: ENOENT/)],
  saveCheckpoint: [c(() => K.saveCheckpoint({} as never, '/tmp/x.ckpt'), /^saveCheckpoint: expected an nn.Module, got \{\}/)],
  loadCheckpoint: [c(() => K.loadCheckpoint(model(), '/nonexistent/kiln/x.ckpt'), /^loadCheckpoint: cannot read \/nonexistent\/kiln\/x.ckpt: ENOENT/)],
  checkpointToBytes: [c(() => K.checkpointToBytes(undefined as never), /^checkpointToBytes: expected an nn.Module, got undefined/)],
  checkpointFromBytes: [c(() => K.checkpointFromBytes(model(), junk), /^safetensors: header length: declared size \d+ is larger than any file/), c(() => K.checkpointFromBytes({} as never, junk), /^loadCheckpoint: expected an nn.Module, got \{\}/)],
  exportArtifact: [c(() => K.exportArtifact(42, [f1()]), /^exportArtifact: expected a function, a jitted function or a module, got number/)],
  // ---- training -------------------------------------------------------------------------------------
  Trainer: [c(() => new K.Trainer(model(), { loss: 3 } as never), /^Trainer: options.loss must be a function/), c(() => new K.Trainer({} as never, { loss: K.mseLoss } as never), /^Trainer: expected an nn.Module, got \{\}/)],
  ProgressBar: [c(() => new K.ProgressBar({ total: -1 }), /^ProgressBar: total must be a non-negative integer, got -1/)],
  earlyStopping: [c(() => K.earlyStopping({ patience: -2 }), /^earlyStopping: patience must be a non-negative integer, got -2/), c(() => K.earlyStopping({ monitor: 'acc' as never }), /^earlyStopping: monitor must be one of .*got 'acc'/)],
  checkpoint: [c(() => K.checkpoint(undefined as never), /^checkpoint: save must be a function, got undefined/)],
  jsonlLogger: [c(() => K.jsonlLogger(5 as never), /^jsonlLogger: path must be a string, got 5/)],
  solve: [c(() => K.solve(model(), { maxIter: -1 } as never, {} as never), /^solver spec: the spec: field maxIter must be a positive integer, got -1/)],
  checkSolverSpec: [c(() => K.checkSolverSpec({ maxIter: 'x' }), /^solver spec: the spec: field maxIter must be a positive integer, got "x"/), c(() => K.checkSolverSpec(null), /^solver spec: the spec: must be an object/)],
  lrAt: [c(() => K.lrAt({ type: 'nope' } as never, 0.1, 0, 10), /^lrAt: unknown policy 'nope'/), c(() => K.lrAt(undefined, 0.1, -1, 10), /^lrAt: iter must be a non-negative integer, got -1/)],
  // ---- diagnostics ----------------------------------------------------------------------------------
  benchmark: [c(() => K.benchmark(undefined as never, []), /^benchmark: expected a function, got undefined/)],
  toDot: [c(() => K.toDot(undefined as never), /^toDot: expected an IR Function, got undefined/)],
  vizHtml: [c(() => K.vizHtml({} as never, {} as never), /^vizHtml: expected an IR Function, got \{\}/)],
  fusionViews: [c(() => K.fusionViews(undefined as never, []), /^fusionViews: expected a function, got undefined/)],
  profileKernels: [c(() => K.profileKernels((x: K.Tensor) => x, 'x' as never), /^profileKernels: args must be a list, got "x"/)],
  profileKernelsAsync: [c(() => K.profileKernelsAsync(undefined as never, []), /^profileKernelsAsync: expected a function, got undefined/)],
  reportHtml: [c(() => K.reportHtml([]), /^report: no runs to show/), c(() => K.reportHtml(undefined as never), /^report: expected a list of runs, got undefined/)],
  parseJsonl: [c(() => K.parseJsonl(undefined as never), /^parseJsonl: text must be a string, got undefined/)],
  setLog: [c(() => K.setLog({} as never), /^setLog: expected a string or a list of channels, got \{\}/)],
  setLogSink: [c(() => K.setLogSink(undefined as never), /^setLogSink: expected a function, got undefined/)],
  setDebugNans: [c(() => K.setDebugNans('loud' as never), /^setDebugNans: expected true, false or 'warn', got "loud"/)],
  // ---- namespaces (their members have their own tests) ----------------------------------------------
  nn: [c(() => new K.nn.Conv2d(3, 4, 3, { groups: 2 }), /^Conv2d: groups 2 must divide in \(3\) and out \(4\) channels/)],
  optim: [c(() => new K.optim.SGD([K.tensor([1])], { lr: -1 }), /^SGD: learning rate must be non-negative, got -1/)],
  data: [c(() => K.data.parseIdx(new Uint8Array([0, 0, 8, 1])), /^parseIdx: IDX data is truncated inside its header/)],
};
