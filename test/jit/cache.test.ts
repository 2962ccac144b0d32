// The signature cache: one trace per signature, explainMiss, static and donated arguments, the LRU bound,
// the retrace-storm warning, the method decorator, and the tracing footguns pinned down as behaviour.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jit, makeIR, matmul, Tensor, tensor, add, mul, relu, exp } from '../../src/index.js';
import { printFunction } from '../../src/ir/printer.js';
import { rand, expectClose, vals } from './helpers.js';

afterEach(() => vi.restoreAllMocks());

const layer = (inp: Tensor, weight: Tensor, bias: Tensor) => relu(add(matmul(inp, weight), bias));

describe('jit cache', () => {
  it('traces once for 100 calls with the same shapes, again for a new batch size', () => {
    const f = jit(layer);
    const w = rand([8, 4], 1), b = rand([4], 2, 0.1);
    for (let i = 0; i < 100; i++) f(rand([32, 8], 100 + (i % 3)), w, b);
    expect(f.stats()).toMatchObject({ traces: 1, misses: 1, hits: 99, entries: 1 });
    expect(f.stats().compileMs).toBeGreaterThanOrEqual(0);
    const x64 = rand([64, 8], 3);
    expect(f.explainMiss(x64, w, b)).toBe('jit(layer): argument 0 (inp): dimension 0 changed from 32 to 64');
    expectClose(f(x64, w, b), layer(x64, w, b));
    expect(f.stats()).toMatchObject({ traces: 2, entries: 2 });
    expect(f.explainMiss(x64, w, b)).toMatch(/no miss/);
  });

  it('explainMiss names dtype, rank, structure and static changes', () => {
    const f = jit((p: { w: Tensor; scale: number }, x: Tensor) => mul(matmul(x, p.w), p.scale));
    const w = rand([3, 2], 4);
    expect(f.explainMiss({ w, scale: 2 }, rand([5, 3], 5))).toMatch(/nothing is cached yet/);
    f({ w, scale: 2 }, rand([5, 3], 5));
    expect(f.explainMiss({ w, scale: 3 }, rand([5, 3], 5))).toMatch(/argument 0 \(p\)\.scale: static value changed from 2 to 3/);
    expect(f.explainMiss({ w, scale: 2 }, tensor([[1, 2, 3]], { dtype: 'int32' }))).toMatch(/argument 1 \(x\): dtype changed from float32 to int32; argument 1 \(x\): dimension 0 changed from 5 to 1/);
    expect(f.explainMiss({ w, scale: 2 }, rand([3], 6))).toMatch(/argument 1 \(x\): rank changed from 2 \(\[5,3\]\) to 1/);
    expect(f.explainMiss({ w, scale: 2, extra: 1 } as never, rand([5, 3], 5))).toMatch(/argument 0 \(p\): structure changed from an object \{w, scale\} to an object \{w, scale, extra\}/);
  });

  it('keys static arguments by value, tensors included, and passes them in as constants', () => {
    const f = jit((x: Tensor, mode: string, table: Tensor) => (mode === 'scale' ? mul(x, table) : add(x, table)), { static: ['table'] });
    const x = tensor([1, 2]);
    expect(vals(f(x, 'scale', tensor([3, 4])))).toEqual([3, 8]);
    expect(vals(f(x, 'scale', tensor([3, 4])))).toEqual([3, 8]);
    expect(f.stats().traces).toBe(1);
    expect(f.explainMiss(x, 'shift', tensor([3, 4]))).toMatch(/argument 1 \(mode\): static value changed from "scale" to "shift"/);
    expect(f.explainMiss(x, 'scale', tensor([3, 5]))).toMatch(/argument 2 \(table\) \[static\]: value changed/);
    expect(vals(f(x, 'shift', tensor([3, 5])))).toEqual([4, 7]);
    expect(f.stats().traces).toBe(2);
    expect(() => jit((a: Tensor) => a, { static: ['nope'] })).toThrow(/static argument 'nope' is not a parameter of .* \(parameters: a\)/);
  });

  it('bounds the cache (LRU) and warns once about a retrace storm', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const f = jit((x: Tensor) => exp(x), { maxEntries: 3 });
    for (let n = 1; n <= 12; n++) f(rand([n], n));
    expect(f.stats()).toMatchObject({ traces: 12, entries: 3 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/jit\(.*\) has traced 10 times .*explainMiss/);
    f(rand([12], 1)); // still cached: most recently used
    expect(f.stats().traces).toBe(12);
    f(rand([1], 1)); // evicted long ago
    expect(f.stats().traces).toBe(13);
  });

  it('works as a class-method decorator, with and without options', () => {
    class Scaler {
      constructor(readonly factor: number) {}
      @jit
      apply(x: Tensor) {
        return mul(x, this.factor);
      }
      @jit({ strict: true })
      twice(x: Tensor) {
        return add(x, x);
      }
    }
    const a = new Scaler(2), b = new Scaler(3);
    expect(vals(a.apply(tensor([1, 2])))).toEqual([2, 4]);
    expect(vals(b.apply(tensor([1, 2])))).toEqual([3, 6]); // the instance is part of the signature
    expect(vals(a.apply(tensor([5, 6])))).toEqual([10, 12]);
    expect((a.apply as unknown as { stats(): { traces: number; hits: number } }).stats()).toMatchObject({ traces: 2, hits: 1 });
    expect(vals(a.twice(tensor([1, 2])))).toEqual([2, 4]);
  });

  it('donates buffers: donated inputs are disposed after the call unless returned', () => {
    const step = jit((p: { w: Tensor }, g: Tensor) => ({ w: add(p.w, mul(g, -0.5)) }), { donate: ['p'] });
    const w = tensor([1, 2]);
    const g = tensor([2, 2]);
    const out = step({ w }, g);
    expect(vals(out.w)).toEqual([0, 1]);
    expect(w.isDisposed).toBe(true);
    expect(g.isDisposed).toBe(false);
    const same = jit((x: Tensor) => x, { donate: [0] });
    const y = tensor([1]);
    expect(same(y)).toBe(y);
    expect(y.isDisposed).toBe(false);
  });

  it('returns fresh output tensors on every call (no output buffer reuse across calls)', () => {
    const f = jit((x: Tensor) => mul(x, 2));
    const a = f(tensor([1, 2]));
    const b = f(tensor([3, 4]));
    expect(a).not.toBe(b);
    expect(vals(a)).toEqual([2, 4]);
    expect(vals(b)).toEqual([6, 8]);
  });

  it('freezes closed-over JS numbers at trace time (pass them as arguments to vary them)', () => {
    let scale = 2;
    const frozen = jit((x: Tensor) => mul(x, scale));
    expect(vals(frozen(tensor([1])))).toEqual([2]);
    scale = 3;
    expect(vals(frozen(tensor([1])))).toEqual([2]); // the documented footgun: no retrace for a closure
    const passed = jit((x: Tensor, s: number) => mul(x, s));
    expect(vals(passed(tensor([1]), 2))).toEqual([2]);
    expect(vals(passed(tensor([1]), 3))).toEqual([3]);
  });

  it('reads closed-over tensors at every call, so in-place parameter updates are seen', () => {
    const w = tensor([1, 2]);
    const s = tensor(3);
    const f = jit((x: Tensor) => mul(mul(x, w), s));
    expect(vals(f(tensor([1, 1])))).toEqual([3, 6]);
    w._assign(tensor([5, 6]));
    s._assign(tensor(10));
    expect(vals(f(tensor([1, 1])))).toEqual([50, 60]);
    expect(f.stats().traces).toBe(1);
  });

  it('inlines into an outer trace instead of compiling separately', () => {
    const inner = jit((x: Tensor) => mul(x, 3));
    const outer = jit((x: Tensor) => add(inner(x), 1));
    expect(vals(outer(tensor([1, 2])))).toEqual([4, 7]);
    expect(inner.stats().traces).toBe(0);
    expect(printFunction(makeIR(outer)(tensor([1, 2]))).trimEnd()).toBe(
      [
        'func @jitted(%arg0: f32[2]) -> (f32[2]) {',
        '  %0 = constant {dtype=f32, shape=[], value=[3]} : f32[]',
        '  %1 = broadcast %0 {dims=[], shape=[2]} : f32[2]',
        '  %2 = mul %arg0, %1 : f32[2]',
        '  %3 = constant {dtype=f32, shape=[], value=[1]} : f32[]',
        '  %4 = broadcast %3 {dims=[], shape=[2]} : f32[2]',
        '  %5 = add %2, %4 : f32[2]',
        '  return %5',
        '}',
      ].join('\n'),
    );
  });
});
