import { describe, expect, it } from 'vitest';
import { dot, einsum, inner, matmul, outer, tensordot } from '../../src/frontend/ops/linalg.js';
import { tensor } from '../../src/frontend/convert.js';
import { KilnError } from '../../src/ir/error.js';
import { expectClose, forEachIndex, fromFlat, rand, strides } from './nn_test_util.js';

/** NumPy matmul by loops: 1-d promotion, broadcast batch dims. */
function naiveMatmul(a: number[], sa: number[], b: number[], sb: number[]): { v: number[]; shape: number[] } {
  const A = sa.length === 1 ? [1, sa[0]] : sa;
  const B = sb.length === 1 ? [sb[0], 1] : sb;
  const [n, k] = A.slice(-2);
  const m = B[B.length - 1];
  const ba = A.slice(0, -2);
  const bb = B.slice(0, -2);
  const nb = Math.max(ba.length, bb.length);
  const pad = (s: number[]) => [...new Array(nb - s.length).fill(1), ...s];
  const [pa, pb] = [pad(ba), pad(bb)];
  const batch = pa.map((d, i) => Math.max(d, pb[i]));
  const sA = strides(A);
  const sB = strides(B);
  const v: number[] = [];
  forEachIndex([...batch, n, m], (idx) => {
    const bi = idx.slice(0, nb);
    const offA = bi.slice(nb - ba.length).reduce((o, x, i) => o + (ba[i] === 1 ? 0 : x) * sA[i], 0);
    const offB = bi.slice(nb - bb.length).reduce((o, x, i) => o + (bb[i] === 1 ? 0 : x) * sB[i], 0);
    const [i, j] = idx.slice(nb);
    let s = 0;
    for (let p = 0; p < k; p++) s += a[offA + i * k + p] * b[offB + p * m + j];
    v.push(s);
  });
  const shape = [...batch, ...(sa.length > 1 ? [n] : []), ...(sb.length > 1 ? [m] : [])];
  return { v, shape };
}

describe('matmul', () => {
  const cases: [number[], number[]][] = [
    [[3, 4], [4, 5]],
    [[1, 1], [1, 1]],
    [[3, 4], [4]],
    [[4], [4, 5]],
    [[4], [4]],
    [[2, 3, 4], [4, 5]],
    [[2, 3, 4], [4]],
    [[4], [2, 4, 5]],
    [[3, 4], [2, 4, 5]],
    [[2, 3, 4], [2, 4, 5]],
    [[2, 1, 3, 4], [5, 4, 6]],
    [[1, 3, 4], [2, 2, 4, 5]],
  ];
  for (const [sa, sb] of cases) {
    it(`[${sa}] @ [${sb}] matches loops`, () => {
      const a = rand(sa, 11 + sa.length);
      const b = rand(sb, 23 + sb.length);
      const ref = naiveMatmul(a.v, sa, b.v, sb);
      expectClose(matmul(a.t, b.t), ref.v, ref.shape);
    });
  }

  it('is exact on int32 and keeps the dtype', () => {
    const a = tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    const b = tensor([[5, 6], [7, 8]], { dtype: 'int32' });
    const c = matmul(a, b);
    expect(c.dtype).toBe('int32');
    expect(c.tolist()).toEqual([[19, 22], [43, 50]]);
  });

  it('promotes dtypes and accepts nested arrays', () => {
    const c = matmul(tensor([[1, 2]], { dtype: 'int32' }), [[0.5], [0.25]]);
    expect(c.dtype).toBe('float32');
    expect(c.tolist()).toEqual([[1]]);
  });

  it('gives zeros for an empty inner dimension and empty results for empty batches', () => {
    const z = matmul(fromFlat([], [3, 0]), fromFlat([], [0, 5]));
    expectClose(z, new Array(15).fill(0), [3, 5]);
    expect(matmul(fromFlat([], [0, 3, 4]), rand([4, 2], 3).t).shape).toEqual([0, 3, 2]);
  });

  it('is available as a method', () => {
    const a = rand([2, 3], 5);
    const b = rand([3, 2], 6);
    expectClose(a.t.matmul(b.t), naiveMatmul(a.v, [2, 3], b.v, [3, 2]).v, [2, 2]);
  });

  it('names the shapes in its errors', () => {
    const f = (sa: number[], sb: number[]) => () => matmul(rand(sa, 1).t, rand(sb, 2).t);
    expect(f([3, 4], [5, 6])).toThrow(KilnError);
    expect(f([3, 4], [5, 6])).toThrow('matmul: f32[3,4] @ f32[5,6]: inner dimensions 4 and 5 differ');
    expect(f([3], [4])).toThrow('matmul: f32[3] @ f32[4]: inner dimensions 3 and 4 differ');
    expect(f([2, 3, 4], [3, 4, 5])).toThrow('matmul: f32[2,3,4] @ f32[3,4,5]: batch dimensions [2] and [3] cannot be broadcast together');
    expect(() => matmul(tensor(2), tensor([1, 2]))).toThrow('matmul: f32[] @ f32[2]: operands need at least one dimension');
    expect(() => matmul(tensor([true]), tensor([true]))).toThrow('matmul: bool[1] @ bool[1]: expects numeric operands');
  });
});

