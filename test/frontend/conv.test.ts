import { describe, expect, it } from 'vitest';
import {
  adaptiveAvgPool2d, adaptiveMaxPool2d, avgPool1d, avgPool2d, conv1d, conv2d, convTranspose1d, convTranspose2d, maxPool1d, maxPool2d,
} from '../../src/frontend/ops/conv.js';
import { tensor } from '../../src/frontend/convert.js';
import { dotProduct, expectClose, forEachIndex, rand } from './nn_test_util.js';

type Pair = [number, number];
interface Conv2dRef {
  stride?: Pair;
  pad?: [Pair, Pair];
  dil?: Pair;
  groups?: number;
}

/** conv2d by its definition (cross-correlation, zero padding, grouped channels). */
function naiveConv2d(x: number[], [N, C, H, W]: number[], w: number[], [O, Cg, kh, kw]: number[], o: Conv2dRef = {}) {
  const [sh, sw] = o.stride ?? [1, 1];
  const [[pt, pb], [pl, pr]] = o.pad ?? [[0, 0], [0, 0]];
  const [dh, dw] = o.dil ?? [1, 1];
  const groups = o.groups ?? 1;
  const Ho = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const v: number[] = [];
  forEachIndex([N, O, Ho, Wo], ([n, oc, i, j]) => {
    const g = Math.floor(oc / (O / groups));
    let s = 0;
    for (let c = 0; c < Cg; c++) {
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          const y = i * sh - pt + a * dh;
          const z = j * sw - pl + b * dw;
          if (y < 0 || y >= H || z < 0 || z >= W) continue;
          s += x[((n * C + g * Cg + c) * H + y) * W + z] * w[((oc * Cg + c) * kh + a) * kw + b];
        }
      }
    }
    v.push(s);
  });
  return { v, shape: [N, O, Ho, Wo] };
}

/** convTranspose2d by its definition: every input element scatters a scaled kernel into the output. */
function naiveConvTranspose2d(x: number[], [N, Cin, H, W]: number[], w: number[], [, CoutG, kh, kw]: number[], o: { stride?: Pair; pad?: Pair; outPad?: Pair; dil?: Pair; groups?: number } = {}) {
  const [sh, sw] = o.stride ?? [1, 1];
  const [ph, pw] = o.pad ?? [0, 0];
  const [oh, ow] = o.outPad ?? [0, 0];
  const [dh, dw] = o.dil ?? [1, 1];
  const groups = o.groups ?? 1;
  const Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1;
  const Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1;
  const Cout = CoutG * groups;
  const v = new Array<number>(N * Cout * Ho * Wo).fill(0);
  forEachIndex([N, Cin, H, W], ([n, ci, i, j]) => {
    const g = Math.floor(ci / (Cin / groups));
    for (let co = 0; co < CoutG; co++) {
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          const y = i * sh - ph + a * dh;
          const z = j * sw - pw + b * dw;
          if (y < 0 || y >= Ho || z < 0 || z >= Wo) continue;
          v[((n * Cout + g * CoutG + co) * Ho + y) * Wo + z] += x[((n * Cin + ci) * H + i) * W + j] * w[((ci * CoutG + co) * kh + a) * kw + b];
        }
      }
    }
  });
  return { v, shape: [N, Cout, Ho, Wo] };
}

