// The benchmark harness (bench/): agreement, unit conversion, one measured cell through benny, the
// results page and chart, and the Web Worker shim jax-js runs on. Numbers are never asserted.
import { describe, expect, it } from 'vitest';
import { agree, refChain, refMatmul, refSoftmaxRows, refConv2d, nchwToNhwc, nhwcToNchw, uniform } from '../../bench/data.js';
import { measureCell, toUnit } from '../../bench/harness.js';
import type { Row, RowResult } from '../../bench/harness.js';
import { formatValue, markdownTable, resultsMarkdown, resultsSvg, speedup } from '../../bench/report.js';
import { installWebWorkerShim } from '../../bench/peers/web_worker_shim.js';
import type { Env } from '../../bench/systems.js';

describe('references and agreement', () => {
  it('agree scales by the reference and names the worst element', () => {
    expect(agree([1, 2, 3], [1, 2, 3], 0)).toEqual({ ok: true, error: 0 });
    const a = agree([1, 2, 3.3], [1, 2, 3], 0.05);
    expect(a.ok).toBe(false);
    expect(a.error).toBeCloseTo(0.1, 6);
    expect(a.detail).toBe('element 2: 3.3 vs 3');
    expect(agree([Number.NaN], [1], 1).ok).toBe(false);
    expect(agree([1], [1, 2], 1).detail).toBe('length 1, expected 2');
  });

  it('float64 references match hand-computed values', () => {
    expect(Array.from(refMatmul(Float32Array.from([1, 2, 3, 4]), Float32Array.from([5, 6, 7, 8]), 2, 2, 2))).toEqual([19, 22, 43, 50]);
    expect(refChain(Float32Array.from([0]))[0]).toBeCloseTo(Math.tanh(0.5) * 0.5, 12);
    const s = refSoftmaxRows(Float32Array.from([0, Math.log(3)]), 1, 2);
    // log(3) rounds to float32 on the way in, so the split is 1:3 to about 1e-8.
    expect(s[0]).toBeCloseTo(0.25, 7);
    expect(s[1]).toBeCloseTo(0.75, 7);
    // A 1x1 kernel of weight 2 doubles the image.
    const x = uniform(2 * 3 * 3, 5);
    const y = refConv2d(x, Float32Array.from([2, 0]), [1, 2, 3, 3], [1, 2, 1, 1]);
    expect(Array.from(y)).toEqual(Array.from(x.subarray(0, 9), (v) => 2 * v));
    expect(Array.from(nhwcToNchw(nchwToNhwc(x, [1, 2, 3, 3]), [1, 2, 3, 3]))).toEqual(Array.from(x));
  });

  it('units', () => {
    expect(toUnit({ unit: 'GFLOP/s', work: 2e9 }, 0.5)).toBe(4);
    expect(toUnit({ unit: 'GB/s', work: 8e6 }, 1e-3)).toBe(8);
    expect(toUnit({ unit: 'steps/s' }, 0.25)).toBe(4);
    expect(toUnit({ unit: 'ms' }, 0.002)).toBe(2);
    expect(toUnit({ unit: 'µs' }, 2e-6)).toBeCloseTo(2, 9);
  });
});

describe('measureCell', () => {
  const timing = { maxTime: 0.05, minSamples: 2, firstCalls: 2, slowCalls: 1 };
  const env = {} as Env;
  const row = (impl: Row['impls']['kiln-jit'], mode?: Row['mode']): Row => ({ id: 't', title: 't', unit: 'ms', quick: true, tolerance: 1e-6, mode, reference: () => [1, 2], impls: { 'kiln-jit': impl } });

  it('checks agreement, then times through benny', async () => {
    let calls = 0;
    const c = await measureCell(row(() => ({ run: () => void calls++, result: () => [1, 2], info: () => 'facts' })), 'kiln-jit', env, [1, 2], timing);
    expect(c.skipped).toBeUndefined();
    expect(typeof c.value).toBe('number');
    expect(c.agreement).toEqual({ ok: true, error: 0 });
    expect(c.info).toBe('facts');
    expect(calls).toBeGreaterThan(2);
  });

  it('does not time a cell that disagrees, and reports failures instead of throwing', async () => {
    const wrong = await measureCell(row(() => ({ run: () => {}, result: () => [1, 3] })), 'kiln-jit', env, [1, 2], timing);
    expect(wrong.value).toBeNull();
    expect(wrong.skipped).toMatch(/^disagrees with the reference \(element 1: 3 vs 2\)/);
    const broken = await measureCell(row(() => ({ run: () => { throw new Error('boom'); }, result: () => [] })), 'kiln-jit', env, [1, 2], timing);
    expect(broken.skipped).toBe('failed: boom');
    const none = await measureCell(row(undefined), 'kiln-eager', env, [1, 2], timing);
    expect(none.skipped).toBe('not implemented');
  });

  it('a slow first call gets a warm one, which decides between benny and plain calls; slowCallLimit skips it', async () => {
    const quick = { maxTime: 0.05, minSamples: 2, firstCalls: 1, slowCalls: 1, slowCallLimit: 0.2 };
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    let calls = 0;
    // First call 60 ms (over maxTime / 2, under the limit): one warm call is made (its count, not its time, is asserted).
    const warmed = await measureCell(row(() => ({ run: () => busy(calls++ === 0 ? 60 : 30), result: () => [1, 2] })), 'kiln-jit', env, [1, 2], quick);
    expect(calls).toBe(2);
    expect(warmed.value).not.toBeNull();
    // Slow only the first time: the warm call is fast, so benny times the cell as a steady one.
    calls = 0;
    const steady = await measureCell(row(() => ({ run: () => busy(calls++ === 0 ? 60 : 0), result: () => [1, 2] })), 'kiln-jit', env, [1, 2], quick);
    expect(calls).toBeGreaterThan(3);
    expect(steady.samples).toBeGreaterThanOrEqual(2);
    calls = 0;
    const slow = await measureCell(row(() => ({ run: () => busy(calls++ === 0 ? 250 : 30), result: () => [1, 2] })), 'kiln-jit', env, [1, 2], quick);
    expect(calls).toBe(1); // over the limit: the checked call is the time
    expect(slow.samples).toBe(1);
  });

  it('first-call cells time separate calls', async () => {
    let calls = 0;
    const c = await measureCell(row(async () => ({ run: async () => void calls++, result: () => [1, 2] }), 'first-call'), 'kiln-jit', env, [1, 2], timing);
    expect(c.samples).toBe(2);
    expect(calls).toBe(3); // the checked call, then two timed ones
  });
});

