import { describe, expect, it } from 'vitest';
import { tensor, arange, reshape, zeros, formatTensor, jit, makeIR, Tensor } from '../../src/index.js';

describe('toString (NumPy style)', () => {
  it('int32 matrices: aligned columns, rows on their own lines, dtype suffix', () => {
    expect(String(tensor([[1, 2], [30, 4]], { dtype: 'int32' }))).toBe('tensor([[ 1,  2],\n        [30,  4]], dtype=int32)');
  });

  it('float32 is the default and has no suffix; integral floats end in "."', () => {
    expect(tensor([[1, 2], [3, 4]]).toString()).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(String(tensor(-2.5))).toBe('tensor(-2.5)');
  });

  it('the fewest decimals (up to 4) that reproduce the float32 values', () => {
    expect(String(tensor([0.1, 0.25, -3]))).toBe('tensor([ 0.10,  0.25, -3.00])');
    expect(String(tensor([1 / 3, 2]))).toBe('tensor([0.3333, 2.0000])');
    expect(String(tensor([0.5], { dtype: 'float64' }))).toBe('tensor([0.5], dtype=float64)');
  });

  it('scientific notation for very large or very small magnitudes', () => {
    expect(String(tensor([1e9, 1]))).toBe('tensor([1.0000e+9, 1.0000e+0])');
    expect(String(tensor([2e-6, 1]))).toMatch(/^tensor\(\[2\.0000e-6, 1\.0000e\+0\]\)$/);
  });

  it('nan and inf', () => {
    expect(String(tensor([1.5, NaN, -Infinity, Infinity]))).toBe('tensor([ 1.5,  nan, -inf,  inf])');
  });

  it('bools and 3-d blocks separated by a blank line', () => {
    expect(String(tensor([true, false]))).toBe('tensor([ true, false], dtype=bool)');
    expect(String(reshape(arange(8), [2, 2, 2]))).toBe(
      'tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]], dtype=int32)',
    );
  });

  it('empty tensors show their shape; scalars print bare', () => {
    expect(String(zeros([2, 0]))).toBe('tensor([[],\n        []], shape=[2,0])');
    expect(String(tensor(7, { dtype: 'int32' }))).toBe('tensor(7, dtype=int32)');
  });

  it('summarizes past 1000 elements with "..." (3 per side)', () => {
    expect(String(arange(2000))).toBe('tensor([   0,    1,    2, ..., 1997, 1998, 1999], dtype=int32)');
    const s = String(reshape(arange(1600), [40, 40]));
    expect(s.split('\n')).toHaveLength(7);
    expect(s).toContain('        ...,\n');
    expect(s.split('\n')[0]).toBe('tensor([[   0,    1,    2, ...,   37,   38,   39],');
  });

  it('template strings, formatTensor and util.inspect agree', async () => {
    const t = tensor([1, 2]);
    expect(`${t}`).toBe(formatTensor(t));
    const { inspect } = await import('node:util');
    expect(inspect(t)).toBe('tensor([1., 2.])');
  });

  it('traced tensors print as Tracer<type>; disposed ones say so', () => {
    let seen = '';
    makeIR((x: Tensor) => {
      seen = String(x.add(1));
      return x;
    })(tensor([[1, 2, 3], [4, 5, 6]]));
    expect(seen).toBe('Tracer<f32[2,3]>');
    const inner: string[] = [];
    jit((x: Tensor) => (inner.push(x.toString()), x.mul(2)))(tensor([1], { dtype: 'int32' }));
    expect(inner[0]).toBe('Tracer<i32[1]>');
    const d = tensor([1]);
    d.dispose();
    expect(String(d)).toBe('tensor(<disposed>, f32[1])');
  });
});
