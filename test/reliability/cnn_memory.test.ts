// The eager CNN training step (conv-BatchNorm-relu-pool, linear; Adam) does not leak: Trainer.trainStep
// frees everything it made when it returns, so even a synchronous loop that never lets finalizers run
// stays flat; backward() frees its own temporaries; the obvious hand-written loop is bounded once the
// event loop turns; a kept loss no longer holds its step's graph.
import { describe, expect, it } from 'vitest';
import * as K from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { forceGC } from './gc.js';
import { getDevice } from '../../src/codegen/device.js';
import type { WasmDevice } from '../../src/codegen/wasm/device.js';

const live = (device: string) => K.memory().byDevice[device] ?? { buffers: 0, bytes: 0 };

function makeCnn() {
  const { nn } = K;
  class SmallCnn extends nn.Module {
    features = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(4, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
    );
    classifier = new nn.Linear(8 * 2 * 2, 3);
    forward(x: Tensor): Tensor {
      const h = this.features.call(x) as Tensor;
      return this.classifier.call(h.reshape([h.shape[0], -1])) as Tensor;
    }
  }
  return new SmallCnn();
}

function batch(device: string) {
  const x = K.randn([6, 1, 8, 8], { key: K.randomKey(5), device });
  const y = K.tensor([0, 1, 2, 2, 1, 0], { dtype: 'int32', device });
  return { x, y };
}

