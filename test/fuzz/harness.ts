// Runs one fuzz program every way Kiln can run it and compares: eager cpu-ref, jit (the whole pass
// pipeline), the reference interpreter on the traced IR (the spec), wasm eager and jit; and gradients
// from eager backward() against grad under jit (the IR autodiff pass). A mismatch throws an Error that
// holds the program as IR text (printFunction of the traced Function), which fast-check prints shrunk.
import * as K from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { interpret } from '../../src/ir/interpret.js';
import type { HostArray } from '../../src/ir/array.js';
import type { Function, Op } from '../../src/ir/function.js';
import { printFunction } from '../../src/ir/printer.js';
import { parseFunction } from '../../src/ir/parser.js';
import { inlineFunction, traceToFunction } from '../../src/frontend/tracing.js';
import type { Program } from './program.js';
import { seededValues } from './program.js';

/** Tolerances per dtype (see notes/TOLERANCES.md): |got - want| <= atol * scale + rtol * |want|. */
export const TOLERANCE = {
  float32: { rtol: 2e-4, atol: 2e-4 },
  /** Gradients run longer chains (forward and backward), through different op orders. */
  float32Grad: { rtol: 1e-3, atol: 1e-3 },
  float64: { rtol: 1e-10, atol: 1e-10 },
  int32: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
} as const;

export type Tol = { rtol: number; atol: number };

export interface Values {
  dtype: string;
  shape: readonly number[];
  data: ArrayLike<number>;
}

export const hasWasm = () => K.deviceNames().includes('wasm');

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The program's inputs on a device (fresh leaves each call, so requiresGrad can be set on them). */
export function inputs(p: Program, device: string, seed = 1): Tensor[] {
  return p.shapes.map((s, i) => K.reshape(K.tensor(seededValues(size(s), seed + 17 * i), { device }), s));
}

const values = (t: Tensor): Values => ({ dtype: t.dtype, shape: [...t.shape], data: t.dataSync() });
const host = (t: Tensor): HostArray => ({ dtype: t.dtype, shape: [...t.shape], data: t.dataSync() }) as HostArray;

/** Where two results differ beyond tolerance (null when they agree). NaN equals NaN, inf equals inf. */
export function difference(want: Values, got: Values, tol: Tol = TOLERANCE[want.dtype as 'float32'] ?? TOLERANCE.float32): string | null {
  if (want.dtype !== got.dtype) return `dtype ${got.dtype} vs ${want.dtype}`;
  if (want.shape.length !== got.shape.length || want.shape.some((d, i) => d !== got.shape[i])) return `shape [${got.shape}] vs [${want.shape}]`;
  let scale = 1;
  for (let i = 0; i < want.data.length; i++) if (Number.isFinite(want.data[i])) scale = Math.max(scale, Math.abs(want.data[i]));
  for (let i = 0; i < want.data.length; i++) {
    const a = got.data[i];
    const b = want.data[i];
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (a === b) continue;
    if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(a - b) > tol.atol * scale + tol.rtol * Math.abs(b)) {
      return `element ${i}: ${a} vs ${b} (scale ${scale})`;
    }
  }
  return null;
}

/**
 * The program as a closed IR Function: the tensors it captured (index lists, cotangents) become
 * `constant` ops, so the text alone reproduces it from float inputs (what regressions.ts stores).
 */
export function programFunction(p: Program, device = 'cpu-ref'): Function {
  const xs = inputs(p, device);
  const traced = traceToFunction(p.fn, xs, { name: 'fuzz' });
  const { params, ops, results } = traced.fn.body;
  const consts: Op[] = traced.captured.map((t, i) => {
    const v = params[xs.length + i];
    return { prim: 'constant', operands: [], attrs: { value: Array.from(t.dataSync()), dtype: t.dtype, shape: [...t.shape] }, results: [v], regions: [] };
  });
  return { name: 'fuzz', body: { params: params.slice(0, xs.length), ops: [...consts, ...ops], results } };
}

/** The program as IR text (printFunction of programFunction). */
export function programText(p: Program, device = 'cpu-ref'): string {
  try {
    return printFunction(programFunction(p, device));
  } catch (e) {
    return `(tracing failed: ${(e as Error).message})`;
  }
}

function fail(p: Program, what: string, detail: string): never {
  throw new Error(`fuzz: ${what}: ${detail}\ninput shapes: ${JSON.stringify(p.shapes)}\n${programText(p)}`);
}

function attempt<T>(p: Program, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if ((e as Error).message.startsWith('fuzz:')) throw e;
    return fail(p, `${what} threw`, (e as Error).stack ?? String(e));
  }
}

