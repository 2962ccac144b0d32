// Bad-input cases for the tensor ops of the public API (elementwise, reductions, shape, indexing,
// contractions, nn functions, convolutions, losses, creation, random): each call is wrong in one way
// and must throw a KilnError whose message names the op and the offending value.
import * as K from '../../src/index.js';
import type { Case } from './bad_input_table.js';

const f2 = () => K.tensor([[1, 2], [3, 4]]);
const f1 = () => K.tensor([1, 2, 3]);
const i1 = () => K.tensor([0, 1], { dtype: 'int32' });
const b1 = () => K.tensor([true, false]);
const nan = () => K.tensor([1, NaN, 3]);
const key = () => K.randomKey(1);
const c = (call: () => unknown, msg: RegExp): Case => ({ call, msg });

/** Unary ops: no tensor, and an object that is not a tensor. */
const unary = (name: keyof typeof K): Case[] => {
  const prefix = name === 'bitwiseNot' ? 'bitwiseNot: not' : name;
  return [
    c(() => (K[name] as (x: unknown) => unknown)(undefined), new RegExp(`^${prefix}: expected a tensor, got undefined`)),
    c(() => (K[name] as (x: unknown) => unknown)({ shape: [2] }), new RegExp(`^${prefix}: expected a tensor, got \\{"shape":\\[2\\]\\}`)),
  ];
};
/** Binary ops: shapes that do not broadcast, and a missing operand. */
const binary = (name: keyof typeof K, prim: string): Case[] => [
  c(() => (K[name] as (a: unknown, b: unknown) => unknown)(f2(), f1()), new RegExp(`^${prim}: .*\\[2,2\\].*\\[3\\]`)),
  c(() => (K[name] as (a: unknown, b: unknown) => unknown)(f2(), undefined), new RegExp(`^${prim}: expected a tensor, got undefined`)),
];