describe('conv2d', () => {
  const cases: { name: string; xs: number[]; ws: number[]; opts: Parameters<typeof conv2d>[2]; ref: Conv2dRef }[] = [
    { name: 'plain', xs: [2, 3, 6, 5], ws: [4, 3, 3, 3], opts: {}, ref: {} },
    { name: 'stride 2, padding 1', xs: [1, 2, 7, 6], ws: [3, 2, 3, 3], opts: { stride: 2, padding: 1 }, ref: { stride: [2, 2], pad: [[1, 1], [1, 1]] } },
    { name: 'per-dim stride/padding', xs: [1, 2, 7, 6], ws: [3, 2, 3, 2], opts: { stride: [2, 1], padding: [0, 2] }, ref: { stride: [2, 1], pad: [[0, 0], [2, 2]] } },
    { name: 'asymmetric padding pairs', xs: [1, 1, 5, 5], ws: [2, 1, 2, 3], opts: { padding: [[1, 0], [0, 2]] }, ref: { pad: [[1, 0], [0, 2]] } },
    { name: 'dilation 2', xs: [1, 2, 8, 7], ws: [2, 2, 3, 2], opts: { dilation: 2, padding: 1 }, ref: { dil: [2, 2], pad: [[1, 1], [1, 1]] } },
    { name: 'groups 2', xs: [2, 4, 5, 5], ws: [6, 2, 3, 3], opts: { groups: 2, padding: 1 }, ref: { groups: 2, pad: [[1, 1], [1, 1]] } },
    { name: 'depthwise', xs: [1, 3, 5, 4], ws: [3, 1, 3, 3], opts: { groups: 3, stride: 2 }, ref: { groups: 3, stride: [2, 2] } },
    { name: "'same' with an even kernel", xs: [1, 2, 5, 6], ws: [2, 2, 4, 2], opts: { padding: 'same' }, ref: { pad: [[1, 2], [0, 1]] } },
    { name: "'same' with dilation", xs: [1, 1, 6, 6], ws: [1, 1, 3, 3], opts: { padding: 'same', dilation: 2 }, ref: { pad: [[2, 2], [2, 2]], dil: [2, 2] } },
    { name: "'valid'", xs: [1, 2, 4, 4], ws: [1, 2, 2, 2], opts: { padding: 'valid' }, ref: {} },
  ];
  for (const c of cases) {
    it(`matches the definition: ${c.name}`, () => {
      const x = rand(c.xs, 101);
      const w = rand(c.ws, 102);
      const ref = naiveConv2d(x.v, c.xs, w.v, c.ws, c.ref);
      expectClose(conv2d(x.t, w.t, c.opts), ref.v, ref.shape);
    });
  }

  it('adds a per-channel bias and takes unbatched input', () => {
    const x = rand([2, 4, 4], 103);
    const w = rand([3, 2, 3, 3], 104);
    const bias = [0.5, -1.5, 2];
    const ref = naiveConv2d(x.v, [1, 2, 4, 4], w.v, [3, 2, 3, 3], { pad: [[1, 1], [1, 1]] });
    const expected = ref.v.map((v, i) => v + bias[Math.floor(i / 16)]);
    expectClose(conv2d(x.t, w.t, { padding: 1, bias }), expected, [3, 4, 4]);
  });

  it('convolves ints as float32', () => {
    const x = tensor([[[[1, 2], [3, 4]]]], { dtype: 'int32' });
    const y = conv2d(x, [[[[1, 1], [1, 1]]]]);
    expect(y.dtype).toBe('float32');
    expect(y.tolist()).toEqual([[[[10]]]]);
  });

  it('reports bad shapes and options', () => {
    const x = rand([1, 3, 8, 8], 1).t;
    expect(() => conv2d(x, rand([4, 2, 3, 3], 2).t)).toThrow('conv2d: f32[1,3,8,8] * f32[4,2,3,3]: weight expects 2 input channels (2 x 1 groups), input has 3');
    expect(() => conv2d(x, rand([4, 1, 3, 3], 2).t, { groups: 2 })).toThrow('conv2d: f32[1,3,8,8] * f32[4,1,3,3]: groups 2 must divide input channels 3 and output channels 4');
    expect(() => conv2d(x, rand([4, 3, 3], 2).t)).toThrow('conv2d: f32[1,3,8,8] * f32[4,3,3]: weight must be [out_channels, in_channels/groups, kH, kW]');
    expect(() => conv2d(rand([8, 8], 1).t, rand([4, 3, 3, 3], 2).t)).toThrow('conv2d: expects input [N, C, H, W] or [C, H, W], got f32[8,8]');
    expect(() => conv2d(x, rand([4, 3, 3, 3], 2).t, { padding: 'same', stride: 2 })).toThrow("conv2d: padding 'same' needs stride 1, got stride [2,2]");
    expect(() => conv2d(x, rand([4, 3, 9, 3], 2).t)).toThrow('conv2d: f32[1,3,8,8] * f32[4,3,9,3]: kernel extent 9 is larger than the padded input size 8 on spatial dim 0');
    expect(() => conv2d(x, rand([4, 3, 3, 3], 2).t, { stride: 0 })).toThrow('conv2d: stride must be an integer >= 1');
    expect(() => conv2d(x, rand([4, 3, 3, 3], 2).t, { bias: [1, 2] })).toThrow('conv2d: bias must be [4] (one per output channel), got f32[2]');
  });
});

describe('conv1d', () => {
  it('matches conv2d on a height-1 image', () => {
    const x = rand([2, 3, 9], 111);
    const w = rand([4, 3, 3], 112);
    const ref = naiveConv2d(x.v, [2, 3, 1, 9], w.v, [4, 3, 1, 3], { stride: [1, 2], pad: [[0, 0], [1, 1]], dil: [1, 2] });
    expectClose(conv1d(x.t, w.t, { stride: 2, padding: 1, dilation: 2 }), ref.v, [2, 4, ref.shape[3]]);
  });
});

