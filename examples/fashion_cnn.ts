// The demo's model, in a file of its own so the demo trains it and the browser suite exports it
// (test/browser/runtime_webgpu.test.ts) without either copying it.
import { Tensor, nn } from '../src/index.js';

/** conv-bn-relu-pool ×2 (28×28 → 14×14 → 7×7), then a small MLP classifier. */
export class FashionCNN extends nn.Module {
  features: nn.Sequential;
  classifier: nn.Sequential;
  constructor(width: number, hidden: number) {
    super();
    this.features = new nn.Sequential(
      new nn.Conv2d(1, width, 3, { padding: 1 }), new nn.BatchNorm2d(width), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(width, 2 * width, 3, { padding: 1 }), new nn.BatchNorm2d(2 * width), new nn.ReLU(), new nn.MaxPool2d(2),
    );
    this.classifier = new nn.Sequential(new nn.Linear(2 * width * 7 * 7, hidden), new nn.ReLU(), new nn.Linear(hidden, 10));
  }
  forward(x: Tensor): Tensor {
    const h = this.features.call(x) as Tensor;
    return this.classifier.call(h.reshape([h.shape[0], -1])) as Tensor;
  }
}