export const OPS_CASES: Record<string, Case[]> = {
  // ---- elementwise --------------------------------------------------------------------------------
  abs: unary('abs'), neg: unary('neg'), exp: unary('exp'), log: unary('log'), sqrt: unary('sqrt'), rsqrt: unary('rsqrt'),
  sin: unary('sin'), cos: unary('cos'), tanh: unary('tanh'), sigmoid: unary('sigmoid'), relu: unary('relu'), floor: unary('floor'),
  ceil: unary('ceil'), round: unary('round'), sign: unary('sign'), isnan: unary('isnan'), log1p: unary('log1p'), expm1: unary('expm1'),
  erf: unary('erf'), bitwiseNot: [c(() => K.bitwiseNot(f1()), /^bitwiseNot: not: expects a bool or int32 operand, got f32\[3\]/), ...unary('bitwiseNot')],
  square: [c(() => K.square(undefined as never), /^square: mul: expected a tensor, got undefined/)],
  logicalNot: [c(() => K.logicalNot(undefined as never), /^logicalNot: expected a tensor, got undefined/)],
  add: binary('add', 'add'), sub: binary('sub', 'sub'), mul: binary('mul', 'mul'), div: binary('div', 'div'), pow: binary('pow', 'pow'),
  maximum: binary('maximum', 'max'), minimum: binary('minimum', 'min'), mod: binary('mod', 'mod'), atan2: binary('atan2', 'atan2'),
  eq: binary('eq', 'eq'), ne: binary('ne', 'ne'), lt: binary('lt', 'lt'), le: binary('le', 'le'), gt: binary('gt', 'gt'), ge: binary('ge', 'ge'),
  floorDiv: [c(() => K.floorDiv(f2(), f1()), /^floorDiv: .*\[2,2\].*\[3\]/)],
  logicalAnd: [c(() => K.logicalAnd(f2(), f1()), /^logicalAnd: .*\[2,2\].*\[3\]/)],
  logicalOr: [c(() => K.logicalOr(f2(), f1()), /^logicalOr: .*\[2,2\].*\[3\]/)],
  logicalXor: [c(() => K.logicalXor(f2(), f1()), /^logicalXor: .*\[2,2\].*\[3\]/)],
  where: [
    c(() => K.where(b1(), f2(), f1()), /^where: .*\[2\].*\[2,2\].*\[3\]/),
    c(() => K.where(undefined as never, f1(), f1()), /^where: expected a tensor, got undefined/),
  ],
  unary: [c(() => K.unary('nope' as never, f1()), /^unary: unknown unary op 'nope'/)],
  binary: [c(() => K.binary('nope' as never, f1(), f1()), /^binary: unknown binary op 'nope'/)],
  astype: [
    c(() => K.astype(f1(), 'float16' as never), /^astype: unknown dtype 'float16'/),
    c(() => K.astype(nan(), 'int32'), /^astype: cannot cast NaN to int32 \(element 1 of f32\[3\]\); pass \{mode: 'clamp'\} to saturate/),
    c(() => K.astype(K.tensor([1, 3e10]), 'int32'), /^astype: 30000001024 is out of the int32 range \(element 1 of f32\[2\]\); pass \{mode: 'clamp'\}/),
    c(() => K.astype(f1(), 'int32', { mode: 'wrap' as never }), /^astype: mode must be 'check' or 'clamp', got 'wrap'/),
  ],
  broadcastTo: [
    c(() => K.broadcastTo(f1(), [2, 2]), /^broadcastTo: shapes \[3\] and \[2,2\] cannot be broadcast together/),
    c(() => K.broadcastTo(f1(), 'abc' as never), /^broadcastTo: shape must be a list of non-negative integers, got "abc"/),
    c(() => K.broadcastTo(f1(), [2, -3]), /^broadcastTo: shape must be a list of non-negative integers, got \[2,-3\]/),
  ],
  // ---- reductions ---------------------------------------------------------------------------------
  sum: [c(() => K.sum(f2(), { axis: 2 }), /^sum: axis 2 is out of range for a tensor of rank 2 \(f32\[2,2\]\)/), c(() => K.sum(f2(), { axis: 'x' as never }), /^sum: axis must be an integer or a list of integers, got "x"/)],
  prod: [c(() => K.prod(f2(), { axis: -3 }), /^prod: axis -3 is out of range/)],
  max: [c(() => K.max(K.zeros([2, 0]), { axis: 1 }), /^max: cannot reduce an empty axis of f32\[2,0\]/)],
  min: [c(() => K.min(f2(), { axis: [0, 0] }), /^min: axis 0 is repeated/)],
  all: [c(() => K.all(f2(), { axis: 5 }), /^all: axis 5 is out of range/)],
  any: [c(() => K.any(f2(), { axis: 1.5 }), /^any: axis 1.5 is out of range/)],
  mean: [c(() => K.mean(f2(), { axis: 9 }), /^mean: axis 9 is out of range/)],
  variance: [c(() => K.variance(f2(), { axis: 9 }), /^var: axis 9 is out of range/)],
  var_: [c(() => K.var_(f2(), { correction: -1 }), /^var: correction must be a non-negative number, got -1/)],
  std: [c(() => K.std(f2(), { axis: { a: 1 } as never }), /^std: axis must be an integer or a list of integers, got \{"a":1\}/)],
  argmax: [c(() => K.argmax(f2(), { axis: 3 }), /^argmax: axis 3 is out of range/)],
  argmin: [c(() => K.argmin(K.zeros([0])), /^argmin: cannot take argmin of an empty tensor \(f32\[0\]\)/)],
  logSumExp: [c(() => K.logSumExp(f2(), { axis: 2 }), /^logSumExp: axis 2 is out of range/)],
  cumsum: [c(() => K.cumsum(f2(), { axis: 2 }), /^cumsum: axis 2 is out of range/)],
  // ---- shape ----------------------------------------------------------------------------------------
  reshape: [
    c(() => K.reshape(f2(), [3]), /^reshape: cannot reshape f32\[2,2\] \(4 elements\) to \[3\]/),
    c(() => K.reshape(f2(), 'abc' as never), /^reshape: shape must be a list of integers, got "abc"/),
  ],
  flatten: [c(() => K.flatten(f2(), 1, 0), /^flatten: startDim 1 comes after endDim 0 for f32\[2,2\]/)],
  squeeze: [c(() => K.squeeze(f2(), 0), /^squeeze: dimension 0 of f32\[2,2\] has size 2, not 1/), c(() => K.squeeze(f2(), { a: 1 } as never), /^squeeze: axis must be an integer or a list of integers/)],
  unsqueeze: [c(() => K.unsqueeze(f2(), 4), /^unsqueeze: axis 4 is out of range for a tensor of rank 3/)],
  expandDims: [c(() => K.expandDims(f2(), -5), /^unsqueeze: axis -5 is out of range/)],
  transpose: [c(() => K.transpose(f2(), [0, 0]), /^transpose: \[0,0\] is not a permutation of the 2 axes of f32\[2,2\]/), c(() => K.transpose(f2(), 'ab' as never), /^transpose: perm must be a list of integers, got "ab"/)],
  permute: [c(() => K.permute(f2(), [1]), /^transpose: \[1\] is not a permutation/)],
  swapaxes: [c(() => K.swapaxes(f2(), 0, 2), /^swapaxes: axis 2 is out of range/)],
  expand: [c(() => K.expand(f2(), [2]), /^expand: target \[2\] has fewer dimensions than f32\[2,2\]/), c(() => K.expand(f2(), { a: 1 } as never), /^expand: shape must be a list of integers/)],
  concat: [
    c(() => K.concat([f2(), f1()]), /^concat: shapes must agree except on axis 0: f32\[2,2\], f32\[3\]/),
    c(() => K.concat(f2() as never), /^concat: expects a list of tensors, got f32\[2,2\]/),
    c(() => K.concat([]), /^concat: needs at least one tensor/),
  ],
  cat: [c(() => K.cat(undefined as never), /^concat: expects a list of tensors, got undefined/)],
  stack: [c(() => K.stack([f2(), f1()]), /^stack: all tensors must have one shape: f32\[2,2\], f32\[3\]/), c(() => K.stack('ab' as never), /^stack: expects a list of tensors, got "ab"/)],
  split: [c(() => K.split(f1(), 2), /^split: cannot split dimension 0 of size 3 of f32\[3\] into 2 equal parts/), c(() => K.split(f1(), { a: 1 } as never), /^split: sizesOrCount must be a list of integers, got \{"a":1\}/)],
  chunk: [c(() => K.chunk(f1(), 0), /^chunk: chunks must be a positive integer, got 0/)],
  pad: [c(() => K.pad(f2(), [[1, 1]]), /^pad: expects 2 \[before, after\] integer pairs for f32\[2,2\]/), c(() => K.pad(f2(), [[0, 0], [-2, -1]]), /^pad: cropping 3 from dimension 1 of f32\[2,2\] leaves a negative size/)],
  flip: [c(() => K.flip(f2(), 2), /^flip: axis 2 is out of range/), c(() => K.flip(f2(), { a: 1 } as never), /^flip: axis must be an integer or a list of integers/)],
  tile: [c(() => K.tile(f2(), [-1]), /^tile: reps must be non-negative integers, got \[-1\]/), c(() => K.tile(f2(), 3 as never), /^tile: reps must be a list of integers, got 3/)],
  clip: [c(() => K.clip(f2(), f1()), /^max: .*\[2,2\].*\[3\]/)],
  clamp: [c(() => K.clamp(undefined as never, 0, 1), /^clip: expected a tensor, got undefined/)],
  // ---- indexing -------------------------------------------------------------------------------------
  slice: [c(() => K.slice(f2(), [0, 0, 0]), /^slice: 3 starts for f32\[2,2\]/), c(() => K.slice(f2(), [0], [1], [0]), /^slice: step must be a non-zero integer, got 0/), c(() => K.slice(f2(), 'a' as never), /^slice: starts must be a list of integers, got "a"/)],
  index: [c(() => K.index(f2(), 5), /^index: index 5 is out of range for axis 0 of size 2 \(f32\[2,2\]\)/), c(() => K.index(f2(), '...', '...'), /^index: at most one '...' is allowed/)],
  take: [
    c(() => K.take(f1(), K.tensor([0, 3], { dtype: 'int32' })), /^take: .*index 3 is out of range.*size 3/),
    c(() => K.take(f1(), b1()), /^take: indices must be integers, got bool\[2\]/),
    c(() => K.take(f1(), i1(), { mode: 'bogus' as never }), /^take: mode must be 'raise' or 'clamp', got 'bogus'/),
  ],
  takeAlongAxis: [c(() => K.takeAlongAxis(f2(), K.tensor([[0], [2]], { dtype: 'int32' }), { axis: 1 }), /^takeAlongAxis: index 2 is out of range for axis 1 of size 2 \(f32\[2,2\]\)/)],
  gather: [c(() => K.gather(f2(), i1()), /^takeAlongAxis: indices i32\[2\] must have the rank of f32\[2,2\]/)],
  scatterAdd: [c(() => K.scatterAdd(f1(), K.tensor([5], { dtype: 'int32' }), K.tensor([1])), /^scatterAdd: .*index 5 is out of range/)],
  oneHot: [c(() => K.oneHot(i1(), 0), /^oneHot: numClasses must be a positive integer, got 0/), c(() => K.oneHot(K.tensor([0.5]), 3), /^oneHot: indices must be int32, got f32\[1\]/)],
  // ---- contractions --------------------------------------------------------------------------------
  matmul: [c(() => K.matmul(K.zeros([3, 4]), K.zeros([5, 6])), /^matmul: f32\[3,4\] @ f32\[5,6\]: inner dimensions 4 and 5 differ/), c(() => K.matmul(b1(), b1()), /^matmul: .*bool/)],
  dot: [c(() => K.dot(f1(), K.tensor([1, 2])), /^dot: .*f32\[3\].*f32\[2\]/)],
  inner: [c(() => K.inner(f1(), K.tensor([1, 2])), /^inner: .*f32\[3\].*f32\[2\]/)],
  outer: [c(() => K.outer(undefined as never, f1()), /^outer: expected a tensor, got undefined/), c(() => K.outer(K.tensor([true]), K.tensor([false])), /^outer: bool\[1\], bool\[1\]: expects numeric operands, got bool/)],
  tensordot: [c(() => K.tensordot(f2(), f1(), { axes: 1 }), /^tensordot: .*f32\[2,2\].*f32\[3\]/)],
  einsum: [c(() => K.einsum('ij,jk->ik', f2(), f1()), /^einsum: .*/), c(() => K.einsum('ij->i'), /^einsum: 'ij->i': needs at least one operand/)],
  // ---- nn functional -------------------------------------------------------------------------------
  softmax: [c(() => K.softmax(f2(), { axis: 2 }), /^softmax: axis 2 is out of range/)],
  logSoftmax: [c(() => K.logSoftmax(f2(), { axis: -3 }), /^logSoftmax: axis -3 is out of range/)],
  gelu: [c(() => K.gelu(f2(), { approximate: 'fast' as never }), /^gelu: approximate must be 'none' or 'tanh', got 'fast'/)],
  silu: [c(() => K.silu(undefined as never), /^silu: expected a tensor, got undefined/)],
  leakyRelu: [c(() => K.leakyRelu(f2(), { negativeSlope: 'x' as never }), /^leakyRelu: negativeSlope must be a finite number, got "x"/)],
  elu: [c(() => K.elu(f2(), { alpha: NaN }), /^elu: alpha must be a finite number, got NaN/)],
  selu: [c(() => K.selu(undefined as never), /^selu: expected a tensor, got undefined/)],
  softplus: [c(() => K.softplus(f2(), { beta: 0 }), /^softplus: beta must be a positive number, got 0/)],
  logSigmoid: [c(() => K.logSigmoid(undefined as never), /^logSigmoid: expected a tensor, got undefined/)],
  mish: [c(() => K.mish(undefined as never), /^mish: expected a tensor, got undefined/)],
  hardtanh: [c(() => K.hardtanh(f2(), { minVal: 2, maxVal: 1 }), /^hardtanh: minVal 2 is larger than maxVal 1/)],
  relu6: [c(() => K.relu6(undefined as never), /^relu6: hardtanh: expected a tensor, got undefined/)],
  hardSigmoid: [c(() => K.hardSigmoid(undefined as never), /^hardSigmoid: expected a tensor, got undefined/)],
  hardSwish: [c(() => K.hardSwish(undefined as never), /^hardSwish: expected a tensor, got undefined/)],
  softsign: [c(() => K.softsign(undefined as never), /^softsign: expected a tensor, got undefined/)],
  linear: [c(() => K.linear(K.zeros([2, 3]), K.zeros([4, 5])), /^linear: .*f32\[2,3\].*f32\[4,5\]/)],
  dropout: [c(() => K.dropout(f2(), 1.5, { key: key() }), /^dropout: p must be in \[0, 1\], got 1.5/)],
  layerNorm: [c(() => K.layerNorm(f2(), [3]), /^layerNorm: normalizedShape \[3\] .*f32\[2,2\]/), c(() => K.layerNorm(f2(), { a: 1 } as never), /^layerNorm: normalizedShape must be a number or a list of integers/)],
  rmsNorm: [c(() => K.rmsNorm(f2(), [5]), /^rmsNorm: normalizedShape \[5\] .*f32\[2,2\]/)],
  batchNorm: [c(() => K.batchNorm(f1(), null, null), /^batchNorm: .*f32\[3\]/)],
  groupNorm: [c(() => K.groupNorm(K.zeros([2, 3, 4]), 2), /^groupNorm: numGroups 2 must divide the 3 channels of f32\[2,3,4\]/)],
  normalize: [c(() => K.normalize(f2(), { axis: 4 }), /^normalize: axis 4 is out of range/)],
  // ---- convolutions and pooling --------------------------------------------------------------------
  conv1d: [c(() => K.conv1d(K.zeros([1, 2, 5]), K.zeros([3, 4, 3])), /^conv1d: .*channels/)],
  conv2d: [c(() => K.conv2d(K.zeros([1, 2, 5]), K.zeros([3, 2, 3, 3])), /^conv2d: f32\[1,1,2,5\] \* f32\[3,2,3,3\]: weight expects 2 input channels \(2 x 1 groups\), input has 1/)],
  conv3d: [c(() => K.conv3d(K.zeros([1, 2, 4, 4, 4]), K.zeros([3, 2, 3, 3, 3]), { stride: 0 }), /^conv3d: stride must be/)],
  convTranspose1d: [c(() => K.convTranspose1d(K.zeros([1, 2, 5]), K.zeros([3, 4, 3])), /^convTranspose1d: .*channels/)],
  convTranspose2d: [c(() => K.convTranspose2d(K.zeros([1, 2, 5, 5]), K.zeros([2, 3, 3, 3]), { outputPadding: 5 }), /^convTranspose2d: .*outputPadding/)],
  maxPool1d: [c(() => K.maxPool1d(K.zeros([1, 2, 5]), 0), /^maxPool1d: kernel.*0/), c(() => K.maxPool1d(K.zeros([1, 2, 5]), { a: 1 } as never), /^maxPool1d: kernel must be an integer >= 1 or a list of 1 such integers, got \{"a":1\}/)],
  maxPool2d: [c(() => K.maxPool2d(K.zeros([2, 5]), 2), /^maxPool2d: .*f32\[2,5\]/)],
  avgPool1d: [c(() => K.avgPool1d(K.zeros([1, 2, 5]), 7), /^avgPool1d: .*7/)],
  avgPool2d: [c(() => K.avgPool2d(K.zeros([1, 2, 5, 5]), 2, { stride: -1 }), /^avgPool2d: stride must be/)],
  adaptiveAvgPool2d: [c(() => K.adaptiveAvgPool2d(K.zeros([1, 2, 5, 5]), 0), /^adaptiveAvgPool2d: .*0/)],
  adaptiveMaxPool2d: [c(() => K.adaptiveMaxPool2d(K.zeros([5, 5]), 2), /^adaptiveMaxPool2d: .*f32\[5,5\]/)],
  // ---- losses ---------------------------------------------------------------------------------------
  crossEntropy: [c(() => K.crossEntropy(f2(), K.tensor([0, 5], { dtype: 'int32' })), /^crossEntropy: target 5 is out of range for 2 classes \(element 1 of i32\[2\]; ignoreIndex is -100\)/), c(() => K.crossEntropy(f2(), i1(), { reduction: 'avg' as never }), /^crossEntropy: reduction must be 'mean', 'sum' or 'none', got 'avg'/)],
  nllLoss: [c(() => K.nllLoss(f2(), K.tensor([0, 1, 1], { dtype: 'int32' })), /^nllLoss: .*f32\[2,2\].*i32\[3\]/)],
  mseLoss: [c(() => K.mseLoss(f2(), f1()), /^mseLoss: sub: shapes \[2,2\] and \[3\] cannot be broadcast together/)],
  l1Loss: [c(() => K.l1Loss(f2(), f1()), /^l1Loss: sub: shapes \[2,2\] and \[3\] cannot be broadcast together/)],
  huberLoss: [c(() => K.huberLoss(f2(), f2(), { delta: -1 }), /^huberLoss: delta must be positive, got -1/)],
  smoothL1Loss: [c(() => K.smoothL1Loss(f2(), f2(), { beta: -1 }), /^smoothL1Loss: beta must be a non-negative number, got -1/)],
  binaryCrossEntropyWithLogits: [c(() => K.binaryCrossEntropyWithLogits(f2(), f1()), /^binaryCrossEntropyWithLogits: target f32\[3\] must have the input's shape f32\[2,2\]/)],
  binaryCrossEntropy: [c(() => K.binaryCrossEntropy(f2(), f1()), /^binaryCrossEntropy: target f32\[3\] must have the input's shape f32\[2,2\]/)],
  klDiv: [c(() => K.klDiv(f2(), f2(), { reduction: 'x' as never }), /^klDiv: reduction must be/)],
  // ---- creation and random -------------------------------------------------------------------------
  tensor: [c(() => K.tensor([[1, 2], [3]]), /^tensor: ragged nested array/), c(() => K.tensor([1], { dtype: 'f8' as never }), /^tensor: unknown dtype 'f8'/), c(() => K.tensor([1], { device: 'tpu' }), /device: unknown device 'tpu'/)],
  full: [c(() => K.full([2, -1], 0), /^full: shape must be a list of non-negative integers, got \[2,-1\]/), c(() => K.full([2], 'x' as never), /^full: value must be a number or a boolean, got "x"/)],
  zeros: [c(() => K.zeros('ab' as never), /^zeros: shape must be a list of non-negative integers, got "ab"/)],
  ones: [c(() => K.ones([1.5]), /^ones: shape must be a list of non-negative integers, got \[1.5\]/)],
  fullLike: [c(() => K.fullLike(undefined as never, 1), /^fullLike: expected a tensor, got undefined/)],
  zerosLike: [c(() => K.zerosLike([1, 2] as never), /^zerosLike: expected a tensor, got \[1,2\]/)],
  onesLike: [c(() => K.onesLike(undefined as never), /^onesLike: expected a tensor, got undefined/)],
  arange: [c(() => K.arange(0, 5, 0), /^arange: step must be a non-zero finite number, got 0/), c(() => K.arange(NaN), /^arange: start and stop must be finite numbers/)],
  linspace: [c(() => K.linspace(0, 1, -2), /^linspace: num must be a non-negative integer, got -2/)],
  eye: [c(() => K.eye(-1), /^eye: shape must be a list of non-negative integers, got \[-1,-1\]/)],
  randomKey: [c(() => K.randomKey(1.5), /^randomKey: seed must be an integer, got 1.5/)],
  splitKey: [c(() => K.splitKey(f1()), /^splitKey: a key must be an int32\[2\] tensor.*f32\[3\]/), c(() => K.splitKey(key(), 0), /^splitKey: n must be a positive integer, got 0/)],
  manualSeed: [c(() => K.manualSeed(NaN), /^manualSeed: seed must be an integer, got NaN/)],
  nextKey: [c(() => K.nextKey('tpu'), /device: unknown device 'tpu'/)],
  randomBits: [c(() => K.randomBits([-1]), /^randomBits: shape must be a list of non-negative integers, got \[-1\]/), c(() => K.randomBits(undefined as never), /^randomBits: shape must be a list of non-negative integers, got undefined/)],
  rand: [c(() => K.rand({} as never), /^rand: shape must be a list of non-negative integers, got \{\}/), c(() => K.rand([2], { key: f1() }), /^rand: a key must be an int32\[2\] tensor/)],
  randn: [c(() => K.randn(3 as never), /^randn: shape must be a list of non-negative integers, got 3/)],
  randint: [c(() => K.randint(5, 2, [3]), /^randint: .*5.*2/)],
  bernoulli: [c(() => K.bernoulli(2, [3]), /^bernoulli: p must be in \[0, 1\], got 2/)],
  permutation: [c(() => K.permutation(-3), /^permutation: n must be a non-negative integer, got -3/)],
};
