// Kept fuzz failures: each IR program runs on the interpreter, eagerly and jitted on cpu-ref and wasm
// (forward), and eager backward() against jit(grad) (backward), through harness.ts.
import { describe, expect, it } from 'vitest';
import { parseFunction } from '../../src/ir/parser.js';
import { printFunction } from '../../src/ir/printer.js';
import { checkForward, checkGradients, difference, hasWasm, programFromText } from './harness.js';
import { interpret } from '../../src/ir/interpret.js';
import { getDevice } from '../../src/codegen/device.js';
import { seededValues } from './program.js';
import { REGRESSIONS } from './regressions.js';

describe('fuzz regressions', () => {
  for (const r of REGRESSIONS.filter((x) => x.direct)) {
    it(`${r.name}: compiled as written`, () => {
      const fn = parseFunction(r.ir);
      const args = fn.body.params.map((p, i) => {
        const n = p.type.shape.reduce((a, b) => a * b, 1);
        return { dtype: 'float32' as const, shape: [...p.type.shape], data: seededValues(n, 5 + i) };
      });
      const want = interpret(fn, args);
      for (const name of hasWasm() ? ['cpu-ref', 'wasm'] : ['cpu-ref']) {
        const d = getDevice(name);
        const got = d.compile(fn).run(args.map((a) => d.upload(a))).map((b) => d.readSync(b));
        got.forEach((g, i) => expect(difference(want[i], g), `${name} output ${i}`).toBeNull());
      }
    });
  }
  for (const r of REGRESSIONS.filter((x) => !x.direct)) {
    it(`${r.name}: forward`, () => {
      // The text round-trips, so the kept program is exactly the one that failed.
      expect(printFunction(parseFunction(printFunction(parseFunction(r.ir))))).toBe(printFunction(parseFunction(r.ir)));
      checkForward(programFromText(r.ir), { wasm: true });
    });
    if (r.grad) it(`${r.name}: gradients`, () => checkGradients(programFromText(r.ir), { wasm: true }));
  }
});
