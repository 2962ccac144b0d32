// Optimizers: eager `step()` after backward() (parameters updated in place), and a pure
// `update(params, grads, state)` for jitted training steps where parameters and state are a pytree.
import { KilnError } from '../../ir/error.js';
import { hostArray } from '../../ir/array.js';
import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd/tape.js';
import { keep } from '../memory.js';
import { flatten, unflatten } from '../pytree.js';
import { add, mul } from '../ops/elementwise.js';
import { full } from '../ops/nn_internal.js';
import type { Rule, Slots, Scalar, SGDHyper, AdamHyper, RMSpropHyper, AdagradHyper } from './rules.js';
import { sgdRule, adamRule, rmspropRule, adagradRule } from './rules.js';

/** The state of a functional update: a step counter and each parameter's slots (a pytree). */
export interface OptimizerState {
  step: Tensor;
  slots: Slots[];
}

/** What `Optimizer.stateDict()` returns: enough to resume eager training exactly. */
export interface OptimizerStateDict {
  name: string;
  step: number;
  lr: number;
  /** Slot tensors by parameter index (parameters that never had a gradient have none). */
  slots: Record<number, Slots>;
}

export class Optimizer<H = unknown> {
  /** Current learning rate; schedulers change it. */
  lr: number;
  readonly initialLr: number;
  readonly params: Tensor[];
  private stepCount = 0;
  private readonly eagerSlots = new Map<Tensor, Slots>();
  /** Slot tensors made by step() (updated in place by later steps). */
  private readonly ownedSlots = new WeakSet<Tensor>();

  constructor(params: Iterable<Tensor>, lr: number, readonly hyper: H, readonly rule: Rule<H>, readonly name: string) {
    this.params = [...params];
    if (!(lr >= 0)) throw new KilnError(`${name}: learning rate must be non-negative, got ${lr}`);
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new KilnError(`${name}: parameter ${i} is not a tensor`);
    });
    this.lr = lr;
    this.initialLr = lr;
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  private zeroSlots(p: Tensor): Slots {
    const value = this.rule.slotInit?.(this.hyper) ?? 0;
    return Object.fromEntries(this.rule.slots(this.hyper).map((k) => [k, full(p.shape, value, p.dtype, p.device)]));
  }

  /** One eager step over the parameters that have gradients; updates them in place. */
  step(): void {
    this.stepCount++;
    // The rule's temporaries (moments' products, bias corrections, ...) are freed when the step ends,
    // not left to finalizers: only the new slots (and the parameters, updated in place) live on.
    const outer = Tensor._collect;
    const made: Tensor[] = [];
    Tensor._collect = made;
    try {
      this.stepParams();
    } finally {
      Tensor._collect = outer;
    }
    const live = new Set<Tensor>();
    for (const slots of this.eagerSlots.values()) for (const t of Object.values(slots)) live.add(t);
    for (const t of made) if (!live.has(t)) t.dispose();
  }

  private stepParams(): void {
    noGrad(() => {
      for (const p of this.params) {
        if (!p.grad) continue;
        const slots = this.eagerSlots.get(p) ?? this.zeroSlots(p);
        const [next, nextSlots] = this.rule.apply(p, p.grad, slots, this.hyper, this.lr, this.stepCount);
        // Slots this optimizer made are updated in place, as parameters are (and as PyTorch's state
        // is): the old values are freed now, not left to finalizers that a synchronous loop never
        // lets run. Slots from loadStateDict are the caller's: replaced, then owned.
        const updated: Slots = {};
        const inputs = new Set<Tensor>([p, p.grad, ...Object.values(slots)]);
        for (let [k, v] of Object.entries(nextSlots) as [string, Tensor][]) {
          const old = slots[k];
          if (old === v) {
            updated[k] = v;
            continue;
          }
          // A rule may hand back one of its inputs as a slot (SGD seeds momentum with the gradient):
          // the slot gets its own buffer, as the gradient is not the optimizer's to update in place.
          if (inputs.has(v)) v = add(v, 0);
          if (old && this.ownedSlots.has(old) && !old.isDisposed) {
            old._assign(v);
            updated[k] = old;
          } else {
            // Slots live across steps: a tidy() around the step must not dispose them.
            updated[k] = keep(v);
            this.ownedSlots.add(v);
          }
        }
        this.eagerSlots.set(p, updated);
        p._assign(next);
      }
    });
  }

  /**
   * The eager state to resume training from (PyTorch's optimizer.state_dict): step count, learning
   * rate and each parameter's slots by parameter index. Checkpoints save it (io/checkpoint.ts).
   */
  stateDict(): OptimizerStateDict {
    const slots: Record<number, Slots> = {};
    this.params.forEach((p, i) => {
      const s = this.eagerSlots.get(p);
      if (s) slots[i] = s;
    });
    return { name: this.name, step: this.stepCount, lr: this.lr, slots };
  }

  /** Restores `stateDict()` output; slot names and shapes must match this optimizer's parameters. */
  loadStateDict(state: OptimizerStateDict): void {
    if (state.name !== this.name) throw new KilnError(`${this.name}.loadStateDict: the state is from ${state.name}`);
    if (!Number.isInteger(state.step) || state.step < 0) throw new KilnError(`${this.name}.loadStateDict: step ${state.step} must be a non-negative integer`);
    const names = this.rule.slots(this.hyper);
    const restored = new Map<Tensor, Slots>();
    for (const [key, slots] of Object.entries(state.slots)) {
      const p = this.params[Number(key)];
      if (!p || String(Number(key)) !== key) throw new KilnError(`${this.name}.loadStateDict: slots for parameter ${key}, but the optimizer has ${this.params.length} parameters`);
      const got = Object.keys(slots).sort();
      if (got.join() !== [...names].sort().join()) throw new KilnError(`${this.name}.loadStateDict: parameter ${key} has slots [${got.join(', ')}], expected [${names.join(', ')}]`);
      for (const [k, t] of Object.entries(slots)) {
        if (t.dtype !== p.dtype || t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j])) {
          throw new KilnError(`${this.name}.loadStateDict: slot ${k} of parameter ${key} is ${t.describe()}, the parameter is ${p.describe()}`);
        }
      }
      restored.set(p, { ...slots });
    }
    this.eagerSlots.clear();
    for (const [p, s] of restored) this.eagerSlots.set(p, s);
    this.stepCount = state.step;
    this.lr = state.lr;
  }

  /** Fresh state for `update` (zeros for every slot, step 0). */
  init(params: unknown): OptimizerState {
    const { leaves } = flatten(params);
    return { step: Tensor._fromHost(hostArray('float32', [], [0]), leaves[0]?.device ?? 'cpu-ref'), slots: leaves.map((p) => this.zeroSlots(p)) };
  }

  /**
   * Pure update for jitted steps: returns new parameters (same tree) and state. `lr` may be a
   * tensor so that schedules do not retrace; it defaults to the optimizer's current rate.
   */
  update<P>(params: P, grads: unknown, state: OptimizerState, options: { lr?: Scalar } = {}): { params: P; state: OptimizerState } {
    const { leaves: ps, treedef } = flatten(params);
    const { leaves: gs } = flatten(grads);
    if (gs.length !== ps.length) throw new KilnError(`${this.name}.update: ${ps.length} parameters but ${gs.length} gradients`);
    if (state.slots.length !== ps.length) throw new KilnError(`${this.name}.update: state holds ${state.slots.length} parameters, got ${ps.length} (call init(params) again)`);
    const step = add(state.step, 1);
    const lr = options.lr ?? this.lr;
    const outP: Tensor[] = [];
    const outS: Slots[] = [];
    ps.forEach((p, i) => {
      const [np, ns] = this.rule.apply(p, gs[i], state.slots[i], this.hyper, lr, step);
      outP.push(np);
      outS.push(ns);
    });
    return { params: unflatten(treedef, outP) as P, state: { step, slots: outS } };
  }
}

