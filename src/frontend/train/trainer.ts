// Trainer: a Keras-style fit / evaluate / predict loop over a Module, eager (backward + step) or
// with the whole training step (forward, grad, optimizer update) compiled by one jit.
import { KilnError } from '../../ir/error.js';
import { hostArray } from '../../ir/array.js';
import { Tensor } from '../tensor.js';
import { show } from '../args.js';
import { noGrad } from '../autograd/tape.js';
import { valueAndGrad } from '../autograd/functional.js';
import { jit } from '../jit/jit.js';
import { bind1 } from '../trace.js';
import { eq, astype } from '../ops/elementwise.js';
import { sumAxes } from '../ops/nn_internal.js';
import { Module, functionalCall, StateDict } from '../nn/module.js';
import { withRng } from '../nn/rng.js';
import { tidy } from '../memory.js';
import { flatten } from '../pytree.js';
import type { Optimizer, OptimizerState } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/schedulers.js';
import { ProgressBar } from './progress.js';
import type { Callback, History, EpochLogs } from './callbacks.js';

export interface TrainerOptions {
  optimizer: Optimizer<any>;
  /** loss(output, target) -> scalar tensor. */
  loss: (output: Tensor, target: Tensor) => Tensor;
  /** Compile the training step with jit (default true). */
  jit?: boolean;
  /** Also count correct argmax predictions (classification). Default true. */
  accuracy?: boolean;
  /** Learning-rate schedule stepped once per epoch (or per batch with schedulePer: 'batch'). */
  scheduler?: LRScheduler;
  schedulePer?: 'epoch' | 'batch';
  /** Seed of the per-step randomness keys (dropout). */
  seed?: number;
}

export interface FitOptions {
  epochs?: number;
  validation?: Iterable<Tensor[]> | AsyncIterable<Tensor[]>;
  callbacks?: Callback[];
  /** Progress output: true (default) prints a bar per epoch. */
  verbose?: boolean;
  stream?: { write(s: string): unknown; isTTY?: boolean };
}

export interface StepResult {
  loss: number;
  correct: number;
  count: number;
}

/** A batch as a DataLoader over a TensorDataset yields it: [inputs, targets]. */
type Batch = Tensor[];

function scalarTensor(v: number, dtype: 'float32' | 'int32', device: string): Tensor {
  return Tensor._fromHost(hostArray(dtype, [], [v]), device);
}

/** Number of rows whose argmax over axis 1 equals the integer target. */
function countCorrect(output: Tensor, target: Tensor): Tensor {
  if (output.ndim !== 2) return scalarTensor(0, 'int32', output.device);
  const pred = bind1('argmax', [output], { axis: 1 });
  return sumAxes('accuracy', astype(eq(pred, astype(target, 'int32')), 'int32'));
}

/** Disposes the tensors of `previous` that do not reappear in `next`. */
function disposeReplaced(previous: unknown, next: unknown): void {
  const keep = new Set(flatten(next).leaves);
  for (const t of flatten(previous).leaves) if (!keep.has(t)) t.dispose();
}

export class Trainer {
  readonly history: History = { epochs: [] };
  private optState: OptimizerState | null = null;
  private compiled: ((...args: any[]) => any) | null = null;
  private stepCount = 0;
  stopTraining = false;

  constructor(readonly model: Module, readonly options: TrainerOptions) {
    if (!(model instanceof Module)) throw new KilnError(`Trainer: expected an nn.Module, got ${show(model)}`);
    if (options === null || typeof options !== 'object') throw new KilnError(`Trainer: expected options {loss, optimizer, ...}, got ${show(options)}`);
    if (typeof options.loss !== 'function') throw new KilnError('Trainer: options.loss must be a function (output, target) => scalar tensor');
  }

  private get accuracy(): boolean {
    return this.options.accuracy ?? true;
  }

