// Declarative training (Caffe's solver.prototxt, in JSON): optimizer, learning-rate policy, iteration
// count, batch size, test and snapshot intervals. `solve` runs it with the Trainer's (jitted) step.
import { KilnError } from '../../ir/error.js';
import { numberArg, show } from '../args.js';
import type { Tensor } from '../tensor.js';
import type { Module } from '../nn/module.js';
import { SpecNet } from '../nn/spec.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '../optim/optimizer.js';
import { crossEntropy, mseLoss } from '../ops/losses.js';
import { reshape } from '../ops/shape.js';
import type { Dataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { Trainer } from './trainer.js';
import { ProgressBar } from './progress.js';

export interface OptimizerSpec {
  type: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad';
  lr: number;
  [hyper: string]: unknown;
}

export type LrPolicy =
  | { type: 'fixed' }
  | { type: 'step'; stepSize: number; gamma: number }
  | { type: 'multistep'; steps: number[]; gamma: number }
  | { type: 'exp'; gamma: number }
  | { type: 'inv'; gamma: number; power: number }
  | { type: 'poly'; power: number }
  | { type: 'cosine'; minLr?: number };

export interface SolverSpec {
  optimizer: OptimizerSpec;
  lrPolicy?: LrPolicy;
  maxIter: number;
  batchSize: number;
  /** Evaluate on the test set every this many iterations (0: only at the end). */
  testInterval?: number;
  /** Test batches per evaluation (default: the whole test set). */
  testIter?: number;
  /** Save a checkpoint every this many iterations (0: only at the end). */
  snapshot?: number;
  snapshotPrefix?: string;
  /** Print progress every this many iterations. */
  display?: number;
  loss?: 'crossEntropy' | 'mse';
  seed?: number;
  /** Compile the training step (default true). */
  jit?: boolean;
}

type Field = [kind: 'posInt' | 'nat' | 'number' | 'bool' | 'string' | 'ints' | 'pair', required?: boolean];

// Allowed fields per optimizer: the constructors' own option names.
const OPTIMIZERS: Record<OptimizerSpec['type'], { make: (params: Tensor[], o: any) => Optimizer<any>; fields: Record<string, Field> }> = {
  SGD: { make: (p, o) => new SGD(p, o), fields: { momentum: ['number'], dampening: ['number'], nesterov: ['bool'], weightDecay: ['number'], maximize: ['bool'] } },
  Adam: { make: (p, o) => new Adam(p, o), fields: { betas: ['pair'], eps: ['number'], weightDecay: ['number'], amsgrad: ['bool'], maximize: ['bool'] } },
  AdamW: { make: (p, o) => new AdamW(p, o), fields: { betas: ['pair'], eps: ['number'], weightDecay: ['number'], amsgrad: ['bool'], maximize: ['bool'] } },
  RMSprop: { make: (p, o) => new RMSprop(p, o), fields: { alpha: ['number'], eps: ['number'], weightDecay: ['number'], momentum: ['number'], centered: ['bool'] } },
  Adagrad: { make: (p, o) => new Adagrad(p, o), fields: { lrDecay: ['number'], weightDecay: ['number'], eps: ['number'], initialAccumulatorValue: ['number'] } },
};

const POLICIES: Record<LrPolicy['type'], Record<string, Field>> = {
  fixed: {},
  step: { stepSize: ['posInt', true], gamma: ['number', true] },
  multistep: { steps: ['ints', true], gamma: ['number', true] },
  exp: { gamma: ['number', true] },
  inv: { gamma: ['number', true], power: ['number', true] },
  poly: { power: ['number', true] },
  cosine: { minLr: ['number'] },
};

const SOLVER_FIELDS: Record<string, Field> = {
  maxIter: ['posInt', true], batchSize: ['posInt', true], testInterval: ['nat'], testIter: ['posInt'], snapshot: ['nat'], snapshotPrefix: ['string'],
  display: ['posInt'], seed: ['nat'], jit: ['bool'],
};

const OK: Record<Field[0], [(v: unknown) => boolean, string]> = {
  posInt: [(v) => Number.isSafeInteger(v) && (v as number) >= 1, 'a positive integer'],
  nat: [(v) => Number.isSafeInteger(v) && (v as number) >= 0, 'a non-negative integer'],
  number: [(v) => typeof v === 'number' && Number.isFinite(v), 'a finite number'],
  bool: [(v) => typeof v === 'boolean', 'true or false'],
  string: [(v) => typeof v === 'string' && v !== '', 'a non-empty string'],
  ints: [(v) => Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0), 'an array of non-negative integers'],
  pair: [(v) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number'), 'a pair of numbers'],
};

function bad(where: string, msg: string): never {
  throw new KilnError(`solver spec: ${where}: ${msg}`);
}

function checkFields(where: string, x: Record<string, unknown>, fields: Record<string, Field>, extra: string[] = []): void {
  for (const k of Object.keys(x)) if (!Object.hasOwn(fields, k) && !extra.includes(k)) bad(where, `unknown field ${JSON.stringify(k)} (fields: ${[...extra, ...Object.keys(fields)].join(', ')})`);
  for (const [k, [kind, required]] of Object.entries(fields)) {
    if (x[k] === undefined) {
      if (required) bad(where, `field ${k} is required`);
      continue;
    }
    if (!OK[kind][0](x[k])) bad(where, `field ${k} must be ${OK[kind][1]}, got ${JSON.stringify(x[k])}`);
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Validates a solver spec; errors name the field. */
export function checkSolverSpec(x: unknown): SolverSpec {
  if (!isObj(x)) bad('the spec', 'must be an object');
  checkFields('the spec', x, SOLVER_FIELDS, ['optimizer', 'lrPolicy', 'loss']);
  if (!isObj(x.optimizer)) bad('optimizer', 'must be {type, lr, ...}');
  const type = x.optimizer.type;
  if (typeof type !== 'string' || !Object.hasOwn(OPTIMIZERS, type)) bad('optimizer', `type must be one of ${Object.keys(OPTIMIZERS).join(', ')}, got ${JSON.stringify(type)}`);
  checkFields(`optimizer (${type})`, x.optimizer, { ...OPTIMIZERS[type as OptimizerSpec['type']].fields, lr: ['number', true] }, ['type']);
  if (!((x.optimizer.lr as number) > 0)) bad(`optimizer (${type})`, 'field lr must be positive');
  if (x.lrPolicy !== undefined) {
    if (!isObj(x.lrPolicy) || typeof x.lrPolicy.type !== 'string' || !Object.hasOwn(POLICIES, x.lrPolicy.type)) {
      bad('lrPolicy', `type must be one of ${Object.keys(POLICIES).join(', ')}, got ${JSON.stringify(isObj(x.lrPolicy) ? x.lrPolicy.type : x.lrPolicy)}`);
    }
    checkFields(`lrPolicy (${x.lrPolicy.type})`, x.lrPolicy, POLICIES[x.lrPolicy.type as LrPolicy['type']], ['type']);
  }
  if (x.loss !== undefined && x.loss !== 'crossEntropy' && x.loss !== 'mse') bad('the spec', `field loss must be "crossEntropy" or "mse", got ${JSON.stringify(x.loss)}`);
  return x as unknown as SolverSpec;
}

/** The learning rate at iteration `iter` (0-based), Caffe's formulas plus cosine. */
export function lrAt(policy: LrPolicy | undefined, base: number, iter: number, maxIter: number): number {
  const p = policy ?? { type: 'fixed' };
  numberArg('lrAt', 'base', base, { min: 0 });
  numberArg('lrAt', 'iter', iter, { integer: true, min: 0 });
  numberArg('lrAt', 'maxIter', maxIter, { integer: true, positive: true });
  switch (p.type) {
    case 'fixed': return base;
    case 'step': return base * Math.pow(p.gamma, Math.floor(iter / p.stepSize));
    case 'multistep': return base * Math.pow(p.gamma, p.steps.filter((s) => iter >= s).length);
    case 'exp': return base * Math.pow(p.gamma, iter);
    case 'inv': return base * Math.pow(1 + p.gamma * iter, -p.power);
    case 'poly': return base * Math.pow(Math.max(0, 1 - iter / maxIter), p.power);
    case 'cosine': {
      const min = p.minLr ?? 0;
      return min + ((base - min) * (1 + Math.cos((Math.PI * Math.min(iter, maxIter)) / maxIter))) / 2;
    }
    default:
      throw new KilnError(`lrAt: unknown policy ${show((p as { type?: unknown }).type).replace(/"/g, "'")} (fixed, step, multistep, exp, inv, poly or cosine)`);
  }
}

export interface SolveOptions {
  train: Dataset<Tensor[]>;
  test?: Dataset<Tensor[]>;
  /** Where progress goes (default stdout). */
  stream?: { write(s: string): unknown; isTTY?: boolean };
  /** Called at each snapshot interval and at the end. */
  onSnapshot?: (iter: number, model: Module, optimizer: Optimizer<any>) => Promise<void> | void;
  /** Start after this many iterations (resuming from a checkpoint). */
  startIter?: number;
  optimizer?: Optimizer<any>;
}

export interface SolveResult {
  iterations: number;
  loss: number;
  test?: { loss: number; accuracy: number; count: number };
}

export function makeOptimizer(model: Module, spec: OptimizerSpec): Optimizer<any> {
  const { type, ...hyper } = spec;
  return OPTIMIZERS[type].make(model.parameters(), hyper);
}

/** Runs a solver spec on a model: maxIter steps over shuffled batches, tests and snapshots on schedule. */
export async function solve(model: Module, solverSpec: SolverSpec, opts: SolveOptions): Promise<SolveResult> {
  const s = checkSolverSpec(solverSpec);
  const optimizer = opts.optimizer ?? makeOptimizer(model, s.optimizer);
  const lossFn = s.loss === 'mse' ? (o: Tensor, y: Tensor) => mseLoss(o, y) : (o: Tensor, y: Tensor) => crossEntropy(o, y);
  const trainer = new Trainer(model, { optimizer, loss: lossFn, jit: s.jit ?? true, accuracy: s.loss !== 'mse', seed: s.seed ?? 0 });
  // The network's input shape, when it declares one (SpecNet): data samples of the same size are reshaped.
  const inputShape = model instanceof SpecNet ? model.toSpec().inputs[0].shape : undefined;
  const fit = (x: Tensor) => {
    if (!inputShape) return x;
    const per = inputShape.reduce((a, b) => a * b, 1);
    if (x.size !== x.shape[0] * per) throw new KilnError(`solve: samples of shape [${x.shape.slice(1).join(',')}] do not fit the network input [${inputShape.join(',')}]`);
    return x.ndim === inputShape.length + 1 && x.shape.every((d, i) => i === 0 || d === inputShape[i - 1]) ? x : reshape(x, [x.shape[0], ...inputShape]);
  };
  const loader = new DataLoader(opts.train, { batchSize: s.batchSize, shuffle: true, seed: s.seed ?? 0, dropLast: opts.train.length >= s.batchSize });
  const testLoader = opts.test ? new DataLoader(opts.test, { batchSize: s.batchSize }) : undefined;
  const evaluate = async () => {
    if (!testLoader) return undefined;
    const limit = s.testIter ?? Infinity;
    async function* batches() {
      let k = 0;
      for (const [x, y] of testLoader!) {
        if (k++ >= limit) return;
        yield [fit(x), y] as [Tensor, Tensor];
      }
    }
    return trainer.evaluate(batches());
  };
  const bar = new ProgressBar({ total: s.maxIter, label: 'train', stream: opts.stream, unitsPerStep: s.batchSize, printEvery: s.display });
  let iter = opts.startIter ?? 0;
  let recent = 0;
  let recentN = 0;
  let lastLoss = NaN;
  let lastTest: SolveResult['test'];
  const write = (line: string) => (opts.stream ?? process.stdout).write(`${line}\n`);
  while (iter < s.maxIter) {
    let any = false;
    for (const [x, y] of loader as Iterable<Tensor[]>) {
      if (iter >= s.maxIter) break;
      any = true;
      optimizer.lr = lrAt(s.lrPolicy, s.optimizer.lr, iter, s.maxIter);
      const input = fit(x);
      const r = trainer.trainStep(input, y);
      // Batches are ours: free them now rather than when the GC notices (device memory is not JS heap).
      for (const t of new Set([x, input, y])) t.dispose();
      iter++;
      lastLoss = r.loss;
      recent += r.loss;
      recentN++;
      bar.update(iter, { loss: recent / recentN, lr: optimizer.lr });
      if (s.display && iter % s.display === 0) {
        recent = 0;
        recentN = 0;
      }
      if (s.testInterval && iter % s.testInterval === 0 && iter < s.maxIter) {
        lastTest = await evaluate();
        if (lastTest) write(`iteration ${iter}: test loss ${lastTest.loss.toFixed(4)}, accuracy ${lastTest.accuracy.toFixed(4)} (${lastTest.count} samples)`);
      }
      if (s.snapshot && iter % s.snapshot === 0 && iter < s.maxIter) await opts.onSnapshot?.(iter, model, optimizer);
    }
    if (!any) throw new KilnError('solve: the training set yields no batches');
  }
  bar.finish();
  lastTest = (await evaluate()) ?? lastTest;
  if (lastTest) write(`final: test loss ${lastTest.loss.toFixed(4)}, accuracy ${lastTest.accuracy.toFixed(4)} (${lastTest.count} samples)`);
  await opts.onSnapshot?.(iter, model, optimizer);
  return { iterations: iter, loss: lastLoss, ...(lastTest ? { test: lastTest } : {}) };
}
