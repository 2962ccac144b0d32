// The deploy half of the demo, run as its own process: it imports only kiln/runtime (src/runtime.ts: no
// tracer, passes, binaryen or frontend), loads the exported artifact, runs it on the test images and
// checks its logits against the ones the training process computed with the jitted model.
// Usage: node --import tsx examples/deploy_check.ts <artifact.kiln> <images.npy> <expected-logits.npy>
import { readFileSync } from 'node:fs';
import { loadArtifact, parseNpy } from '../src/runtime.js';

const [artPath, imagesPath, expectedPath] = process.argv.slice(2);
if (!expectedPath) throw new Error('usage: deploy_check.ts <artifact.kiln> <images.npy> <expected-logits.npy>');
const art = await loadArtifact(artPath);
const images = parseNpy(readFileSync(imagesPath));
const expected = parseNpy(readFileSync(expectedPath));
const [batch, ...sample] = art.inputs[0].shape as number[];
const perImage = sample.reduce((a, b) => a * b, 1);
const n = images.shape[0];
const classes = expected.shape[1];

let bitwise = 0;
let sameClass = 0;
let maxDiff = 0;
const t0 = performance.now();
for (let start = 0; start + batch <= n; start += batch) {
  const x = (images.data as Float32Array).subarray(start * perImage, (start + batch) * perImage);
  const [y] = await art.run([{ data: x, shape: [batch, ...sample] }]);
  const got = (await y.data()) as Float32Array;
  for (let i = 0; i < batch; i++) {
    const row = (start + i) * classes;
    let same = true;
    let argGot = 0;
    let argWant = 0;
    for (let c = 0; c < classes; c++) {
      const g = got[i * classes + c];
      const w = (expected.data as Float32Array)[row + c];
      if (!Object.is(g, w)) same = false;
      maxDiff = Math.max(maxDiff, Math.abs(g - w));
      if (g > got[i * classes + argGot]) argGot = c;
      if (w > (expected.data as Float32Array)[row + argWant]) argWant = c;
    }
    if (same) bitwise++;
    if (argGot === argWant) sameClass++;
  }
}
const checked = Math.floor(n / batch) * batch;
console.log(
  `deploy check (fresh process, kiln/runtime only, backend ${art.backendFor(batch)}): ${checked} images in ${(performance.now() - t0).toFixed(0)} ms; ` +
    `same class ${sameClass}/${checked}, bitwise-identical logits ${bitwise}/${checked}, max |diff| ${maxDiff.toExponential(2)}`,
);
if (sameClass !== checked) process.exit(1);