  /** The pure training step that jit compiles: parameters, buffers and optimizer state in, new ones out. */
  private stepFunction() {
    const { model } = this;
    const opt = this.options.optimizer;
    const lossFn = this.options.loss;
    const accuracy = this.accuracy;
    return (params: StateDict, buffers: StateDict, optState: OptimizerState, x: Tensor, y: Tensor, lr: Tensor, key: Tensor) => {
      const objective = (p: StateDict) => {
        const { output, buffers: nb } = withRng(key, () => functionalCall<Tensor>(model, { ...p, ...buffers }, x));
        return [lossFn(output, y), { output, buffers: nb }] as const;
      };
      const [[loss, aux], grads] = valueAndGrad(objective, { hasAux: true })(params) as unknown as [[Tensor, { output: Tensor; buffers: StateDict }], StateDict];
      const updated = opt.update(params, grads, optState, { lr });
      const correct = accuracy ? countCorrect(aux.output, y) : scalarTensor(0, 'int32', loss.device);
      return { loss, correct, params: updated.params, buffers: aux.buffers, optState: updated.state };
    };
  }

  /** One optimization step on a batch; returns the loss and correct count read back to JS numbers. */
  trainStep(x: Tensor, y: Tensor): StepResult {
    this.model.train();
    const opt = this.options.optimizer;
    this.stepCount++;
    const key = Tensor._fromHost(hostArray('int32', [2], [this.options.seed ?? 0, this.stepCount]), x.device);
    let loss: Tensor;
    let correct: Tensor;
    if (this.options.jit ?? true) {
      const params = Object.fromEntries(this.model.namedParameters());
      const buffers = Object.fromEntries(this.model.namedBuffers());
      this.optState ??= opt.init(params);
      this.compiled ??= jit(this.stepFunction(), { name: 'trainStep' }); // named in KILN_LOG=jit lines and errors
      // noGrad: the step computes its own gradients; parameters requiring grad must not make jit
      // replay the step eagerly to record a tape for an outer backward() that never comes.
      const compiled = this.compiled;
      const lr = scalarTensor(opt.lr, 'float32', x.device);
      const out = noGrad(() => compiled(params, buffers, this.optState!, x, y, lr, key));
      lr.dispose();
      key.dispose();
      for (const [name, p] of Object.entries(params)) p._assign(out.params[name]);
      // The step returned fresh buffers and optimizer state: free the previous ones now rather
      // than waiting for the garbage collector (device memory is invisible to it).
      disposeReplaced(this.model._swapTensors(out.buffers), out.buffers);
      disposeReplaced(this.optState, out.optState);
      this.optState = out.optState;
      loss = out.loss;
      correct = out.correct;
    } else {
      // The eager step frees its activations and temporaries when it ends (tidy) instead of leaving
      // them to finalizers, which a synchronous loop of steps never lets run. Kept: gradients and
      // optimizer slots (keep()), and whatever the model holds afterwards (returned from the scope).
      const before = [...this.model.namedBuffers()].map(([, t]) => t);
      const grads = opt.params.map((p) => p.grad);
      const r = tidy(() => {
        opt.zeroGrad();
        const output = withRng(key, () => this.model.call(x) as Tensor);
        const l = this.options.loss(output, y);
        l.backward();
        opt.step();
        const c = noGrad(() => (this.accuracy ? countCorrect(output, y) : scalarTensor(0, 'int32', x.device)));
        return { loss: Number(l.item()), correct: Number(c.item()), held: [...this.model.namedParameters(), ...this.model.namedBuffers()].map(([, t]) => t) };
      });
      key.dispose();
      // As on the jitted path: the buffers the step replaced (BatchNorm's running statistics) and the
      // previous step's gradients belong to the trainer's model and are freed now.
      disposeReplaced(before, r.held);
      disposeReplaced(grads, opt.params.map((p) => p.grad));
      if (this.options.scheduler && this.options.schedulePer === 'batch') this.options.scheduler.step();
      return { loss: r.loss, correct: r.correct, count: x.shape[0] };
    }
    if (this.options.scheduler && this.options.schedulePer === 'batch') this.options.scheduler.step();
    const result = { loss: Number(loss.item()), correct: Number(correct.item()), count: x.shape[0] };
    // Read back: free them now, so a synchronous loop of jitted steps makes no garbage at all.
    loss.dispose();
    correct.dispose();
    return result;
  }

