// Learning-rate schedules (PyTorch's lr_scheduler): each `step()` sets optimizer.lr for the next
// epoch or batch; `lrAt(t)` is the pure formula, usable to feed a tensor lr into a jitted step.
import { KilnError } from '../../ir/error.js';
import type { Optimizer } from './optimizer.js';

/** What `LRScheduler.stateDict()` returns (checkpoints keep it, so resuming continues the schedule). */
export interface SchedulerStateDict {
  /** The scheduler's class name. */
  readonly name: string;
  /** step() calls so far. */
  readonly t: number;
  /** The learning rate it had set, and the optimizer's initial lr the schedule is relative to. */
  readonly lr: number;
  readonly baseLr: number;
}

const close = (a: number, b: number) => a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));

export abstract class LRScheduler {
  /** Number of step() calls so far. */
  t = 0;
  // Subclasses call start() at the end of their constructors: their fields are not set during super().
  constructor(readonly optimizer: Optimizer<any>) {}
  protected start(): void {
    this.optimizer.lr = this.lrAt(0);
  }
  abstract lrAt(t: number): number;
  step(): void {
    this.t++;
    this.optimizer.lr = this.lrAt(this.t);
  }
  get lastLr(): number {
    return this.optimizer.lr;
  }

  stateDict(): SchedulerStateDict {
    return { name: this.constructor.name, t: this.t, lr: this.optimizer.lr, baseLr: this.optimizer.initialLr };
  }

  /**
   * Continues a saved schedule: the step count and the lr it had set. The schedule itself (class,
   * hyperparameters, the optimizer's initial lr) comes from the constructor and must be the same:
   * a different one is a KilnError rather than a silently different run.
   */
  loadStateDict(state: SchedulerStateDict): void {
    const name = this.constructor.name;
    if (typeof state !== 'object' || state === null) throw new KilnError(`${name}.loadStateDict: expected {name, t, lr, baseLr}, got ${String(state)}`);
    if (state.name !== name) throw new KilnError(`${name}.loadStateDict: the state is from ${String(state.name)}`);
    if (!Number.isSafeInteger(state.t) || state.t < 0) throw new KilnError(`${name}.loadStateDict: t ${String(state.t)} must be a non-negative integer`);
    if (typeof state.baseLr !== 'number' || !close(state.baseLr, this.optimizer.initialLr)) {
      throw new KilnError(`${name}.loadStateDict: the schedule was saved for an initial lr of ${String(state.baseLr)} but the optimizer's is ${this.optimizer.initialLr}`);
    }
    const lr = this.lrAt(state.t);
    if (typeof state.lr !== 'number' || !close(lr, state.lr)) {
      throw new KilnError(`${name}.loadStateDict: at step ${state.t} the saved schedule gave lr ${String(state.lr)}, this one gives ${lr} (different hyperparameters?)`);
    }
    this.t = state.t;
    this.optimizer.lr = state.lr;
  }
}

export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer<any>, readonly stepSize: number, readonly gamma = 0.1) {
    if (!(stepSize >= 1)) throw new KilnError(`StepLR: stepSize must be >= 1, got ${stepSize}`);
    super(optimizer);
    this.start();
  }
  lrAt(t: number): number {
    return this.optimizer.initialLr * Math.pow(this.gamma, Math.floor(t / this.stepSize));
  }
}

export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer<any>, readonly tMax: number, readonly etaMin = 0) {
    if (!(tMax >= 1)) throw new KilnError(`CosineAnnealingLR: tMax must be >= 1, got ${tMax}`);
    super(optimizer);
    this.start();
  }
  lrAt(t: number): number {
    const base = this.optimizer.initialLr;
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * Math.min(t, this.tMax)) / this.tMax))) / 2;
  }
}

/** Linear warmup from startFactor*lr to lr over warmupSteps, then constant. */
export class LinearWarmup extends LRScheduler {
  constructor(optimizer: Optimizer<any>, readonly warmupSteps: number, readonly startFactor = 0.1) {
    super(optimizer);
    this.start();
  }
  lrAt(t: number): number {
    const f = t >= this.warmupSteps ? 1 : this.startFactor + ((1 - this.startFactor) * t) / this.warmupSteps;
    return this.optimizer.initialLr * f;
  }
}

/** One-cycle policy (cosine annealing, PyTorch defaults): warm up to maxLr, then anneal far below. */
export class OneCycleLR extends LRScheduler {
  constructor(optimizer: Optimizer<any>, readonly maxLr: number, readonly totalSteps: number,
    readonly options: { pctStart?: number; divFactor?: number; finalDivFactor?: number } = {}) {
    if (!(totalSteps >= 2)) throw new KilnError(`OneCycleLR: totalSteps must be >= 2, got ${totalSteps}`);
    super(optimizer);
    this.start();
  }
  lrAt(t: number): number {
    const { pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4 } = this.options ?? {};
    const initial = this.maxLr / divFactor;
    const final = initial / finalDivFactor;
    // PyTorch's phase boundary pct_start * total_steps - 1 is not rounded (total 7, pct 0.3: 1.1, not 1).
    const up = Math.max(1, pctStart * this.totalSteps - 1);
    const cos = (from: number, to: number, frac: number) => to + ((from - to) * (1 + Math.cos(Math.PI * Math.min(1, frac)))) / 2;
    return t <= up ? cos(initial, this.maxLr, t / up) : cos(this.maxLr, final, (t - up) / Math.max(1, this.totalSteps - 1 - up));
  }
}