describe('convTranspose2d', () => {
  const cases: { name: string; xs: number[]; ws: number[]; opts: Parameters<typeof convTranspose2d>[2]; ref: Parameters<typeof naiveConvTranspose2d>[4] }[] = [
    { name: 'plain', xs: [2, 3, 4, 3], ws: [3, 2, 3, 3], opts: {}, ref: {} },
    { name: 'stride 2', xs: [1, 2, 3, 4], ws: [2, 3, 3, 2], opts: { stride: 2 }, ref: { stride: [2, 2] } },
    { name: 'stride, padding, outputPadding', xs: [1, 2, 3, 3], ws: [2, 2, 3, 3], opts: { stride: [2, 3], padding: 1, outputPadding: [1, 2] }, ref: { stride: [2, 3], pad: [1, 1], outPad: [1, 2] } },
    { name: 'dilation', xs: [1, 1, 4, 4], ws: [1, 2, 2, 3], opts: { dilation: [2, 1], padding: [1, 0] }, ref: { dil: [2, 1], pad: [1, 0] } },
    { name: 'groups', xs: [1, 4, 3, 3], ws: [4, 3, 2, 2], opts: { groups: 2, stride: 2 }, ref: { groups: 2, stride: [2, 2] } },
    { name: 'padding beyond the kernel (crops the result)', xs: [1, 1, 5, 5], ws: [1, 1, 2, 2], opts: { stride: 2, padding: 2 }, ref: { stride: [2, 2], pad: [2, 2] } },
  ];
  for (const c of cases) {
    it(`matches the definition: ${c.name}`, () => {
      const x = rand(c.xs, 201);
      const w = rand(c.ws, 202);
      const ref = naiveConvTranspose2d(x.v, c.xs, w.v, c.ws, c.ref);
      expectClose(convTranspose2d(x.t, w.t, c.opts), ref.v, ref.shape);
    });
  }

  const adjoint: { xs: number[]; ws: number[]; stride: number; padding: number; dilation: number; groups: number }[] = [
    { xs: [2, 3, 7, 6], ws: [4, 3, 3, 3], stride: 1, padding: 1, dilation: 1, groups: 1 },
    { xs: [1, 4, 8, 7], ws: [6, 2, 3, 2], stride: 2, padding: 1, dilation: 1, groups: 2 },
    { xs: [1, 2, 9, 9], ws: [2, 2, 2, 3], stride: 3, padding: 0, dilation: 2, groups: 1 },
  ];
  for (const c of adjoint) {
    it(`is the adjoint of conv2d: <conv(x), y> = <x, convT(y)> (stride ${c.stride}, dilation ${c.dilation}, groups ${c.groups})`, () => {
      const x = rand(c.xs, 301, 'float64');
      const w = rand(c.ws, 302, 'float64');
      const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
      const cx = conv2d(x.t, w.t, opts);
      const y = rand(cx.shape, 303, 'float64');
      // outputPadding recovers the input size the strided conv rounded away.
      const outputPadding = [2, 3].map((d) => {
        const full = (cx.shape[d] - 1) * c.stride - 2 * c.padding + c.dilation * (c.ws[d] - 1) + 1;
        return c.xs[d] - full;
      });
      const ty = convTranspose2d(y.t, w.t, { ...opts, outputPadding });
      expect([...ty.shape]).toEqual(c.xs);
      const lhs = dotProduct(cx.dataSync(), y.v);
      const rhs = dotProduct(x.v, ty.dataSync());
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9 * Math.max(1, Math.abs(lhs)));
    });
  }

  it('convTranspose1d matches the 2-d version on a height-1 image', () => {
    const x = rand([1, 2, 5], 211);
    const w = rand([2, 3, 3], 212);
    const ref = naiveConvTranspose2d(x.v, [1, 2, 1, 5], w.v, [2, 3, 1, 3], { stride: [1, 2], pad: [0, 1], outPad: [0, 1] });
    expectClose(convTranspose1d(x.t, w.t, { stride: 2, padding: 1, outputPadding: 1 }), ref.v, [1, 3, ref.shape[3]]);
  });

  it('reports bad options', () => {
    const x = rand([1, 2, 4, 4], 1).t;
    expect(() => convTranspose2d(x, rand([3, 2, 3, 3], 2).t)).toThrow('convTranspose2d: f32[1,2,4,4] * f32[3,2,3,3]: weight expects 3 input channels, input has 2');
    expect(() => convTranspose2d(x, rand([2, 2, 3, 3], 2).t, { stride: 2, outputPadding: 2 })).toThrow('convTranspose2d: outputPadding 2 must be smaller than stride 2 or dilation 1 on spatial dim 0');
  });
});