export class SGD extends Optimizer<SGDHyper> {
  constructor(params: Iterable<Tensor>, { lr = 0.01, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0, maximize = false }: Partial<SGDHyper> & { lr?: number } = {}) {
    if (nesterov && (momentum <= 0 || dampening !== 0)) throw new KilnError('SGD: Nesterov momentum needs momentum > 0 and dampening 0');
    super(params, lr, { momentum, dampening, nesterov, weightDecay, maximize }, sgdRule, 'SGD');
  }
}

export class Adam extends Optimizer<AdamHyper> {
  constructor(params: Iterable<Tensor>, { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, amsgrad = false, maximize = false }: { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; maximize?: boolean } = {}) {
    super(params, lr, { beta1: betas[0], beta2: betas[1], eps, weightDecay, decoupled: false, amsgrad, maximize }, adamRule, 'Adam');
  }
}

export class AdamW extends Optimizer<AdamHyper> {
  constructor(params: Iterable<Tensor>, { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 1e-2, amsgrad = false, maximize = false }: { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; maximize?: boolean } = {}) {
    super(params, lr, { beta1: betas[0], beta2: betas[1], eps, weightDecay, decoupled: true, amsgrad, maximize }, adamRule, 'AdamW');
  }
}

export class RMSprop extends Optimizer<RMSpropHyper> {
  constructor(params: Iterable<Tensor>, { lr = 1e-2, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered = false }: Partial<RMSpropHyper> & { lr?: number } = {}) {
    super(params, lr, { alpha, eps, weightDecay, momentum, centered }, rmspropRule, 'RMSprop');
  }
}

export class Adagrad extends Optimizer<AdagradHyper> {
  constructor(params: Iterable<Tensor>, { lr = 1e-2, lrDecay = 0, weightDecay = 0, eps = 1e-10, initialAccumulatorValue = 0 }: Partial<AdagradHyper> & { lr?: number } = {}) {
    super(params, lr, { lrDecay, weightDecay, eps, initialAccumulatorValue }, adagradRule, 'Adagrad');
  }
}

/** Scales gradients in place so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  const ps = [...params].filter((p) => p.grad);
  let total = 0;
  for (const p of ps) for (const g of p.grad!.dataSync()) total += g * g;
  const norm = Math.sqrt(total);
  if (norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    noGrad(() => {
      for (const p of ps) p.grad = keep(mul(p.grad!, scale));
    });
  }
  return norm;
}
