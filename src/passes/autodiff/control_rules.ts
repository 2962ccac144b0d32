// VJP rules of the control-flow ops, built on the IR pass itself: cond becomes a cond of the branches'
// VJPs (each branch recomputes its forward, then runs its backward), scan a reverse scan whose body is
// the VJP of the forward body, fed the carries each step started from (saved by the forward as extra
// ys: the residuals). An unbounded while has no reverse mode.
import { KilnError } from '../../ir/error.js';
import type { Block, Value } from '../../ir/function.js';
import type { Attrs } from '../../ir/ops.js';
import { Emit, full } from './emit.js';
import { buildBlock, inlineBlock, isFloatT, pick, scatterBack, stripLead } from './blocks.js';
import { emitVjp } from './ir_autodiff.js';
import type { VjpExtra } from './vjp_rules.js';

// ---- cond -----------------------------------------------------------------------------------------

export function condVjp<T>(e: Emit<T>, ins: readonly T[], outs: readonly T[], cts: readonly T[], _attrs: Attrs<'cond'>, regions: readonly Block[], { needs }: VjpExtra<T>): (T | null)[] {
  const [pred, ...operands] = ins;
  const wrt = needs.slice(1);
  if (!wrt.some(Boolean)) return ins.map(() => null);
  const opTypes = operands.map((x) => e.type(x));
  const outTypes = outs.map((y) => e.type(y));
  const hasCt = outTypes.map(isFloatT);
  const branch = (region: Block) =>
    buildBlock([...opTypes, ...pick(outTypes, hasCt)], (b, params) => {
      const args = params.slice(0, operands.length);
      const branchCts = scatterBack(hasCt, params.slice(operands.length));
      const { grads } = emitVjp(b, region, args, branchCts, wrt);
      return pick(grads, wrt).map((g, i) => g ?? full(b, pick(opTypes, wrt)[i], 0));
    });
  const res = e.bind('cond', [pred, ...operands, ...pick(cts, hasCt)], {}, [branch(regions[0]), branch(regions[1])]);
  return [null, ...scatterBack(wrt, res)];
}

// ---- while ----------------------------------------------------------------------------------------

export function whileVjp<T>(): (T | null)[] {
  throw new KilnError(
    'while: reverse-mode differentiation through an unbounded while loop is not supported (its trip count is only known at run time); ' +
      'use forLoop or scan with a static trip count, or forward mode (jvp), which works through while',
  );
}

// ---- scan -----------------------------------------------------------------------------------------

/**
 * The forward scan of a scan being differentiated: the same op with the carries entering each step
 * stacked as extra ys, which the backward scan needs to recompute each step's body.
 */
export function scanForward<T>(e: Emit<T>, ins: readonly T[], attrs: Attrs<'scan'>, regions: readonly Block[]): { outs: T[]; residuals: T[] } {
  const [body] = regions;
  const aug = buildBlock(body.params.map((p) => p.type), (b, params) => [
    ...inlineBlock(b, body, params),
    ...params.slice(0, attrs.numCarry),
  ]);
  const all = e.bind('scan', ins, attrs, [aug]);
  const n = body.results.length;
  return { outs: all.slice(0, n), residuals: all.slice(n) };
}

export function scanVjp<T>(e: Emit<T>, ins: readonly T[], outs: readonly T[], cts: readonly T[], attrs: Attrs<'scan'>, regions: readonly Block[], { needs, residuals }: VjpExtra<T>): (T | null)[] {
  const { length, numCarry: nC, reverse } = attrs;
  const [body] = regions;
  // The eager tape has no saved residuals (the op already ran): recompute them with a forward scan.
  const saved = residuals ?? scanForward(e, ins, attrs, regions).residuals;
  const carries = ins.slice(0, nC);
  const xs = ins.slice(nC);
  const carryT = carries.map((c) => e.type(c));
  const xT = xs.map((x) => stripLead(e.type(x)));
  const yT = outs.slice(nC).map((y) => stripLead(e.type(y)));
  const floatC = carryT.map(isFloatT);
  const floatY = yT.map(isFloatT);
  const wrtX = needs.slice(nC);
  if (!floatC.some((f, i) => f && needs[i]) && !wrtX.some(Boolean)) return ins.map(() => null);
  const nFc = pick(carryT, floatC).length;
  // bwd body: (ct of float carries..., carries at step t..., xs at t..., ct of float ys at t...)
  const bwdBody = buildBlock([...pick(carryT, floatC), ...carryT, ...xT, ...pick(yT, floatY)], (b, params) => {
    const ctC = params.slice(0, nFc);
    const cT = params.slice(nFc, nFc + nC);
    const xAt = params.slice(nFc + nC, nFc + nC + xs.length);
    const ctY = params.slice(nFc + nC + xs.length);
    const bodyCts: (Value | null)[] = [...scatterBack(floatC, ctC), ...scatterBack(floatY, ctY)];
    const { grads } = emitVjp(b, body, [...cT, ...xAt], bodyCts, [...floatC, ...wrtX]);
    const gC = pick(grads.slice(0, nC), floatC).map((g, i) => g ?? full(b, pick(carryT, floatC)[i], 0));
    const gX = pick(grads.slice(nC), wrtX).map((g, i) => g ?? full(b, pick(xT, wrtX)[i], 0));
    return [...gC, ...gX];
  });
  const res = e.bind(
    'scan',
    [...pick(cts.slice(0, nC), floatC), ...saved, ...xs, ...pick(cts.slice(nC), floatY)],
    { length, numCarry: nFc, reverse: !reverse },
    [bwdBody],
  );
  const gInit = scatterBack(floatC, res.slice(0, nFc)).map((g, i) => (needs[i] ? g : null));
  return [...gInit, ...scatterBack(wrtX, res.slice(nFc))];
}