/** Pooling by definition over the two trailing dims; padding is -inf (max) or 0 (sum). */
function naivePool2d(x: number[], shape: number[], k: Pair, s: Pair, p: Pair, kind: 'max' | 'avg', countIncludePad = true) {
  const [H, W] = shape.slice(-2);
  const lead = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const Ho = Math.floor((H + 2 * p[0] - k[0]) / s[0]) + 1;
  const Wo = Math.floor((W + 2 * p[1] - k[1]) / s[1]) + 1;
  const v: number[] = [];
  forEachIndex([lead, Ho, Wo], ([l, i, j]) => {
    let acc = kind === 'max' ? -Infinity : 0;
    let count = 0;
    for (let a = 0; a < k[0]; a++) {
      for (let b = 0; b < k[1]; b++) {
        const y = i * s[0] - p[0] + a;
        const z = j * s[1] - p[1] + b;
        if (y < 0 || y >= H || z < 0 || z >= W) continue;
        const val = x[(l * H + y) * W + z];
        acc = kind === 'max' ? Math.max(acc, val) : acc + val;
        count++;
      }
    }
    v.push(kind === 'max' ? acc : acc / (countIncludePad ? k[0] * k[1] : count));
  });
  return { v, shape: [...shape.slice(0, -2), Ho, Wo] };
}

describe('pooling', () => {
  const x = rand([2, 3, 7, 6], 401);

  it('maxPool2d: default stride = kernel, explicit stride and padding', () => {
    let ref = naivePool2d(x.v, x.t.shape as number[], [2, 2], [2, 2], [0, 0], 'max');
    expectClose(maxPool2d(x.t, 2), ref.v, ref.shape);
    ref = naivePool2d(x.v, x.t.shape as number[], [3, 2], [2, 1], [1, 1], 'max');
    expectClose(maxPool2d(x.t, [3, 2], { stride: [2, 1], padding: 1 }), ref.v, ref.shape);
  });

  it('avgPool2d counts padding by default and not when asked', () => {
    let ref = naivePool2d(x.v, x.t.shape as number[], [3, 3], [2, 2], [1, 1], 'avg', true);
    expectClose(avgPool2d(x.t, 3, { stride: 2, padding: 1 }), ref.v, ref.shape);
    ref = naivePool2d(x.v, x.t.shape as number[], [3, 3], [2, 2], [1, 1], 'avg', false);
    expectClose(avgPool2d(x.t, 3, { stride: 2, padding: 1, countIncludePad: false }), ref.v, ref.shape);
    ref = naivePool2d(x.v, x.t.shape as number[], [2, 2], [2, 2], [0, 0], 'avg');
    expectClose(avgPool2d(x.t, 2, { divisorOverride: 2 }), ref.v.map((v) => v * 2), ref.shape);
  });

  it('1-d pools and unbatched input', () => {
    const y = rand([2, 9], 402);
    const ref = naivePool2d(y.v, [2, 1, 9], [1, 3], [1, 2], [0, 1], 'max');
    expectClose(maxPool1d(y.t, 3, { stride: 2, padding: 1 }), ref.v, [2, ref.shape[2]]);
    const avg = naivePool2d(y.v, [2, 1, 9], [1, 3], [1, 3], [0, 0], 'avg');
    expectClose(avgPool1d(y.t, 3), avg.v, [2, 3]);
  });

  it('adaptive pools reduce divisible sizes and refuse others', () => {
    const z = rand([1, 2, 6, 4], 403);
    const ref = naivePool2d(z.v, [1, 2, 6, 4], [3, 2], [3, 2], [0, 0], 'avg');
    expectClose(adaptiveAvgPool2d(z.t, [2, 2]), ref.v, [1, 2, 2, 2]);
    const glob = naivePool2d(z.v, [1, 2, 6, 4], [6, 4], [6, 4], [0, 0], 'avg');
    expectClose(adaptiveAvgPool2d(z.t, 1), glob.v, [1, 2, 1, 1]);
    const mx = naivePool2d(z.v, [1, 2, 6, 4], [2, 4], [2, 4], [0, 0], 'max');
    expectClose(adaptiveMaxPool2d(z.t, [3, 1]), mx.v, [1, 2, 3, 1]);
    expect(adaptiveAvgPool2d(z.t, [3, null]).shape).toEqual([1, 2, 3, 4]);
    expect(() => adaptiveAvgPool2d(z.t, 4)).toThrow('adaptiveAvgPool2d: input size 6 of f32[1,2,6,4] is not divisible by output size 4 on spatial dim 0 (only evenly dividing sizes are supported)');
  });

  it('reports bad windows', () => {
    expect(() => maxPool2d(x.t, 3, { padding: 2 })).toThrow('maxPool2d: padding 2 must be at most half the kernel size 3');
    expect(() => maxPool2d(x.t, 8)).toThrow('maxPool2d: kernel 8 is larger than the padded input size 7 of f32[2,3,7,6] on spatial dim 0');
    expect(() => maxPool2d(rand([4], 1).t, 2)).toThrow('maxPool2d: expects at least 3 dims');
  });
});