describe('results page and chart', () => {
  const rows: RowResult[] = [
    { id: 'a', title: 'matmul <1024>', unit: 'GFLOP/s', cells: [{ system: 'kiln-eager', value: 5 }, { system: 'kiln-jit', value: 20 }, { system: 'tfjs-wasm', value: 10, agreement: { ok: true, error: 1e-7 } }, { system: 'jax-wasm', value: null, skipped: 'failed: x' }, { system: 'onnx-native', value: 40 }] },
    { id: 'b', title: 'latency', unit: 'µs', cells: [{ system: 'kiln-eager', value: 400 }, { system: 'kiln-jit', value: 100 }, { system: 'tfjs-cpu', value: 50 }] },
  ];

  it('table ratios respect the direction of each unit', () => {
    expect(speedup('GFLOP/s', 20, 10)).toBe(2);
    expect(speedup('µs', 100, 50)).toBe(0.5);
    expect(speedup('ms', null, 1)).toBeNull();
    const md = markdownTable(rows);
    expect(md.split('\n')[2]).toBe('| matmul <1024> | GFLOP/s ↑ | 5.00 | 20.0 | 10.0 | — | — | 40.0 | 4.00× | 2.00× (tfjs-wasm) | 0.50× |');
    expect(md.split('\n')[3]).toBe('| latency | µs ↓ | 400 | 100 | — | 50.0 | — | — | 4.00× | 0.50× (tfjs-cpu) | — |');
    expect(formatValue(12345.6)).toBe('12,346');
    expect(formatValue(0.01234)).toBe('0.012');
  });

  it('the page names the machine and notes; the SVG escapes titles and draws one bar per number', () => {
    const md = resultsMarkdown({
      machine: { cpus: 2, cpuModel: 'Test CPU', node: 'v20', platform: 'linux-x64', date: '2026-01-01T00:00:00Z', loadAverage: [1, 2, 3] },
      versions: { kiln: '0.1.0' },
      kilnDevice: 'wasm',
      quick: true,
      seconds: 60,
      notes: ['a note'],
      rows,
    });
    expect(md).toContain('2 CPUs (`nproc`), Test CPU');
    expect(md).toContain('- a note');
    expect(md).toContain('jax-js wasm (jit): failed: x');
    expect(md).toContain('**This machine is shared');
    const svg = resultsSvg(rows, 'title & more');
    expect(svg).toContain('title &amp; more');
    expect(svg).toContain('matmul &lt;1024&gt;');
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(7);
  });
});

describe('Web Worker shim (jax-js in Node)', () => {
  it('runs a blob-URL worker script over worker_threads, messages both ways', async () => {
    const restore = installWebWorkerShim();
    try {
      const src = 'self.onmessage = (e) => postMessage({ doubled: e.data.x * 2, shared: e.data.mem.buffer instanceof SharedArrayBuffer });';
      const url = URL.createObjectURL(new Blob([src], { type: 'application/javascript' }));
      const W = (globalThis as unknown as { Worker: new (u: string, o?: object) => { onmessage: ((e: { data: any }) => void) | null; postMessage(d: unknown): void; terminate(): void } }).Worker;
      const w = new W(url, { type: 'module' });
      const reply = await new Promise<any>((resolve) => {
        w.onmessage = (e) => resolve(e.data);
        w.postMessage({ x: 21, mem: new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }) });
      });
      w.terminate();
      expect(reply).toEqual({ doubled: 42, shared: true });
    } finally {
      restore();
    }
  });
});