  /** Mean loss and accuracy over a loader, in eval mode without gradients. */
  async evaluate(loader: Iterable<Batch> | AsyncIterable<Batch>): Promise<{ loss: number; accuracy: number; count: number }> {
    this.model.eval();
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for await (const [x, y] of loader as AsyncIterable<Batch>) {
      noGrad(() => {
        const out = this.model.call(x) as Tensor;
        lossSum += Number(this.options.loss(out, y).item()) * x.shape[0];
        if (this.accuracy) correct += Number(countCorrect(out, y).item());
      });
      count += x.shape[0];
      x.dispose();
      y.dispose();
    }
    this.model.train();
    return { loss: lossSum / Math.max(1, count), accuracy: correct / Math.max(1, count), count };
  }

  /** The model's output on x in eval mode. */
  predict(x: Tensor): Tensor {
    this.model.eval();
    try {
      return noGrad(() => this.model.call(x) as Tensor);
    } finally {
      this.model.train();
    }
  }

  /** Trains for `epochs`, printing a progress bar and returning the history (one entry per epoch). */
  async fit(loader: Iterable<Batch> & { length?: number } | AsyncIterable<Batch> & { length?: number }, options: FitOptions = {}): Promise<History> {
    const { epochs = 1, validation, callbacks = [], verbose = true } = options;
    for (const cb of callbacks) cb.onTrainBegin?.(this);
    for (let epoch = 0; epoch < epochs && !this.stopTraining; epoch++) {
      const total = loader.length ?? 0;
      const unitsPerStep = (loader as { batchSize?: number }).batchSize ?? 1;
      const bar = verbose ? new ProgressBar({ total, label: `epoch ${epoch + 1}/${epochs}`, stream: options.stream, unitsPerStep }) : null;
      let lossSum = 0;
      let correct = 0;
      let count = 0;
      let steps = 0;
      const t0 = performance.now();
      for await (const [x, y] of loader as AsyncIterable<Batch>) {
        const r = this.trainStep(x, y);
        x.dispose();
        y.dispose();
        lossSum += r.loss * r.count;
        correct += r.correct;
        count += r.count;
        steps++;
        bar?.update(steps, this.accuracy ? { loss: lossSum / count, acc: correct / count } : { loss: lossSum / count });
        for (const cb of callbacks) cb.onBatchEnd?.(this, steps, r);
      }
      const seconds = (performance.now() - t0) / 1000;
      const logs: EpochLogs = { epoch: epoch + 1, loss: lossSum / Math.max(1, count), seconds, samplesPerSecond: count / Math.max(seconds, 1e-9), lr: this.options.optimizer.lr };
      if (this.accuracy) logs.accuracy = correct / Math.max(1, count);
      if (validation) {
        const v = await this.evaluate(validation);
        logs.valLoss = v.loss;
        if (this.accuracy) logs.valAccuracy = v.accuracy;
      }
      bar?.finish();
      if (verbose) {
        const w = options.stream ?? process.stdout;
        const fmt = (k: string, v: number | undefined) => (v === undefined ? '' : `  ${k} ${v.toFixed(4)}`);
        w.write(`epoch ${logs.epoch}:${fmt('loss', logs.loss)}${fmt('acc', logs.accuracy)}${fmt('val_loss', logs.valLoss)}${fmt('val_acc', logs.valAccuracy)}  ${logs.samplesPerSecond.toFixed(0)} samples/s\n`);
      }
      this.history.epochs.push(logs);
      if (this.options.scheduler && (this.options.schedulePer ?? 'epoch') === 'epoch') this.options.scheduler.step();
      for (const cb of callbacks) await cb.onEpochEnd?.(this, logs);
    }
    for (const cb of callbacks) await cb.onTrainEnd?.(this);
    return this.history;
  }
}
