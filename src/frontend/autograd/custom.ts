// Custom gradients: customVjp(fn, fwd, bwd) with JAX's convention, a class form like
// torch.autograd.Function, and stopGradient/detach. Eagerly a custom call is one tape node whose
// backward is the user's bwd; under tracing the forward ops are recorded normally, the outputs get
// marker ops and the traced bwd is registered for the IR pass (src/passes/autodiff/custom.ts).
import { KilnError } from '../../ir/error.js';
import type { Value } from '../../ir/function.js';
import { registerCustomVjp } from '../../passes/autodiff/custom.js';
import { Tensor } from '../tensor.js';
import { fnArg, show, tensorArg } from '../args.js';
import { bind, currentTrace } from '../trace.js';
import { tensor } from '../convert.js';
import { flatten, unflatten, TreeDef } from '../pytree.js';
import { IRTrace, traceToFunction, valueOf } from '../tracing.js';
import { isGradEnabled, noGrad, recordCustomNode } from './tape.js';
import { fullLike } from './backward.js';

const isFloatTensor = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64';

/** Whether tensors must be handled symbolically (a trace is active or some leaf is a tracer). */
export function isTracing(leaves: readonly Tensor[]): boolean {
  return currentTrace() !== null || leaves.some((t) => t.isTraced);
}

/** The id the next tensor gets (ids only grow): tensors made from here on have ids at least this. */
export const peekTensorId = (): number => tensor(false).id;

/** An identity op giving `t` a fresh value (reshape to its own shape). */
const marker = (t: Tensor): Tensor => bind('reshape', [t], { shape: [...t.shape] })[0];

/** The IR value of `t` inside the IR trace `trace` (lifting lower-level tensors into it). */
function valueIn(trace: IRTrace, t: Tensor): Value {
  return valueOf(t._trace === trace ? t : trace.lift(t));
}

/**
 * Flattens bwd's answer (one entry per argument: a tree like the argument, or null) into one
 * cotangent per tensor leaf of the arguments; `zero` fills the nulls when given.
 */
function gradLeaves(op: string, grads: unknown, argTrees: readonly TreeDef[], argLeaves: readonly Tensor[][], zero?: (like: Tensor) => Tensor): (Tensor | null)[] {
  if (!Array.isArray(grads)) throw new KilnError(`${op}: bwd must return an array with one gradient per argument, got ${typeof grads}`);
  if (grads.length !== argTrees.length) throw new KilnError(`${op}: bwd returned ${grads.length} gradient(s) for ${argTrees.length} argument(s)`);
  const out: (Tensor | null)[] = [];
  grads.forEach((g, i) => {
    const like = argLeaves[i];
    if (g === null || g === undefined) {
      for (const x of like) out.push(zero ? zero(x) : null);
      return;
    }
    const leaves = flatten(g).leaves;
    if (leaves.length !== like.length) throw new KilnError(`${op}: the gradient of argument ${i} has ${leaves.length} tensor(s), the argument has ${like.length}`);
    leaves.forEach((t, j) => {
      const x = like[j];
      if (t.dtype !== x.dtype || t.shape.length !== x.shape.length || t.shape.some((d, k) => d !== x.shape[k])) {
        throw new KilnError(`${op}: gradient ${t.describe()} of argument ${i} does not match ${x.describe()}`);
      }
      out.push(t);
    });
  });
  return out;
}

/**
 * `customVjp(fn, fwd, bwd)`: a function computing `fn` whose gradient is given by the user.
 * `fwd(...args)` returns `[out, residuals]`; `bwd(residuals, gOut)` returns one gradient per argument
 * (shaped like it, or null for none). Works with backward(), grad and inside jit alike.
 */
export function customVjp<A extends unknown[], R>(
  fn: (...args: A) => R,
  fwd: (...args: A) => [R, unknown],
  bwd: (residuals: any, gOut: R) => unknown[],
): (...args: A) => R {
  fnArg('customVjp', 'fn', fn);
  fnArg('customVjp', 'fwd', fwd);
  fnArg('customVjp', 'bwd', bwd);
  const op = `customVjp(${fn.name || 'fn'})`;
  return (...args: A): R => {
    const argFlat = args.map((a) => flatten(a));
    const argLeaves = argFlat.map((f) => f.leaves);
    const all = argLeaves.flat();
    if (isTracing(all)) return traced(op, fwd, bwd, args, argFlat.map((f) => f.treedef), argLeaves);
    if (!isGradEnabled() || !all.some((t) => t.requiresGrad)) return fn(...args);
    // fwd is recorded as usual: its outputs' nodes are replaced below, but the residuals keep their
    // graph, so a backward with createGraph differentiates bwd through them (higher order).
    const firstId = peekTensorId();
    const [out, res] = fwd(...args);
    const { leaves: outLeaves0, treedef: outTree } = flatten(out);
    // Outputs must be fresh tensors to carry the node (fwd may return an input or an older tensor).
    const outLeaves = outLeaves0.map((t) => (t.id < firstId ? noGrad(() => marker(t)) : t));
    const inputs = all.filter(isFloatTensor);
    recordCustomNode(inputs, outLeaves, (cts) => {
      const grads = gradLeaves(op, bwd(res, unflatten(outTree, cts)), argFlat.map((f) => f.treedef), argLeaves);
      return grads.filter((_, i) => isFloatTensor(all[i]));
    });
    return unflatten(outTree, outLeaves);
  };
}

