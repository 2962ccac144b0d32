// The pipeline: named steps with timings, dumps by name, and the property that matters most: the
// optimized program computes what the traced one did (reference interpreter, random programs).
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { PASS_NAMES, runPipeline, runPipelineWithReport } from '../../src/passes/pipeline.js';
import { interpret } from '../../src/ir/interpret.js';
import { verify } from '../../src/ir/verify.js';
import { parseFunction } from '../../src/ir/parser.js';
import { printFunction } from '../../src/ir/printer.js';
import { bytesOf } from '../../src/passes/memory.js';
import type { Function } from '../../src/ir/function.js';
import { buildProgram, recipeArb } from './random_programs.js';
import { close, randomInputs } from './helpers.js';
import { layerNorm, mlp, mlpTrainStep, softmax } from './programs.js';

const sameResults = (a: Function, b: Function, seed: number, tol = 1e-6) => {
  const inputs = randomInputs(a, seed);
  const x = interpret(a, inputs);
  const y = interpret(b, inputs);
  return x.length === y.length && x.every((r, i) => close(r, y[i], tol));
};

describe('runPipelineWithReport', () => {
  it('runs the named steps in order and times each one', () => {
    const report = runPipelineWithReport(mlp(), { verify: true });
    expect(report.timings.map((t) => t.pass)).toEqual(['verify', 'simplify', 'cse', 'dce', 'fuse', 'plan']);
    expect(PASS_NAMES).toEqual(['verify', 'simplify', 'cse', 'dce', 'fuse', 'plan']);
    for (const t of report.timings) expect(t.ms).toBeGreaterThanOrEqual(0);
    expect(report.kernels).toBe(3);
    expect(report.peakBytes).toBe(report.plan.peakBytes);
  });

  it('fuse: false leaves one kernel per op', () => {
    const report = runPipelineWithReport(softmax(), { fuse: false });
    expect(report.timings.map((t) => t.pass)).not.toContain('fuse');
    expect(report.fn.body.ops.some((op) => op.prim === 'fusion')).toBe(false);
    expect(report.kernels).toBe(7);
  });

  it('rejects a malformed input in its first step', () => {
    const fn = parseFunction(`func @f(%x: f32[2]) -> (f32[2]) {
  %0 = exp %x : f32[2]
  return %0
}`);
    const broken: Function = { ...fn, body: { ...fn.body, ops: [] } };
    expect(() => runPipeline(broken)).toThrow(/never defined|not defined|undefined|defined/);
  });

  it('does not change its input (passes are pure)', () => {
    const fn = mlpTrainStep(4, 6, 8, 3);
    const before = printFunction(fn);
    runPipeline(fn);
    expect(printFunction(fn)).toBe(before);
  });
});

describe('dumps', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('prints the IR after the named pass', () => {
    const lines: string[] = [];
    runPipeline(softmax(), { dump: 'simplify,fuse', print: (t) => lines.push(t) });
    expect(lines.length).toBe(2);
    expect(lines[0]).toMatch(/^\/\/ ---- after simplify ----\nfunc @softmax/);
    expect(lines[1]).toContain('after fuse');
    expect(lines[1]).toContain('fusion');
  });

  it('reads KILN_DUMP from the environment', () => {
    vi.stubEnv('KILN_DUMP', 'dce');
    const lines: string[] = [];
    runPipeline(softmax(), { print: (t) => lines.push(t) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('after dce');
  });

  it('prints nothing when no dump is asked for', () => {
    vi.stubEnv('KILN_DUMP', '');
    const lines: string[] = [];
    runPipeline(softmax(), { print: (t) => lines.push(t) });
    expect(lines).toEqual([]);
  });
});

describe('the pipeline preserves results', () => {
  it('on softmax, layer norm, an MLP and the training step', () => {
    for (const fn of [softmax(), layerNorm(), mlp(), mlpTrainStep(8, 12, 16, 5)]) {
      const out = runPipeline(fn, { verify: true });
      expect(sameResults(fn, out, 7)).toBe(true);
    }
  });

  it('on random programs (property)', () => {
    fc.assert(
      fc.property(recipeArb, fc.integer({ min: 1, max: 1 << 20 }), (recipe, seed) => {
        const fn = buildProgram(recipe);
        verify(fn);
        const out = runPipeline(fn, { verify: true });
        return sameResults(fn, out, seed);
      }),
      { numRuns: 300, seed: 20260401 },
    );
  });

  it('the MLP training step: same results, and peak memory <= 60% of all intermediates', () => {
    const step = mlpTrainStep();
    const report = runPipelineWithReport(step, { donate: [2, 3, 4, 5], verify: true });
    expect(sameResults(step, report.fn, 11)).toBe(true);
    const intermediates = step.body.ops.filter((op) => op.prim !== 'constant').flatMap((op) => op.results);
    const sum = intermediates.reduce((s, v) => s + bytesOf(v), 0);
    expect(report.peakBytes).toBeLessThanOrEqual(0.6 * sum);
    expect(report.kernels).toBeLessThanOrEqual(10);
  });
});
