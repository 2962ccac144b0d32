// After `npm run build`: imports 'kiln' the way a user does (package self-reference through
// package.json "exports" → dist/index.js) and runs a few ops, so a broken build or export map fails here.
import assert from 'node:assert/strict';

const kiln = await import('kiln');
for (const name of ['tensor', 'Tensor', 'KilnError', 'matmul', 'softmax', 'sum', 'reshape', 'index', 'rand', 'jit', 'grad', 'nn', 'optim']) {
  assert.ok(kiln[name] !== undefined, `kiln does not export ${name}`);
}
const { tensor, matmul, softmax } = kiln;
const x = tensor([[1, 2], [3, 4]]);
assert.deepEqual(matmul(x, x).tolist(), [[7, 10], [15, 22]]);
assert.deepEqual(x.sum({ axis: 1 }).tolist(), [3, 7]);
const p = softmax(x, { axis: -1 }).sum({ axis: -1 }).tolist();
assert.ok(p.every((v) => Math.abs(v - 1) < 1e-6), `softmax rows sum to ${p}`);
assert.equal(String(x.index(0)), 'tensor([1., 2.])');

const runtime = await import('kiln/runtime');
assert.ok(Object.keys(runtime).length > 0, 'kiln/runtime exports nothing');
console.log(`check-package: 'kiln' (${Object.keys(kiln).length} exports) and 'kiln/runtime' import and run from dist/`);
