// Forward mode (JVP) of IR Functions. Control flow is differentiated structurally: cond becomes a cond
// of the branches' JVPs, scan a scan and while a while whose carries are (x, tangent of x) with the
// body's JVP, so forward mode works through unbounded loops. Every other op reuses its VJP rule:
// the rule is linear in the cotangent, and the transpose of a linear map is its VJP, so an op's JVP
// is the VJP (with respect to the cotangent) of its VJP rule, evaluated at the input tangents.
import { Builder } from '../../ir/builder.js';
import type { Block, Function, Op, Value } from '../../ir/function.js';
import type { Attrs, Primitive } from '../../ir/ops.js';
import { opRow } from '../../ir/ops.js';
import type { TensorType } from '../../ir/shape.js';
import { Emit, builderEmit, full } from './emit.js';
import { buildBlock, checkClosed, envReader, inlineBlock, isFloatT, pick, replayOp, scatterBack, stripLead } from './blocks.js';
import { customRuleOf } from './custom.js';
import { emitVjp } from './ir_autodiff.js';
import { vjpRules, VjpRule } from './vjp_rules.js';
import { KilnError } from '../../ir/error.js';
import { checkFunction } from '../../ir/function.js';

/** Tangents where `mask` holds, zeros of the right type where they are null. */
const orZeros = <T>(e: Emit<T>, ts: readonly (T | null)[], types: readonly TensorType[]) => ts.map((t, i) => t ?? full(e, types[i], 0));

export interface JvpResult<T> {
  outs: T[];
  /** One tangent per block result, null where it is zero (or the result is not a float). */
  tangents: (T | null)[];
}

/** Replays `block` on `args` and emits the tangents of its results for the parameter tangents `tangents`. */
export function emitJvp<T>(e: Emit<T>, block: Block, args: readonly T[], tangents: readonly (T | null)[]): JvpResult<T> {
  const env = new Map<Value, T>();
  const tan = new Map<Value, T>();
  block.params.forEach((p, i) => {
    env.set(p, args[i]);
    const t = tangents[i];
    if (t !== null && t !== undefined && isFloatT(p.type)) tan.set(p, t);
  });
  const get = envReader(env, 'jvp');
  for (const op of block.ops) {
    checkClosed(op, (v) => env.has(v));
    const ins = op.operands.map(get);
    const tin = op.operands.map((v) => tan.get(v) ?? null);
    const stopped = op.results.length > 0 && customRuleOf(op.results[0])?.bwd === null;
    let outs: T[];
    let touts: (T | null)[];
    if (stopped || !opRow(op.prim).differentiable || tin.every((t) => t === null)) {
      outs = replayOp(e, op, ins);
      touts = outs.map(() => null);
    } else {
      [outs, touts] = opJvp(e, op, ins, tin);
    }
    op.results.forEach((r, i) => {
      env.set(r, outs[i]);
      const t = touts[i];
      if (t !== null && isFloatT(r.type)) tan.set(r, t);
    });
  }
  return { outs: block.results.map(get), tangents: block.results.map((v) => tan.get(v) ?? null) };
}

function opJvp<T>(e: Emit<T>, op: Op, ins: T[], tin: (T | null)[]): [T[], (T | null)[]] {
  switch (op.prim) {
    case 'cond': return condJvp(e, op, ins, tin);
    case 'while': return whileJvp(e, op, ins, tin);
    case 'scan': return scanJvp(e, op, ins, tin);
    default: {
      const outs = replayOp(e, op, ins);
      return [outs, transposedRule(e, op, ins, outs, tin)];
    }
  }
}

/** Output tangents of a non-control op: the VJP, with respect to the cotangent, of its VJP rule. */
function transposedRule<T>(e: Emit<T>, op: Op, ins: T[], outs: T[], tin: (T | null)[]): (T | null)[] {
  const rule = vjpRules[op.prim] as VjpRule<Primitive> | null;
  if (!rule) return outs.map(() => null);
  const inT = ins.map((x) => e.type(x));
  const outT = outs.map((y) => e.type(y));
  const needs = tin.map((t, i) => t !== null && isFloatT(inT[i]));
  const floatOut = outT.map(isFloatT);
  const n = ins.length;
  const m = outs.length;
  // The linear map ct -> (cotangents of the inputs that have tangents), as a block.
  const linear = buildBlock([...inT, ...outT, ...pick(outT, floatOut)], (b, ps) => {
    const cts = scatterBack(floatOut, ps.slice(n + m)).map((c, i) => c ?? full(b, outT[i], 0));
    const g = rule(b, ps.slice(0, n), ps.slice(n, n + m), cts, op.attrs as never, op.regions, { needs });
    return pick(g, needs).map((x, i) => x ?? full(b, pick(inT, needs)[i], 0));
  });
  const ctArgs = pick(outT, floatOut).map((t) => full(e, t, 0));
  const wrt = [...inT.map(() => false), ...outT.map(() => false), ...ctArgs.map(() => true)];
  const { grads } = emitVjp(e, linear, [...ins, ...outs, ...ctArgs], pick(tin, needs), wrt);
  return scatterBack(floatOut, grads.slice(n + m));
}

