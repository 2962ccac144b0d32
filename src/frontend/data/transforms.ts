// Batch augmentations for image tensors [N, C, H, W] computed on the host: random crop with
// padding, horizontal flip and normalization, seeded so a run repeats exactly.
import { hostArray } from '../../ir/array.js';
import { KilnError } from '../../ir/error.js';
import { Tensor } from '../tensor.js';
import { mulberry32 } from './loader.js';

function imageDims(op: string, x: Tensor): [number, number, number, number] {
  if (x.ndim !== 4 || x.dtype !== 'float32') throw new KilnError(`${op}: expects a float32 batch [N, C, H, W], got ${x.describe()}`);
  return x.shape as unknown as [number, number, number, number];
}

/** Crops each image at a random offset after zero-padding by `padding` on every side. */
export function randomCrop(padding: number, seed = 0): (x: Tensor) => Tensor {
  const random = mulberry32(seed);
  return (x) => {
    const [n, c, h, w] = imageDims('randomCrop', x);
    const src = x.dataSync();
    const out = new Float32Array(src.length);
    for (let i = 0; i < n; i++) {
      const dy = Math.floor(random() * (2 * padding + 1)) - padding;
      const dx = Math.floor(random() * (2 * padding + 1)) - padding;
      for (let ch = 0; ch < c; ch++) {
        const base = (i * c + ch) * h * w;
        for (let y = 0; y < h; y++) {
          const sy = y + dy;
          if (sy < 0 || sy >= h) continue;
          for (let xx = 0; xx < w; xx++) {
            const sx = xx + dx;
            if (sx >= 0 && sx < w) out[base + y * w + xx] = src[base + sy * w + sx];
          }
        }
      }
    }
    return Tensor._fromHost(hostArray('float32', x.shape, out), x.device);
  };
}

/** Mirrors each image left-right with probability p. */
export function randomHorizontalFlip(p = 0.5, seed = 0): (x: Tensor) => Tensor {
  const random = mulberry32(seed);
  return (x) => {
    const [n, c, h, w] = imageDims('randomHorizontalFlip', x);
    const out = x.dataSync() as Float32Array;
    for (let i = 0; i < n; i++) {
      if (random() >= p) continue;
      for (let row = 0; row < c * h; row++) out.subarray((i * c * h + row) * w, (i * c * h + row + 1) * w).reverse();
    }
    return Tensor._fromHost(hostArray('float32', x.shape, out), x.device);
  };
}

/** (x - mean[c]) / std[c] per channel. */
export function normalize(mean: number[], std: number[]): (x: Tensor) => Tensor {
  return (x) => {
    const [n, c, h, w] = imageDims('normalize', x);
    if (mean.length !== c || std.length !== c) throw new KilnError(`normalize: ${mean.length} means and ${std.length} stds for ${c} channels`);
    const out = x.dataSync() as Float32Array;
    for (let i = 0; i < n * c; i++) {
      const ch = i % c;
      const plane = out.subarray(i * h * w, (i + 1) * h * w);
      for (let k = 0; k < plane.length; k++) plane[k] = (plane[k] - mean[ch]) / std[ch];
    }
    return Tensor._fromHost(hostArray('float32', x.shape, out), x.device);
  };
}

/** Applies transforms in order. */
export function compose<T>(...fns: ((x: T) => T)[]): (x: T) => T {
  return (x) => fns.reduce((acc, f) => f(acc), x);
}
