// kiln.benchmark: what it reports about a user's function (never how fast it was).
import { describe, expect, it } from 'vitest';
import * as k from '../../src/index.js';

const x = k.tensor(Float32Array.from({ length: 64 }, (_, i) => Math.cos(i) + 0.25)).reshape([8, 8]);
const w = k.tensor(Float32Array.from({ length: 32 }, (_, i) => Math.sin(i) - 0.1)).reshape([8, 4]);

describe('benchmark', () => {
  it('times eager and jit and reports ops, kernels, bytes and compile time', async () => {
    const layer = (a: k.Tensor, b: k.Tensor) => k.tanh(k.add(k.matmul(a, b), 0.5));
    const r = await k.benchmark(layer, [x, w], { iterations: 3, warmup: 1 });
    expect(r.name).toBe('layer');
    expect(r.device).toBe(x.device);
    expect(r.ops).toBeGreaterThanOrEqual(4); // dot_general, constant, broadcast, add, tanh
    expect(r.jit.kernels).toBe(1); // matmul with its epilogue in one kernel
    expect(r.jit.traces).toBe(1);
    expect(r.jit.iterations).toBe(3);
    expect(r.eager!.iterations).toBe(3);
    for (const t of [r.eager!, r.jit]) for (const v of [t.firstCallMs, t.msPerCall, t.minMs, t.medianMs]) expect(Number.isFinite(v) && v >= 0).toBe(true);
    expect(r.jit.compileMs).toBeGreaterThan(0);
    expect(r.jit.peakBytes).toBeGreaterThanOrEqual(0);
    expect(typeof r.speedup).toBe('number');
    const text = String(r);
    expect(text).toContain("benchmark layer on '");
    expect(text).toContain('-> 1 kernel,');
    expect(text).toMatch(/jit is [\d.]+x eager/);
    // Inputs survive: benchmark disposes outputs only.
    expect(x.isDisposed).toBe(false);
    expect(w.isDisposed).toBe(false);
  });

  it('skips eager on request and passes jit options through', async () => {
    const scale = (a: k.Tensor, s: number) => k.mul(a, s);
    const r = await k.benchmark(scale, [x, 3], { iterations: 2, eager: false, jit: { static: [1] } });
    expect(r.eager).toBeNull();
    expect(r.speedup).toBeNull();
    expect(r.jit.traces).toBe(1);
    expect(String(r)).toContain('eager  not run');
  });

  it('rejects bad options with KilnErrors', async () => {
    await expect(k.benchmark((a: k.Tensor) => a, [x], { iterations: 0 })).rejects.toThrow(/iterations must be a positive integer/);
    await expect(k.benchmark((a: k.Tensor) => a, [x], { warmup: -1 })).rejects.toThrow(/warmup must be a non-negative integer/);
    await expect(k.benchmark(42 as never, [x])).rejects.toThrow(k.KilnError);
  });
});
