// The IR autodiff pass (reverse mode): vjpFunction turns a Function into one computing its outputs and
// the gradients of the chosen inputs, forward and backward in one Function so later passes (simplify,
// cse, fuse) optimize them together. emitVjp is the engine, generic over the emitter so the control-flow
// rules reuse it to build the VJP regions of cond branches and scan bodies.
import { Builder } from '../../ir/builder.js';
import { isFloat } from '../../ir/dtype.js';
import type { Block, Function, Op, Value } from '../../ir/function.js';
import { opRow } from '../../ir/ops.js';
import { Emit, add, builderEmit, full } from './emit.js';
import { checkClosed, envReader, inlineBlock, replayOp } from './blocks.js';
import { customRuleOf, customVjpAt } from './custom.js';
import { vjpRules, VjpRule } from './vjp_rules.js';
import { scanForward } from './control_rules.js';
import type { Primitive } from '../../ir/ops.js';
import { KilnError } from '../../ir/error.js';
import { checkFunction } from '../../ir/function.js';

export interface VjpResult<T> {
  /** The block's results, as emitted by the forward replay. */
  outs: T[];
  /** One cotangent per block parameter: null where not asked for (wrt false) or where none flows. */
  grads: (T | null)[];
}

const isFloatType = (v: Value) => isFloat(v.type.dtype);

/**
 * Replays `block` on `args` through `e`, then emits its backward for `cts` (one per block result,
 * null meaning zero). Only values that depend on a `wrt` parameter (and are floats) are differentiated.
 */
export function emitVjp<T>(e: Emit<T>, block: Block, args: readonly T[], cts: readonly (T | null)[], wrt: readonly boolean[]): VjpResult<T> {
  const env = new Map<Value, T>();
  const active = new Set<Value>();
  const residuals = new Map<Op, T[]>();
  block.params.forEach((p, i) => {
    env.set(p, args[i]);
    if (wrt[i] && isFloatType(p)) active.add(p);
  });
  const get = envReader(env, 'autodiff');

  // ---- forward: replay every op, noting which results depend on the wrt parameters ----
  for (const op of block.ops) {
    checkClosed(op, (v) => env.has(v));
    const ins = op.operands.map(get);
    const custom = op.results.length ? customRuleOf(op.results[0]) : undefined;
    const isActive = custom
      ? custom.bwd !== null && custom.inputs.some((v) => active.has(v))
      : opRow(op.prim).differentiable && op.operands.some((v) => active.has(v));
    let outs: T[];
    if (isActive && op.prim === 'scan') {
      const r = scanForward(e, ins, op.attrs as never, op.regions);
      outs = r.outs;
      residuals.set(op, r.residuals);
    } else {
      outs = replayOp(e, op, ins);
    }
    op.results.forEach((r, i) => {
      env.set(r, outs[i]);
      if (isActive && isFloatType(r)) active.add(r);
    });
  }
  const outs = block.results.map(get);

  // ---- backward: walk the ops in reverse, accumulating one cotangent per value ----
  const ct = new Map<Value, T>();
  const accumulate = (v: Value, g: T | null) => {
    if (g === null || !active.has(v)) return;
    const prev = ct.get(v);
    ct.set(v, prev === undefined ? g : add(e, prev, g));
  };
  block.results.forEach((v, i) => accumulate(v, cts[i]));
  const ctOrZero = (v: Value) => ct.get(v) ?? full(e, v.type, 0);

  for (let k = block.ops.length - 1; k >= 0; k--) {
    const op = block.ops[k];
    if (!op.results.some((r) => ct.has(r))) continue;
    const first = op.results[0];
    const custom = customRuleOf(first);
    if (custom) {
      // Marker ops of a custom rule: the rule fires once, at its last output, for all of them.
      if (customVjpAt(first) !== custom || custom.bwd === null) continue;
      const grads = inlineBlock(e, custom.bwd.body, [
        ...custom.residuals.map(get),
        ...custom.outputs.map(ctOrZero),
        ...custom.captured.map(get),
      ]);
      custom.inputs.forEach((v, i) => accumulate(v, grads[i]));
      continue;
    }
    const rule = vjpRules[op.prim] as VjpRule<Primitive> | null;
    if (!rule) continue;
    const needs = op.operands.map((v) => active.has(v));
    const grads = rule(e, op.operands.map(get), op.results.map(get), op.results.map(ctOrZero), op.attrs as never, op.regions, {
      needs,
      residuals: residuals.get(op),
    });
    op.operands.forEach((v, i) => {
      if (needs[i]) accumulate(v, grads[i] ?? null);
    });
  }
  return { outs, grads: block.params.map((p, i) => (wrt[i] ? ct.get(p) ?? null : null)) };
}

export interface VjpOptions {
  /** Which results get a cotangent parameter (default: every float result). */
  outputs?: readonly number[];
}

/**
 * `(primals..., cotangents of the differentiated outputs...) -> (outputs..., gradients for wrt...)`.
 * Gradients come in the order of `wrt`; an input nothing flows to gets zeros.
 */
export function vjpFunction(fn: Function, wrt: readonly number[], opts: VjpOptions = {}): Function {
  checkFunction('vjpFunction', fn);
  const { params, results } = fn.body;
  for (const i of wrt) {
    if (!Number.isInteger(i) || i < 0 || i >= params.length) throw new KilnError(`vjpFunction: wrt index ${i} out of range for @${fn.name} with ${params.length} parameters`);
  }
  const diffOuts = opts.outputs ?? results.map((_, i) => i).filter((i) => isFloatType(results[i]));
  const b = new Builder();
  const e = builderEmit(b);
  const primals = params.map((p) => b.param(p.type, p.name));
  const cts: (Value | null)[] = results.map(() => null);
  for (const i of diffOuts) cts[i] = b.param(results[i].type);
  const { outs, grads } = emitVjp(e, fn.body, primals, cts, params.map((_, i) => wrt.includes(i)));
  const gradList = wrt.map((i) => grads[i] ?? full(e, params[i].type, 0));
  return b.finish(`${fn.name}_vjp`, [...outs, ...gradList]);
}
