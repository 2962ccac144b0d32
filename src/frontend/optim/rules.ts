// Optimizer update rules as pure functions of (param, grad, slots, hyper-parameters): the same rule
// runs eagerly (Optimizer.step) and inside jit (Optimizer.update on a state pytree).
import type { Tensor } from '../tensor.js';
import { add, sub, mul, div, sqrt, maximum, expm1, neg } from '../ops/elementwise.js';

export type Slots = Record<string, Tensor>;
export type Scalar = number | Tensor;

export interface Rule<H> {
  /** Slot names and how to initialise them (zeros like the parameter unless stated). */
  slots(h: H): string[];
  /** The value slots start at (default 0). */
  slotInit?(h: H): number;
  /** One step; `step` is the 1-based step count (a scalar tensor under jit). */
  apply(p: Tensor, g: Tensor, s: Slots, h: H, lr: Scalar, step: Scalar): [Tensor, Slots];
}

export interface SGDHyper { momentum: number; dampening: number; nesterov: boolean; weightDecay: number; maximize: boolean }
export const sgdRule: Rule<SGDHyper> = {
  slots: (h) => (h.momentum ? ['momentum'] : []),
  apply(p, g, s, h, lr, step) {
    if (h.maximize) g = mul(g, -1);
    if (h.weightDecay) g = add(g, mul(p, h.weightDecay));
    if (!h.momentum) return [sub(p, mul(g, lr)), s];
    // PyTorch: the first step seeds the buffer with the gradient itself (no dampening).
    const first = typeof step === 'number' ? step === 1 : null;
    const buf = first === true ? g : add(mul(s.momentum, h.momentum), mul(g, 1 - h.dampening));
    const seeded = first === null ? blendFirst(step, g, buf) : buf;
    const d = h.nesterov ? add(g, mul(seeded, h.momentum)) : seeded;
    return [sub(p, mul(d, lr)), { momentum: seeded }];
  },
};

/** Under jit the step count is a tensor: select the gradient itself on step 1. */
function blendFirst(step: Scalar, first: Tensor, later: Tensor): Tensor {
  const isFirst = maximum(sub(2, step), 0); // 1 on step 1, 0 afterwards
  return add(mul(first, isFirst), mul(later, sub(1, isFirst)));
}

export interface AdamHyper { beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean; amsgrad: boolean; maximize: boolean }
export const adamRule: Rule<AdamHyper> = {
  slots: (h) => (h.amsgrad ? ['m', 'v', 'vMax'] : ['m', 'v']),
  apply(p, g, s, h, lr, step) {
    if (h.maximize) g = mul(g, -1);
    if (h.weightDecay && !h.decoupled) g = add(g, mul(p, h.weightDecay));
    if (h.weightDecay && h.decoupled) p = sub(p, mul(p, mul(lr, h.weightDecay)));
    const m = add(mul(s.m, h.beta1), mul(g, 1 - h.beta1));
    const v = add(mul(s.v, h.beta2), mul(mul(g, g), 1 - h.beta2));
    const bc1 = biasCorrection(h.beta1, step);
    const bc2 = biasCorrection(h.beta2, step);
    const vUse = h.amsgrad ? maximum(s.vMax, v) : v;
    const denom = add(div(sqrt(vUse), sqrt(bc2)), h.eps);
    const next = sub(p, div(mul(m, div(lr, bc1)), denom));
    const slots: Slots = h.amsgrad ? { m, v, vMax: vUse } : { m, v };
    return [next, slots];
  },
};

/**
 * 1 - beta^step: in float64 for a JS step, else -expm1(step * ln beta). Subtracting a float32 beta^step
 * from 1 would cancel (beta2 = 0.999: a 1e-5 relative error in Adam's early steps, 100x float32 rounding).
 */
function biasCorrection(beta: number, step: Scalar): Scalar {
  return typeof step === 'number' ? 1 - Math.pow(beta, step) : neg(expm1(mul(step, Math.log(beta))));
}

export interface RMSpropHyper { alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean }
export const rmspropRule: Rule<RMSpropHyper> = {
  // Listed in the order apply() builds its result: the state pytree keeps one structure, so a jitted step does not retrace.
  slots: (h) => ['sq', ...(h.centered ? ['avg'] : []), ...(h.momentum ? ['buf'] : [])],
  apply(p, g, s, h, lr) {
    if (h.weightDecay) g = add(g, mul(p, h.weightDecay));
    const sq = add(mul(s.sq, h.alpha), mul(mul(g, g), 1 - h.alpha));
    const out: Slots = { sq };
    let avgSq: Tensor = sq;
    if (h.centered) {
      out.avg = add(mul(s.avg, h.alpha), mul(g, 1 - h.alpha));
      avgSq = sub(sq, mul(out.avg, out.avg));
    }
    const denom = add(sqrt(avgSq), h.eps);
    if (h.momentum) {
      out.buf = add(mul(s.buf, h.momentum), div(g, denom));
      return [sub(p, mul(out.buf, lr)), out];
    }
    return [sub(p, mul(div(g, denom), lr)), out];
  },
};

export interface AdagradHyper { lrDecay: number; weightDecay: number; eps: number; initialAccumulatorValue: number }
export const adagradRule: Rule<AdagradHyper> = {
  slots: () => ['sum'],
  slotInit: (h) => h.initialAccumulatorValue,
  apply(p, g, s, h, lr, step) {
    if (h.weightDecay) g = add(g, mul(p, h.weightDecay));
    const clr = div(lr, add(mul(sub(step, 1), h.lrDecay), 1));
    const sum = add(s.sum, mul(g, g));
    return [sub(p, mul(div(g, add(sqrt(sum), h.eps)), clr)), { sum }];
  },
};
