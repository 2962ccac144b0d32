// Learning-rate schedules: the lr sequence that step() produces against each closed form (PyTorch's).
import { describe, expect, it } from 'vitest';
import { SGD } from '../../src/frontend/optim/optimizer.js';
import { StepLR, CosineAnnealingLR, LinearWarmup, OneCycleLR, LRScheduler } from '../../src/frontend/optim/schedulers.js';

/** lr before any step, then after each of `n` step() calls; the optimizer's lr follows. */
function sequence(s: LRScheduler, n: number): number[] {
  const out = [s.optimizer.lr];
  for (let i = 0; i < n; i++) {
    s.step();
    expect(s.lastLr).toBe(s.optimizer.lr);
    out.push(s.optimizer.lr);
  }
  return out;
}

function expectSeq(got: number[], expected: number[]): void {
  expect(got.length).toBe(expected.length);
  got.forEach((g, i) => expect(g, `t=${i}`).toBeCloseTo(expected[i], 12));
}

describe('schedulers', () => {
  it('StepLR: lr * gamma^floor(t / stepSize)', () => {
    const s = new StepLR(new SGD([], { lr: 0.5 }), 3, 0.1);
    expectSeq(sequence(s, 8), [0.5, 0.5, 0.5, 0.05, 0.05, 0.05, 0.005, 0.005, 0.005]);
    expect(s.lrAt(30)).toBeCloseTo(0.5 * 1e-10, 20);
    expect(() => new StepLR(new SGD([]), 0)).toThrow(/StepLR: stepSize must be >= 1, got 0/);
  });

  it('CosineAnnealingLR: etaMin + (lr - etaMin)(1 + cos(pi t / tMax)) / 2, held at etaMin after tMax', () => {
    const s = new CosineAnnealingLR(new SGD([], { lr: 0.2 }), 5, 0.01);
    const closed = (t: number) => 0.01 + ((0.2 - 0.01) * (1 + Math.cos((Math.PI * t) / 5))) / 2;
    expectSeq(sequence(s, 7), [0, 1, 2, 3, 4, 5, 5, 5].map(closed));
    expect(() => new CosineAnnealingLR(new SGD([]), 0)).toThrow(/tMax must be >= 1/);
  });

  it('LinearWarmup: from startFactor * lr to lr over warmupSteps, then constant (PyTorch LinearLR)', () => {
    const s = new LinearWarmup(new SGD([], { lr: 1 }), 4, 0.2);
    expectSeq(sequence(s, 6), [0.2, 0.4, 0.6, 0.8, 1, 1, 1]);
  });

  it('OneCycleLR: cosine up from maxLr/divFactor to maxLr at pctStart * total - 1, then down to initial/finalDivFactor', () => {
    // PyTorch's closed form (three_phase = false, anneal_strategy = 'cos').
    const pytorch = (t: number, maxLr: number, total: number, pct = 0.3, div = 25, finalDiv = 1e4) => {
      const initial = maxLr / div;
      const min = initial / finalDiv;
      const end1 = pct * total - 1;
      const cos = (a: number, b: number, f: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * f) + 1);
      return t <= end1 ? cos(initial, maxLr, t / end1) : cos(maxLr, min, (t - end1) / (total - 1 - end1));
    };
    const s = new OneCycleLR(new SGD([], { lr: 1 }), 0.1, 10);
    expectSeq(sequence(s, 9), Array.from({ length: 10 }, (_, t) => pytorch(t, 0.1, 10)));
    expect(sequence(new OneCycleLR(new SGD([]), 0.1, 10), 9)[9]).toBeCloseTo(0.1 / 25 / 1e4, 15);
    // A phase boundary between steps (0.3 * 7 - 1 = 1.1) and custom factors.
    const t7 = new OneCycleLR(new SGD([]), 2, 7, { pctStart: 0.3, divFactor: 10, finalDivFactor: 100 });
    expectSeq(sequence(t7, 6), Array.from({ length: 7 }, (_, t) => pytorch(t, 2, 7, 0.3, 10, 100)));
    expect(() => new OneCycleLR(new SGD([]), 1, 1)).toThrow(/totalSteps must be >= 2/);
  });

  it('schedules start from the optimizer rate it was built with, whatever lr is now', () => {
    const opt = new SGD([], { lr: 0.4 });
    opt.lr = 123;
    const s = new StepLR(opt, 1, 0.5);
    expect(opt.lr).toBe(0.4);
    s.step();
    expect(opt.lr).toBeCloseTo(0.2, 15);
  });
});