function traced<A extends unknown[], R>(
  op: string, fwd: (...args: A) => [R, unknown], bwd: (residuals: any, gOut: R) => unknown[],
  args: A, argTrees: TreeDef[], argLeaves: Tensor[][],
): R {
  const [out, res] = fwd(...args);
  const { leaves: outLeaves, treedef: outTree } = flatten(out);
  const markers = outLeaves.map(marker);
  const trace = markers[0]?._trace;
  if (!(trace instanceof IRTrace)) return unflatten(outTree, markers);
  const all = argLeaves.flat();
  const floatIdx = all.map((t, i) => (isFloatTensor(t) ? i : -1)).filter((i) => i >= 0);
  const resLeaves = flatten(res).leaves;
  // bwd as a closed Function of (residual leaves..., output cotangents...) -> one cotangent per float input.
  const tb = traceToFunction(
    (r: unknown, g: R) => {
      const grads = gradLeaves(op, bwd(r, g), argTrees, argLeaves, (x) => fullLike(x, 0));
      return floatIdx.map((i) => grads[i]);
    },
    [res, unflatten(outTree, markers)],
    { name: 'custom_bwd' },
  );
  registerCustomVjp({
    outputs: markers.map((m) => valueIn(trace, m)),
    inputs: floatIdx.map((i) => valueIn(trace, all[i])),
    residuals: resLeaves.map((t) => valueIn(trace, t)),
    captured: tb.captured.map((t) => valueIn(trace, t)),
    bwd: tb.fn,
  });
  return unflatten(outTree, markers);
}

/**
 * The value of `x` with no gradient flowing through it (JAX's stop_gradient). Eagerly a copy that is
 * not on the tape (copies keep dispose() of one from freeing the other); traced, an identity op the
 * IR pass does not differentiate.
 */
export function stopGradient(x: Tensor): Tensor {
  tensorArg('stopGradient', x);
  if (!isTracing([x])) return noGrad(() => marker(x));
  const m = marker(x);
  const trace = m._trace;
  if (trace instanceof IRTrace) {
    const v = valueOf(m);
    registerCustomVjp({ outputs: [v], inputs: [], residuals: [], captured: [], bwd: null });
  }
  return m;
}

// ---- the class form -------------------------------------------------------------------------------

/** What forward/backward of a CustomFunction share (torch's ctx). Extra fields must be plain data. */
export class FunctionContext {
  savedTensors: Tensor[] = [];
  /** Saves tensors for backward (read them back from `savedTensors`). */
  saveForBackward(...tensors: Tensor[]): void {
    tensors.forEach((t) => {
      if (!(t instanceof Tensor)) throw new KilnError(`saveForBackward: expected tensors, got ${show(t)}`);
    });
    this.savedTensors = tensors;
  }
}

interface CustomFunctionClass {
  forward(ctx: FunctionContext, ...args: any[]): unknown;
  backward(ctx: FunctionContext, ...gOut: any[]): unknown;
  name: string;
}

const compiled = new WeakMap<object, (...args: unknown[]) => unknown>();

/**
 * torch.autograd.Function in Kiln: subclass with static `forward(ctx, ...args)` and
 * `backward(ctx, gOut)` (returning one gradient per argument, or a tensor for a single argument),
 * then call `MyFn.apply(...args)`.
 */
export abstract class CustomFunction {
  static apply<T = Tensor>(this: CustomFunctionClass, ...args: unknown[]): T {
    let f = compiled.get(this);
    if (!f) {
      const cls = this;
      const where = cls.name ? `CustomFunction ${cls.name}` : 'CustomFunction';
      fnArg(where, 'static forward(ctx, ...args)', cls.forward);
      fnArg(where, 'static backward(ctx, gOut)', cls.backward);
      const fwd = (...a: unknown[]): [unknown, unknown] => {
        const ctx = new FunctionContext();
        const out = cls.forward(ctx, ...a);
        const { savedTensors, ...fields } = ctx;
        return [out, [savedTensors, fields]];
      };
      const bwd = (res: [Tensor[], Record<string, unknown>], g: unknown): unknown[] => {
        const ctx = Object.assign(new FunctionContext(), res[1]);
        ctx.savedTensors = res[0];
        const r = cls.backward(ctx, g);
        return Array.isArray(r) ? r : [r];
      };
      f = customVjp((...a: unknown[]) => fwd(...a)[0], fwd, bwd);
      Object.defineProperty(f, 'name', { value: cls.name });
      compiled.set(this, f);
    }
    return f(...args) as T;
  }
}