function compareAll(p: Program, what: string, want: Values[], got: Values[], tol?: Tol): void {
  if (want.length !== got.length) fail(p, what, `${got.length} outputs vs ${want.length}`);
  want.forEach((w, i) => {
    const d = difference(w, got[i], tol);
    if (d) fail(p, what, `output ${i} (${w.dtype}[${w.shape}]): ${d}`);
  });
}

/** Runs the traced IR on the interpreter: the reference every other mode must match. */
export function reference(p: Program, device = 'cpu-ref'): Values[] {
  const xs = inputs(p, device);
  const traced = traceToFunction(p.fn, xs, { name: 'fuzz' });
  const outs = interpret(traced.fn, [...xs, ...traced.captured].map(host));
  return outs.map((a) => ({ dtype: a.dtype, shape: [...a.shape], data: a.data }));
}

export interface ForwardOptions {
  wasm?: boolean;
}

/** Forward agreement: interpreter = eager cpu-ref = jit cpu-ref (= wasm eager = wasm jit). */
export function checkForward(p: Program, opts: ForwardOptions = {}): void {
  const want = attempt(p, 'interpreter', () => reference(p));
  const eager = attempt(p, 'eager cpu-ref', () => p.fn(...inputs(p, 'cpu-ref')).map(values));
  compareAll(p, 'eager cpu-ref vs interpreter', want, eager);
  const jitted = K.jit(p.fn);
  const jitOut = attempt(p, 'jit cpu-ref', () => jitted(...inputs(p, 'cpu-ref')).map(values));
  compareAll(p, 'jit cpu-ref vs interpreter', want, jitOut);
  // A second call replays the cached executable (no retrace): same answer.
  const again = attempt(p, 'jit cpu-ref (cached)', () => jitted(...inputs(p, 'cpu-ref')).map(values));
  compareAll(p, 'jit cpu-ref cached call vs interpreter', want, again);
  if (opts.wasm && hasWasm()) {
    const we = attempt(p, 'eager wasm', () => p.fn(...inputs(p, 'wasm')).map(values));
    compareAll(p, 'eager wasm vs interpreter', want, we);
    const wj = attempt(p, 'jit wasm', () => K.jit(p.fn)(...inputs(p, 'wasm')).map(values));
    compareAll(p, 'jit wasm vs interpreter', want, wj);
  }
}

/** sum(out_i * c_i) over float outputs, with fixed cotangents c_i: a scalar whose gradient tests every output. */
export function lossOf(p: Program): (...xs: Tensor[]) => Tensor {
  return (...xs: Tensor[]) => {
    let total: Tensor = K.mul(K.sum(xs[0]), 0);
    p.fn(...xs).forEach((o, i) => {
      if (o.dtype !== 'float32') return;
      const c = K.reshape(K.tensor(seededValues(o.size, 1000 + i), { device: o.device }), [...o.shape]);
      total = K.add(total, K.sum(K.mul(o, c)));
    });
    return total;
  };
}

/** Gradient agreement: eager backward() on cpu-ref = jit(grad) cpu-ref (= jit(grad) wasm, eager wasm). */
export function checkGradients(p: Program, opts: ForwardOptions = {}): void {
  const loss = lossOf(p);
  const eagerGrads = (device: string): Values[] => {
    const xs = inputs(p, device);
    xs.forEach((x) => (x.requiresGrad = true));
    loss(...xs).backward();
    return xs.map((x) => values(x.grad ?? K.zerosLike(x)));
  };
  const argnums = p.shapes.map((_, i) => i);
  const jitGrads = (device: string): Values[] => {
    const g = K.jit(K.grad(loss, { argnums }));
    return (g(...inputs(p, device)) as Tensor[]).map(values);
  };
  const tol = TOLERANCE.float32Grad;
  const want = attempt(p, 'eager backward cpu-ref', () => eagerGrads('cpu-ref'));
  compareAll(p, 'jit(grad) cpu-ref vs eager backward', want, attempt(p, 'jit(grad) cpu-ref', () => jitGrads('cpu-ref')), tol);
  if (opts.wasm && hasWasm()) {
    compareAll(p, 'eager backward wasm vs cpu-ref', want, attempt(p, 'eager backward wasm', () => eagerGrads('wasm')), tol);
    compareAll(p, 'jit(grad) wasm vs eager backward cpu-ref', want, attempt(p, 'jit(grad) wasm', () => jitGrads('wasm')), tol);
  }
}

/** A Program from IR text (a kept regression): float32 parameters, run through bind op by op. */
export function programFromText(text: string): Program {
  const fn = parseFunction(text);
  for (const p of fn.body.params) {
    if (p.type.dtype !== 'float32') throw new Error(`regression programs take float32 inputs, got ${p.type.dtype}`);
  }
  return { shapes: fn.body.params.map((p) => [...p.type.shape]), fn: (...xs: Tensor[]) => inlineFunction(fn, xs) };
}
