// Kept fuzz failures: each IR program runs on the interpreter, eagerly and jitted on cpu-ref and wasm
// (forward), and eager backward() against jit(grad) (backward), through harness.ts.
import { describe, expect, it } from 'vitest';
import { parseFunction } from '../../src/ir/parser.js';
import { printFunction } from '../../src/ir/printer.js';
import { checkForward, checkGradients, programFromText } from './harness.js';
import { REGRESSIONS } from './regressions.js';

describe('fuzz regressions', () => {
  for (const r of REGRESSIONS) {
    it(`${r.name}: forward`, () => {
      // The text round-trips, so the kept program is exactly the one that failed.
      expect(printFunction(parseFunction(printFunction(parseFunction(r.ir))))).toBe(printFunction(parseFunction(r.ir)));
      checkForward(programFromText(r.ir), { wasm: true });
    });
    if (r.grad) it(`${r.name}: gradients`, () => checkGradients(programFromText(r.ir), { wasm: true }));
  }
});
