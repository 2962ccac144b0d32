import { describe, expect, it } from 'vitest';
import { randomKey, splitKey, manualSeed, rand, randn, randint, bernoulli, permutation, randomBits, tensor, jit, Tensor } from '../../src/index.js';
import { randomBits as hostBits } from '../../src/ir/threefry.js';
import { expectClose, expectKilnError } from './api_helpers.js';

const words = (key: Tensor) => Array.from(key.dataSync());
function stats(xs: ArrayLike<number>): { mean: number; std: number } {
  const a = Array.from(xs);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return { mean, std: Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length) };
}

describe('keys', () => {
  it('randomKey packs the seed into int32[2] (high word, low word)', () => {
    const k = randomKey(5);
    expect(k.dtype).toBe('int32');
    expect(k.shape).toEqual([2]);
    expect(words(k)).toEqual([0, 5]);
    expect(words(randomKey(2 ** 32 + 3))).toEqual([1, 3]);
    expectKilnError(() => randomKey(1.5), 'randomKey', /integer/);
  });

  it('splitKey gives n distinct keys from the random_bits words of the key', () => {
    const key = randomKey(42);
    const ks = splitKey(key, 3);
    expect(ks.length).toBe(3);
    const expected = new Int32Array(6);
    hostBits(0, 42, expected);
    expect(ks.map(words)).toEqual([[expected[0], expected[1]], [expected[2], expected[3]], [expected[4], expected[5]]]);
    expect(new Set(ks.map((k) => words(k).join(','))).size).toBe(3);
    expect(splitKey(key).map(words)).toEqual(ks.slice(0, 2).map(words)); // default n = 2, deterministic
  });

  it('rejects malformed keys and counts', () => {
    expectKilnError(() => splitKey(tensor([1, 2]), 2), 'splitKey', /int32\[2\]/, /f32\[2\]/);
    expectKilnError(() => splitKey(randomKey(1), 0), 'splitKey', /positive/);
    expectKilnError(() => rand([2], { key: tensor([1, 2, 3], { dtype: 'int32' }) }), 'rand', /i32\[3\]/);
  });
});

describe('uniform draws', () => {
  it('rand is the low 24 bits of the random words scaled by 2^-24', () => {
    const key = randomKey(7);
    const bits = new Int32Array(10);
    hostBits(0, 7, bits);
    const u = rand([2, 5], { key });
    expect(u.dtype).toBe('float32');
    expect(u.shape).toEqual([2, 5]);
    expectClose(u, Array.from(bits, (b) => (b & 0xffffff) * 2 ** -24), 0);
    expect(Array.from(randomBits([10], { key }).dataSync())).toEqual(Array.from(bits));
  });

  it('same key, same numbers; different keys, different numbers', () => {
    const a = rand([64], { key: randomKey(3) }).dataSync();
    expect(rand([64], { key: randomKey(3) }).dataSync()).toEqual(a);
    expect(rand([64], { key: randomKey(4) }).dataSync()).not.toEqual(a);
  });

  it('values lie in [0, 1) with mean ~0.5 and std ~sqrt(1/12)', () => {
    const u = rand([4096], { key: randomKey(11) }).dataSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const s = stats(u);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(s.std - Math.sqrt(1 / 12))).toBeLessThan(0.02);
  });

  it('size-0 and scalar shapes', () => {
    expect(rand([0, 3], { key: randomKey(1) }).shape).toEqual([0, 3]);
    expect(rand([], { key: randomKey(1) }).shape).toEqual([]);
  });
});

describe('derived distributions', () => {
  it('randn: standard normal moments, finite values', () => {
    const z = randn([4096], { key: randomKey(5) }).dataSync();
    expect(z.every(Number.isFinite)).toBe(true);
    const s = stats(z);
    expect(Math.abs(s.mean)).toBeLessThan(0.06);
    expect(Math.abs(s.std - 1)).toBeLessThan(0.05);
    expect(randn([3], { key: randomKey(5) }).dataSync()).toEqual(randn([3], { key: randomKey(5) }).dataSync());
  });

  it('randint covers [low, high) and nothing else', () => {
    const r = randint(-2, 3, [500], { key: randomKey(9) });
    expect(r.dtype).toBe('int32');
    expect([...new Set(r.dataSync())].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
    expectKilnError(() => randint(3, 3, [2]), 'randint', /low < high/);
    expectKilnError(() => randint(0, 2.5, [2]), 'randint');
  });

  it('bernoulli: bools true with probability p', () => {
    const b = bernoulli(0.25, [4000], { key: randomKey(2) });
    expect(b.dtype).toBe('bool');
    const frac = Array.from(b.dataSync()).reduce((s, v) => s + v, 0) / 4000;
    expect(Math.abs(frac - 0.25)).toBeLessThan(0.03);
    expect(bernoulli(0, [50], { key: randomKey(2) }).dataSync().every((v) => v === 0)).toBe(true);
    expect(bernoulli(1, [50], { key: randomKey(2) }).dataSync().every((v) => v === 1)).toBe(true);
    expectKilnError(() => bernoulli(1.5, [2]), 'bernoulli', /\[0, 1\]/);
  });

  it('permutation is a shuffle of 0..n-1, reproducible by key', () => {
    const p = permutation(20, { key: randomKey(8) });
    expect(p.dtype).toBe('int32');
    const v = Array.from(p.dataSync());
    expect([...v].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(v).not.toEqual([...Array(20).keys()]);
    expect(Array.from(permutation(20, { key: randomKey(8) }).dataSync())).toEqual(v);
    expect(permutation(0).shape).toEqual([0]);
    expectKilnError(() => permutation(-1), 'permutation');
  });
});

describe('the global seed stream', () => {
  it('manualSeed makes eager draws reproducible, and each draw advances the stream', () => {
    manualSeed(123);
    const a = rand([8]).dataSync();
    const b = rand([8]).dataSync();
    expect(b).not.toEqual(a);
    manualSeed(123);
    expect(rand([8]).dataSync()).toEqual(a);
    expect(rand([8]).dataSync()).toEqual(b);
    manualSeed(124);
    expect(rand([8]).dataSync()).not.toEqual(a);
  });

  it('the stream is splitKey of a host-side key: the first draw uses word pair 1 of split(randomKey(seed))', () => {
    manualSeed(77);
    const [, use] = splitKey(randomKey(77), 2);
    expect(rand([5]).dataSync()).toEqual(rand([5], { key: use }).dataSync());
  });

  it('inside jit, a draw needs an explicit key (the stream would be frozen into the trace)', () => {
    const bad = jit((x: Tensor) => x.add(rand([3])));
    expectKilnError(() => bad(tensor([1, 2, 3])), /explicit \{key\}/);
    // The failed trace left the global stream usable.
    manualSeed(5);
    expect(rand([2]).isTraced).toBe(false);
  });

  it('with the key as an input, jitted draws equal eager ones and change with the key', () => {
    const f = jit((key: Tensor) => randn([6], { key }));
    const k1 = randomKey(10);
    const k2 = randomKey(11);
    expectClose(f(k1), Array.from(randn([6], { key: k1 }).dataSync()), 1e-5);
    expectClose(f(k2), Array.from(randn([6], { key: k2 }).dataSync()), 1e-5);
    expectKilnError(() => jit((x: Tensor) => permutation(3, { key: x }))(randomKey(1)), 'permutation', /jit/);
  });
});
