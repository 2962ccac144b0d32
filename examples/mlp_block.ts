// A function for `kiln bench` and `kiln viz` (see the README): an MLP block with a GELU-style gate and
// a residual, exported as { fn, args }; {shape} arguments become seeded random tensors.
import { Tensor, add, matmul, mul, sigmoid, layerNorm } from '../src/index.js';

export const kilnExport = {
  fn: function mlpBlock(x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor) {
    const h = add(matmul(layerNorm(x, [256]), w1), b1);
    return add(x, matmul(mul(h, sigmoid(mul(h, 1.702))), w2));
  },
  args: [{ shape: [64, 256] }, { shape: [256, 512] }, { shape: [512] }, { shape: [512, 256] }],
};