describe('the eager CNN training step does not leak', () => {
  for (const device of ['cpu-ref', 'wasm']) {
    it(`Trainer.trainStep on ${device}: a synchronous loop (no GC, no await) keeps buffers and bytes flat`, () => {
      K.setDefaultDevice(device);
      try {
        K.manualSeed(1);
        const model = makeCnn();
        const trainer = new K.Trainer(model, { optimizer: new K.optim.Adam(model.parameters(), { lr: 0.01 }), loss: (o, t) => K.crossEntropy(o, t), jit: false });
        const { x, y } = batch(device);
        const losses: number[] = [];
        const after: { buffers: number; bytes: number }[] = [];
        for (let i = 0; i < 25; i++) {
          losses.push(trainer.trainStep(x, y).loss);
          after.push(live(device));
        }
        // From the second step on (Adam's slots exist), every step leaves exactly what it found.
        for (const m of after.slice(2)) expect(m).toEqual(after[1]);
        expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
        // The running statistics moved and are alive (not disposed by the step's scope).
        const state = model.stateDict();
        expect(Object.values(state).every((t) => !t.isDisposed)).toBe(true);
        expect(state['features.layers.1.runningVar'].dataSync().some((v) => v !== 1)).toBe(true);
      } finally {
        K.setDefaultDevice('cpu-ref');
      }
    }, 60_000);
  }

  it('a jitted Trainer step on wasm allocates nothing after warm-up: no fresh heap blocks, no heap growth, flat memory()', () => {
    K.setDefaultDevice('wasm');
    try {
      K.manualSeed(4);
      const model = makeCnn();
      const trainer = new K.Trainer(model, { optimizer: new K.optim.Adam(model.parameters(), { lr: 0.01 }), loss: (o, t) => K.crossEntropy(o, t), jit: true });
      const { x, y } = batch('wasm');
      const heap = (getDevice('wasm') as WasmDevice).heap;
      const seen: { fresh: number; memoryBytes: number; live: { buffers: number; bytes: number } }[] = [];
      for (let i = 0; i < 12; i++) {
        trainer.trainStep(x, y);
        const st = heap.stats();
        seen.push({ fresh: st.freshAllocations, memoryBytes: st.memoryBytes, live: live('wasm') });
      }
      // Intermediates live in the executable's planned scratch; the step's outputs (new parameters,
      // statistics, optimizer state) reuse the pooled blocks of the ones it replaced and freed.
      for (const s of seen.slice(3)) expect(s).toEqual(seen[2]);
    } finally {
      K.setDefaultDevice('cpu-ref');
    }
  });

  it('backward() frees the cotangents it made and the activations inside the model\'s layers', () => {
    K.setDefaultDevice('wasm');
    try {
      const model = makeCnn();
      const { x, y } = batch('wasm');
      const loss = K.crossEntropy(model.call(x) as Tensor, y);
      const params = model.parameters();
      const before = live('wasm').buffers;
      loss.backward();
      // New: one gradient per parameter; the activations inside the model's layers are freed too.
      expect(live('wasm').buffers - before).toBeLessThanOrEqual(params.length);
      expect(params.every((p) => p.grad !== null && !p.grad.isDisposed)).toBe(true);
      // Accumulating into existing gradients replaces them: still one new buffer per parameter.
      const loss2 = K.crossEntropy(model.call(x) as Tensor, y);
      const before2 = live('wasm').buffers;
      loss2.backward();
      expect(live('wasm').buffers - before2).toBeLessThanOrEqual(params.length);
      // Eager functional gradients (grad) return one live tensor and free the rest.
      const w = K.tensor([0.5, -1, 2], { device: 'wasm' });
      const g = K.grad((a: Tensor) => K.sum(K.mul(K.exp(a), a)))(w) as Tensor;
      expect(Array.from(g.dataSync())).toEqual([0.5, -1, 2].map((a) => expect.closeTo(Math.exp(a) * (1 + a), 5)));
    } finally {
      K.setDefaultDevice('cpu-ref');
    }
  });

  it('the obvious hand-written loop (forward, backward, step, zeroGrad; no dispose) stays bounded when the event loop turns', async () => {
    K.setDefaultDevice('wasm');
    try {
      K.manualSeed(2);
      const model = makeCnn();
      const opt = new K.optim.Adam(model.parameters(), { lr: 0.01 });
      const { x, y } = batch('wasm');
      const samples: number[] = [];
      const losses: Tensor[] = []; // kept for logging: must not keep each step's graph alive
      for (let i = 1; i <= 135; i++) {
        opt.zeroGrad();
        const loss = K.crossEntropy(model.call(x) as Tensor, y);
        loss.backward();
        opt.step();
        losses.push(loss);
        if (i % 15 === 0) {
          await forceGC();
          samples.push(live('wasm').bytes - losses.length * 4);
        }
      }
      // A sample may still see the last step's activations (finalizers run in batches); the level the
      // samples return to must not grow, and no sample holds more than one step's worth above it.
      const base = Math.max(...samples.slice(0, 3));
      const later = [...samples.slice(3)].sort((a, b) => a - b);
      expect(later[Math.floor(later.length / 2)], JSON.stringify(samples)).toBeLessThanOrEqual(base * 1.05 + 4096);
      expect(later[later.length - 1], JSON.stringify(samples)).toBeLessThanOrEqual(base + 200_000);
      expect(Number(losses[losses.length - 1].item())).toBeLessThan(Number(losses[0].item()));
    } finally {
      K.setDefaultDevice('cpu-ref');
    }
  }, 60_000);

  it('the obvious loop in a synchronous loop (no await, no GC): the model\'s activations, backward\'s temporaries and the optimizer\'s are freed as it goes', () => {
    K.setDefaultDevice('wasm');
    try {
      K.manualSeed(6);
      const model = makeCnn();
      const opt = new K.optim.Adam(model.parameters(), { lr: 0.01 });
      const { x, y } = batch('wasm');
      // What one training forward holds while its graph is alive: the activations.
      const before = live('wasm').bytes;
      const probe = K.crossEntropy(model.call(x) as Tensor, y);
      const activations = live('wasm').bytes - before;
      probe.backward();
      model.zeroGrad();
      const at: number[] = [];
      for (let i = 0; i < 30; i++) {
        opt.zeroGrad();
        const loss = K.crossEntropy(model.call(x) as Tensor, y);
        loss.backward();
        opt.step();
        at.push(live('wasm').bytes);
      }
      // Unreachable leftovers wait for the GC: the previous gradients, the loss and crossEntropy's
      // parts, the model's output. Everything inside the library's modules and steps is freed.
      const perStep = (at[29] - at[4]) / 25;
      expect(perStep, JSON.stringify({ activations, at })).toBeLessThan(activations / 4);
    } finally {
      K.setDefaultDevice('cpu-ref');
    }
  });

  it('inference in a synchronous loop: only each call\'s output is left', () => {
    K.setDefaultDevice('wasm');
    try {
      const model = makeCnn();
      model.eval();
      const { x } = batch('wasm');
      const before = live('wasm');
      const outs: Tensor[] = [];
      K.noGrad(() => {
        for (let i = 0; i < 10; i++) outs.push(model.call(x) as Tensor);
      });
      const after = live('wasm');
      // Per call: the model's output and what the user-written forward made itself (the features'
      // output and its reshape); everything inside the library's layers was freed at once.
      expect(after.buffers - before.buffers).toBe(10 * 3);
      expect(after.bytes - before.bytes).toBe(10 * (6 * 3 + 2 * 6 * 32) * 4);
      expect(outs.every((o) => !o.isDisposed)).toBe(true);
    } finally {
      K.setDefaultDevice('cpu-ref');
    }
  });

  it('a custom module inside a Sequential keeps what it stores; what library modules return survives backward()', () => {
    class Stash extends K.nn.Module {
      last: Tensor | null = null;
      forward(h: Tensor): Tensor {
        this.last = K.mul(h, 2);
        return K.add(this.last, 1);
      }
    }
    const stash = new Stash();
    const net = new K.nn.Sequential(new K.nn.Linear(3, 4), stash, new K.nn.Tanh(), new K.nn.Linear(4, 2));
    const first = net.layers[0];
    const x = K.tensor([[1, 2, 3], [0.5, -1, 2]]);
    const h = first.call(x) as Tensor; // a library module's output, held by the user
    const out = net.call(x) as Tensor;
    K.sum(out).backward();
    K.sum(K.mul(h, h)).backward();
    expect(stash.last!.isDisposed).toBe(false);
    expect(stash.last!.shape).toEqual([2, 4]);
    expect(h.isDisposed).toBe(false);
    expect(out.isDisposed).toBe(false);
    expect([...first.parameters(), ...net.layers[3].parameters()].every((p) => p.grad !== null)).toBe(true);
  });

  it('a kept loss releases its graph after backward(): the activations become unreachable', async () => {
    K.setDefaultDevice('wasm');
    try {
      const model = makeCnn();
      const { x, y } = batch('wasm');
      await forceGC();
      const before = live('wasm').bytes;
      const loss = K.crossEntropy(model.call(x) as Tensor, y);
      loss.backward();
      model.zeroGrad();
      await forceGC();
      // Left: the loss (4 bytes) and BatchNorm's running statistics (replaced, same size).
      expect(live('wasm').bytes - before).toBeLessThanOrEqual(4);
      expect(() => loss.backward()).toThrow(/second time/);
    } finally {
      K.setDefaultDevice('cpu-ref');
    }
  });
});