describe('dot, inner, tensordot, outer', () => {
  it('dot follows NumPy: last axis of a with second-to-last of b, no broadcasting', () => {
    const a = rand([2, 3, 4], 1);
    const b = rand([5, 4, 2], 2);
    const expected: number[] = [];
    forEachIndex([2, 3, 5, 2], ([i, j, p, q]) => {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a.v[(i * 3 + j) * 4 + k] * b.v[(p * 4 + k) * 2 + q];
      expected.push(s);
    });
    expectClose(dot(a.t, b.t), expected, [2, 3, 5, 2]);
    expectClose(a.t.dot(b.t), expected, [2, 3, 5, 2]);
  });

  it('dot of vectors is a scalar and of a scalar is a product', () => {
    expectClose(dot([1, 2, 3], [4, 5, 6]), [32], []);
    expectClose(dot(tensor(2), [4, 5]), [8, 10], [2]);
    expect(() => dot(rand([2, 3], 1).t, rand([4, 5], 2).t)).toThrow('dot: f32[2,3], f32[4,5]: contracted dimensions 3 and 4 differ');
  });

  it('inner contracts the last axes', () => {
    const a = rand([2, 3], 3);
    const b = rand([4, 3], 4);
    const expected: number[] = [];
    forEachIndex([2, 4], ([i, j]) => expected.push([0, 1, 2].reduce((s, k) => s + a.v[i * 3 + k] * b.v[j * 3 + k], 0)));
    expectClose(inner(a.t, b.t), expected, [2, 4]);
  });

  it('tensordot with a count and with explicit axes', () => {
    const a = rand([2, 3, 4], 5);
    const b = rand([3, 4, 2], 6);
    const expected: number[] = [];
    forEachIndex([2, 2], ([i, q]) => {
      let s = 0;
      for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) s += a.v[(i * 3 + j) * 4 + k] * b.v[(j * 4 + k) * 2 + q];
      expected.push(s);
    });
    expectClose(tensordot(a.t, b.t), expected, [2, 2]);
    expectClose(tensordot(a.t, b.t, { axes: [[1, 2], [0, 1]] }), expected, [2, 2]);
    expectClose(tensordot(a.t, b.t, { axes: [[-2, -1], [0, -2]] }), expected, [2, 2]);
    expect(() => tensordot(a.t, b.t, { axes: [[0], [0]] })).toThrow('tensordot: f32[2,3,4], f32[3,4,2]: contracted dimensions 2 (axis 0) and 3 (axis 0) differ');
  });

  it('outer multiplies every pair (inputs flattened)', () => {
    expect(outer([1, 2, 3], [[1, 10]]).tolist()).toEqual([[1, 10], [2, 20], [3, 30]]);
    expect(tensor([2, 3]).outer([1, -1]).tolist()).toEqual([[2, -2], [3, -3]]);
  });
});