function condJvp<T>(e: Emit<T>, op: Op, ins: T[], tin: (T | null)[]): [T[], (T | null)[]] {
  const [pred, ...operands] = ins;
  const tOps = tin.slice(1);
  const hasT = tOps.map((t) => t !== null);
  const opT = operands.map((x) => e.type(x));
  const outT = op.results.map((r) => r.type);
  const floatOut = outT.map(isFloatT);
  const branch = (region: Block) =>
    buildBlock([...opT, ...pick(opT, hasT)], (b, ps) => {
      const r = emitJvp(b, region, ps.slice(0, operands.length), scatterBack(hasT, ps.slice(operands.length)));
      return [...r.outs, ...orZeros(b, pick(r.tangents, floatOut), pick(outT, floatOut))];
    });
  const res = e.bind('cond', [pred, ...operands, ...pick(tOps, hasT) as T[]], {}, [branch(op.regions[0]), branch(op.regions[1])]);
  return [res.slice(0, outT.length), scatterBack(floatOut, res.slice(outT.length))];
}

/** while over (carry, tangent of the float carries): the cond reads the carry, the body is its JVP. */
function whileJvp<T>(e: Emit<T>, op: Op, ins: T[], tin: (T | null)[]): [T[], (T | null)[]] {
  const [condR, bodyR] = op.regions;
  const cT = ins.map((x) => e.type(x));
  const floatC = cT.map(isFloatT);
  const n = ins.length;
  const types = [...cT, ...pick(cT, floatC)];
  const condB = buildBlock(types, (b, ps) => inlineBlock(b, condR, ps.slice(0, n)));
  const bodyB = buildBlock(types, (b, ps) => {
    const r = emitJvp(b, bodyR, ps.slice(0, n), scatterBack(floatC, ps.slice(n)));
    return [...r.outs, ...orZeros(b, pick(r.tangents, floatC), pick(cT, floatC))];
  });
  const res = e.bind('while', [...ins, ...orZeros(e, pick(tin, floatC), pick(cT, floatC))], {}, [condB, bodyB]);
  return [res.slice(0, n), scatterBack(floatC, res.slice(n))];
}

/** scan over carries (c, tangent of float c) and xs (x, tangents of the xs that have one). */
function scanJvp<T>(e: Emit<T>, op: Op, ins: T[], tin: (T | null)[]): [T[], (T | null)[]] {
  const { length, numCarry: nC, reverse } = op.attrs as Attrs<'scan'>;
  const [body] = op.regions;
  const cT = ins.slice(0, nC).map((x) => e.type(x));
  const xs = ins.slice(nC);
  const xT = xs.map((x) => stripLead(e.type(x)));
  const floatC = cT.map(isFloatT);
  const hasTx = tin.slice(nC).map((t) => t !== null);
  const nFc = pick(cT, floatC).length;
  const yT = body.results.slice(nC).map((v) => v.type);
  const floatY = yT.map(isFloatT);
  const bodyB = buildBlock([...cT, ...pick(cT, floatC), ...xT, ...pick(xT, hasTx)], (b, ps) => {
    const c = ps.slice(0, nC);
    const tc = scatterBack(floatC, ps.slice(nC, nC + nFc));
    const x = ps.slice(nC + nFc, nC + nFc + xs.length);
    const tx = scatterBack(hasTx, ps.slice(nC + nFc + xs.length));
    const r = emitJvp(b, body, [...c, ...x], [...tc, ...tx]);
    return [
      ...r.outs.slice(0, nC),
      ...orZeros(b, pick(r.tangents.slice(0, nC), floatC), pick(cT, floatC)),
      ...r.outs.slice(nC),
      ...orZeros(b, pick(r.tangents.slice(nC), floatY), pick(yT, floatY)),
    ];
  });
  const operands = [...ins.slice(0, nC), ...orZeros(e, pick(tin.slice(0, nC), floatC), pick(cT, floatC)), ...xs, ...pick(tin.slice(nC), hasTx) as T[]];
  const res = e.bind('scan', operands, { length, numCarry: nC + nFc, reverse }, [bodyB]);
  const nY = yT.length;
  const outs = [...res.slice(0, nC), ...res.slice(nC + nFc, nC + nFc + nY)];
  const tangents = [...scatterBack(floatC, res.slice(nC, nC + nFc)), ...scatterBack(floatY, res.slice(nC + nFc + nY))];
  return [outs, tangents];
}

/**
 * `(primals..., tangents of the float inputs in wrt...) -> (outputs..., tangents of the float outputs...)`;
 * `wrt` defaults to every float input. Output tangents nothing flows to are zeros.
 */
export function jvpFunction(fn: Function, wrt?: readonly number[]): Function {
  checkFunction('jvpFunction', fn);
  const { params, results } = fn.body;
  const which = (wrt ?? params.map((_, i) => i)).filter((i) => isFloatT(params[i].type));
  const b = new Builder();
  const e = builderEmit(b);
  const primals = params.map((p) => b.param(p.type, p.name));
  const tangents: (Value | null)[] = params.map(() => null);
  for (const i of which) tangents[i] = b.param(params[i].type);
  const r = emitJvp(e, fn.body, primals, tangents);
  const floatOut = results.map((v) => isFloatT(v.type));
  return b.finish(`${fn.name}_jvp`, [...r.outs, ...orZeros(e, pick(r.tangents, floatOut), pick(results.map((v) => v.type), floatOut))]);
}
