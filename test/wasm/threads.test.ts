// Kernels split across worker threads give the same results as one thread (each row or element is
// still computed by one thread, so results are bitwise equal), and gather bounds errors surface.
import { describe, expect, it } from 'vitest';
import { hostArray } from '../../src/ir/array.js';
import type { HostArray } from '../../src/ir/array.js';
import { createWasmDevice } from '../../src/codegen/wasm/device.js';
import { threadsAvailable } from '../../src/codegen/wasm/threads.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { softmax, mlpTrainStep } from '../passes/programs.js';
import { randomInputs } from '../passes/helpers.js';
import type { AnyAttrs, Primitive } from '../../src/ir/ops.js';
import { evalPrimitive } from '../../src/ir/interpret.js';
import { expectClose, randomArray } from './helpers.js';

const one = createWasmDevice({ threads: 1 });
const two = createWasmDevice({ threads: 2 });

function eager(prim: Primitive, inputs: HostArray[], attrs: AnyAttrs = {}): void {
  const run = (d: typeof one) => d.readSync(d.execute(prim, inputs.map((a) => d.upload(a)), attrs, [])[0]);
  const a = run(one);
  const b = run(two);
  expect(Array.from(b.data)).toEqual(Array.from(a.data));
  expectClose(b, evalPrimitive(prim, inputs, attrs)[0], 2e-5, 2e-5, prim);
}

describe.runIf(threadsAvailable)('two threads agree with one', () => {
  it('elementwise, reductions, contractions, conv, gather', () => {
    expect(two.threads).toBe(2);
    const x = randomArray('float32', [600, 300], 1);
    eager('tanh', [x]);
    eager('reduce_sum', [x], { axes: [1] });
    eager('reduce_max', [x], { axes: [0] });
    // Over a non-last axis the 4-lane column groups meet a thread's range at different places.
    eager('reduce_sum', [randomArray('float32', [450, 301], 12)], { axes: [0] });
    eager('reduce_sum', [randomArray('float32', [5, 301, 91], 13)], { axes: [0, 2] });
    eager('dot_general', [randomArray('float32', [97, 150], 2), randomArray('float32', [150, 61], 3)], { contract: [[1], [0]], batch: [[], []] });
    eager('dot_general', [randomArray('float32', [7, 40, 60], 4), randomArray('float32', [7, 60, 50], 5)], { contract: [[2], [1]], batch: [[0], [0]] });
    eager('conv', [randomArray('float32', [4, 8, 20, 20], 6), randomArray('float32', [16, 8, 3, 3], 7)], { stride: [1, 1], padding: [[1, 1], [1, 1]], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 1 });
    eager('gather', [x, hostArray('int32', [500], Array.from({ length: 500 }, (_, i) => (i * 7) % 600))], { axis: 0 });
    expect(two.stats().parallelLaunches).toBeGreaterThanOrEqual(9);
    expect(one.stats().parallelLaunches).toBe(0);
    expect(() => two.execute('gather', [two.upload(x), two.upload(hostArray('int32', [500], Array.from({ length: 500 }, (_, i) => (i === 499 ? 600 : i))))], { axis: 0 }, [])).toThrow(/out of range/);
  });

  it('compiled programs: softmax and an MLP training step', () => {
    for (const fn0 of [softmax(512, 300), mlpTrainStep(256, 64, 128, 10)]) {
      const fn = runPipeline(fn0);
      const inputs = randomInputs(fn, 9);
      const run = (d: typeof one) => d.compile(fn).run(inputs.map((a) => d.upload(a))).map((b) => Array.from(d.readSync(b).data));
      expect(run(two)).toEqual(run(one));
    }
  });

  it('the thread count can change between launches', () => {
    const d = createWasmDevice({ threads: 2 });
    const x = randomArray('float32', [400, 400], 11);
    const first = d.readSync(d.execute('exp', [d.upload(x)], {}, [])[0]);
    d.threads = 1;
    const second = d.readSync(d.execute('exp', [d.upload(x)], {}, [])[0]);
    expect(Array.from(second.data)).toEqual(Array.from(first.data));
  });
});
