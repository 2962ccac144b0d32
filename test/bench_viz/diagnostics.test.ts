// KILN_LOG=jit lines and debugNans: what they name (argument and dimension, op and user line).
import { afterEach, describe, expect, it } from 'vitest';
import * as k from '../../src/index.js';

const lines: string[] = [];
afterEach(() => {
  k.setLog(null);
  k.setDebugNans(false);
  lines.length = 0;
});

function capture(): void {
  k.setLog('jit');
  k.setLogSink((l) => lines.push(l));
}

const ramp = (n: number, m: number) => k.tensor(Float32Array.from({ length: n * m }, (_, i) => (i % 7) * 0.25 + 0.5)).reshape([n, m]);

describe('KILN_LOG=jit', () => {
  it('logs a cache miss naming the argument and the dimension that changed, and each compile', () => {
    capture();
    // (the inner name differs from the variable's: bundlers rename a function that shadows it)
    const jitted = k.jit(function step(x: k.Tensor, w: k.Tensor) {
      return k.relu(k.matmul(x, w));
    });
    const w = ramp(3, 2);
    jitted(ramp(4, 3), w);
    jitted(ramp(4, 3), w); // a hit: nothing logged
    jitted(ramp(5, 3), w);
    const misses = lines.filter((l) => l.includes('cache miss'));
    expect(misses).toEqual(['[kiln:jit] cache miss: jit(step): nothing is cached yet; the first call traces', '[kiln:jit] cache miss: jit(step): argument 0 (x): dimension 0 changed from 4 to 5']);
    const compiles = lines.filter((l) => / trace \d+: traced, optimized and compiled in [\d.]+ ms/.test(l));
    expect(compiles).toHaveLength(2);
    expect(compiles[0]).toMatch(/1 kernel, \d+ bytes of intermediates$/);
  });

  it('names dtype and static-argument changes too', () => {
    capture();
    const f = k.jit((x: k.Tensor, scale: number) => k.mul(x, scale), { static: [1], name: 'scaled' });
    f(ramp(2, 2), 2);
    f(ramp(2, 2), 3);
    f(k.astype(ramp(2, 2), 'int32'), 3);
    const misses = lines.filter((l) => l.includes('cache miss')).slice(1);
    expect(misses[0]).toContain('argument 1 (scale) [static]: value changed');
    expect(misses[1]).toContain('argument 0 (x): dtype changed from float32 to int32');
  });

  it('reports a retrace storm at 10 traces', () => {
    capture();
    const warn = console.warn;
    console.warn = () => {};
    try {
      const f = k.jit(function grow(x: k.Tensor) {
        return k.sum(x);
      });
      for (let n = 1; n <= 10; n++) f(ramp(n, 2));
    } finally {
      console.warn = warn;
    }
    const storms = lines.filter((l) => l.includes('retrace storm'));
    expect(storms).toHaveLength(1);
    expect(storms[0]).toContain('jit(grow): retrace storm: 10 traces for 10 cached signatures');
  });

  it('is silent when off', () => {
    k.setLogSink((l) => lines.push(l));
    k.jit((x: k.Tensor) => k.neg(x))(ramp(2, 2));
    expect(lines).toEqual([]);
  });
});

describe('debugNans', () => {
  it('names the first eager op that makes NaN from finite inputs, with the user line', () => {
    k.setDebugNans(true);
    const x = k.tensor([1, 2, -1, 4]);
    let err: unknown;
    try {
      k.log(x); // log(-1) = NaN
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(k.KilnError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^debugNans: log produced 1 NaN in output 0 \(f32\[4\], first at \[2\]\) from finite inputs f32\[4\] at /);
    expect(msg).toMatch(/diagnostics\.test\.ts:\d+:\d+$/);
  });

  it('flags Inf too (division by zero), and the op that made it, not its readers', () => {
    k.setDebugNans(true);
    const x = k.tensor([1, 0, 2]);
    expect(() => k.mul(k.div(1, x), 2)).toThrow(/debugNans: div produced 1 Inf in output 0 \(f32\[3\], first at \[1\]\)/);
  });

  it('does not blame an op for NaN that came in through its inputs', () => {
    const bad = k.tensor([Number.NaN, 1]);
    k.setDebugNans(true);
    expect(() => k.add(bad, 1)).not.toThrow();
  });

  it('re-runs a jitted call eagerly to find the op', () => {
    k.setDebugNans(true);
    const f = k.jit(function h(x: k.Tensor) {
      return k.mul(k.sqrt(k.sub(x, 2)), 3);
    });
    expect(() => f(k.tensor([1, 2, 3, 5]))).toThrow(/debugNans: sqrt produced 1 NaN in output 0 \(f32\[4\], first at \[0\]\)/);
    // Finite results pass untouched.
    expect(Array.from(f(k.tensor([3, 6])).dataSync())).toEqual([3, 6]);
  });

  it('warn mode prints and carries on', () => {
    k.setDebugNans('warn');
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => warned.push(m);
    try {
      const y = k.log(k.tensor([-1, 1]));
      expect(Number.isNaN(y.dataSync()[0])).toBe(true);
    } finally {
      console.warn = warn;
    }
    expect(warned[0]).toMatch(/^kiln: debugNans: log produced 1 NaN/);
  });

  it('costs nothing when off: NaN flows through', () => {
    expect(Number.isNaN(k.log(k.tensor([-1])).dataSync()[0])).toBe(true);
  });
});