describe('einsum', () => {
  const a = rand([3, 4], 31);
  const b = rand([4, 5], 32);
  const mm = naiveMatmul(a.v, [3, 4], b.v, [4, 5]);

  it('ij,jk->ik and the implicit ij,jk are matmul', () => {
    expectClose(einsum('ij,jk->ik', a.t, b.t), mm.v, [3, 5]);
    expectClose(einsum('ij,jk', a.t, b.t), mm.v, [3, 5]);
    expectClose(einsum(' i j , j k -> i k ', a.t, b.t), mm.v, [3, 5]);
  });

  it('ij,jk->ki transposes the product', () => {
    const t: number[] = [];
    forEachIndex([5, 3], ([k, i]) => t.push(mm.v[i * 5 + k]));
    expectClose(einsum('ij,jk->ki', a.t, b.t), t, [5, 3]);
  });

  it('bij,bjk->bik is a batched matmul', () => {
    const x = rand([2, 3, 4], 33);
    const y = rand([2, 4, 5], 34);
    expectClose(einsum('bij,bjk->bik', x.t, y.t), naiveMatmul(x.v, [2, 3, 4], y.v, [2, 4, 5]).v, [2, 3, 5]);
  });

  it('bhqd,bhkd->bhqk is attention scores', () => {
    const q = rand([2, 3, 4, 5], 35);
    const k = rand([2, 3, 6, 5], 36);
    const expected: number[] = [];
    forEachIndex([2, 3, 4, 6], ([bb, h, i, j]) => {
      let s = 0;
      for (let d = 0; d < 5; d++) s += q.v[((bb * 3 + h) * 4 + i) * 5 + d] * k.v[((bb * 3 + h) * 6 + j) * 5 + d];
      expected.push(s);
    });
    expectClose(einsum('bhqd,bhkd->bhqk', q.t, k.t), expected, [2, 3, 4, 6]);
  });

  it('single-operand forms: transpose, sums, diagonal, trace', () => {
    const t: number[] = [];
    forEachIndex([4, 3], ([j, i]) => t.push(a.v[i * 4 + j]));
    expectClose(einsum('ij->ji', a.t), t, [4, 3]);
    expectClose(einsum('ba', a.t), t, [4, 3]); // implicit output sorts the labels
    expectClose(einsum('ij->', a.t), [a.v.reduce((s, x) => s + x, 0)], []);
    expectClose(einsum('ij->j', a.t), [0, 1, 2, 3].map((j) => a.v[j] + a.v[4 + j] + a.v[8 + j]), [4]);
    expectClose(einsum('ij->ij', a.t), a.v, [3, 4]);
    const sq = rand([3, 3], 37);
    expectClose(einsum('ii->i', sq.t), [sq.v[0], sq.v[4], sq.v[8]], [3]);
    expectClose(einsum('ii', sq.t), [sq.v[0] + sq.v[4] + sq.v[8]], []);
  });

  it('vector forms: i,i->, ij,j->i, i,j->ij', () => {
    const u = rand([4], 38);
    const w = rand([4], 39);
    expectClose(einsum('i,i->', u.t, w.t), [u.v.reduce((s, x, i) => s + x * w.v[i], 0)], []);
    expectClose(einsum('ij,j->i', a.t, u.t), naiveMatmul(a.v, [3, 4], u.v, [4]).v, [3]);
    const o: number[] = [];
    forEachIndex([4, 4], ([i, j]) => o.push(u.v[i] * w.v[j]));
    expectClose(einsum('i,j->ij', u.t, w.t), o, [4, 4]);
  });

  it('sums labels private to one operand before contracting', () => {
    // 'ij,jk->i' = sum_j a_ij * (sum_k b_jk)
    const rowSums = [0, 1, 2, 3].map((j) => [0, 1, 2, 3, 4].reduce((s, k) => s + b.v[j * 5 + k], 0));
    expectClose(einsum('ij,jk->i', a.t, b.t), [0, 1, 2].map((i) => [0, 1, 2, 3].reduce((s, j) => s + a.v[i * 4 + j] * rowSums[j], 0)), [3]);
  });

  it('three operands contract left to right', () => {
    const c = rand([5, 2], 40);
    const ab = naiveMatmul(a.v, [3, 4], b.v, [4, 5]);
    expectClose(einsum('ij,jk,kl->il', a.t, b.t, c.t), naiveMatmul(ab.v, [3, 5], c.v, [5, 2]).v, [3, 2], { atol: 1e-5, rtol: 1e-4 });
  });

  it('ellipsis broadcasts leading dims', () => {
    const x = rand([2, 1, 3, 4], 41);
    const y = rand([5, 4, 2], 42);
    const ref = naiveMatmul(x.v, [2, 1, 3, 4], y.v, [5, 4, 2]);
    expectClose(einsum('...ij,...jk->...ik', x.t, y.t), ref.v, ref.shape);
    expectClose(einsum('...ij,...jk', x.t, y.t), ref.v, ref.shape);
  });

  it('reports malformed specs clearly', () => {
    expect(() => einsum('ij,jk->ik', a.t)).toThrow("einsum: 'ij,jk->ik': has 2 input term(s) but 1 operand(s) were given");
    expect(() => einsum('ijk->i', a.t)).toThrow("einsum: 'ijk->i': term 0 ('ijk') names 3 axes but operand 0 is f32[3,4]");
    expect(() => einsum('ij,kj->ik', a.t, b.t)).toThrow("einsum: 'ij,kj->ik': label j has size 5 in operand 1 f32[4,5] but 4 in operand 0 f32[3,4]");
    expect(() => einsum('ij->iz', a.t)).toThrow("einsum: 'ij->iz': output label z does not appear in any input");
    expect(() => einsum('ij->ii', a.t)).toThrow("einsum: 'ij->ii': output label i appears more than once");
    expect(() => einsum('i2->i', a.t)).toThrow("einsum: 'i2->i': term 0 ('i2') has '2'");
    expect(() => einsum('ii->i', a.t)).toThrow("einsum: 'ii->i': label i has size 4 in operand 0 f32[3,4] but 3 in operand 0 f32[3,4]");
  });
});
