// Staging user code into IR: IRTrace records every bound primitive into an ir Builder; traceToFunction
// turns a JS function over pytrees into a closed IR Function; inlineFunction replays one through bind.
import type { HostArray } from '../ir/array.js';
import { Builder } from '../ir/builder.js';
import type { DType } from '../ir/dtype.js';
import { KilnError } from '../ir/error.js';
import type { Block, Function, Value } from '../ir/function.js';
import type { AnyAttrs, Attrs, Primitive } from '../ir/ops.js';
import { opRow } from '../ir/ops.js';
import { shapeEqual, typeToString } from '../ir/shape.js';
import type { TensorType } from '../ir/shape.js';
import { getDevice } from '../codegen/device.js';
import { Tensor } from './tensor.js';
import { fnArg } from './args.js';
import { Trace, bind, defaultDevice, nextTraceLevel, withTrace } from './trace.js';
import { TreeDef, flatten, unflatten } from './pytree.js';
import { locEnabled, userSourceLine } from './source_loc.js';

export interface IRTraceOptions {
  /** Record the user's source line on every op (also on with `KILN_LOC=1`). */
  loc?: boolean;
}

/** The id the next tensor will get (ids only grow), by making a throwaway abstract one. */
function peekTensorId(): number {
  return abstractTensor({ dtype: 'bool', shape: [] }, 'none').id;
}

/** The IR Value a tracer of an IRTrace stands for. */
export function valueOf(t: Tensor): Value {
  return t._payload as Value;
}

/**
 * Records ops into a Builder. Tensors of lower levels (eager ones, or tracers of an outer trace) are
 * lifted: one-element eager tensors become `constant` ops, everything else a trailing parameter listed
 * in `captured`, so the traced Function is closed (regions never refer to outer values implicitly).
 */
export class IRTrace implements Trace {
  builder = new Builder();
  readonly captured: Tensor[] = [];
  protected readonly lifted = new Map<Tensor, Tensor>();
  protected finished = false;
  private readonly recordLoc: boolean;
  /** Tensors with ids from here on were created while this trace ran. */
  private readonly firstTensorId = peekTensorId();

  constructor(
    readonly level: number,
    readonly name: string,
    readonly device: string,
    opts: IRTraceOptions = {},
  ) {
    this.recordLoc = opts.loc ?? locEnabled();
  }

  /** A tracer for `value`, belonging to this trace. */
  tracer(value: Value, device = this.device): Tensor {
    return Tensor._traced(this, value.type.dtype, value.type.shape, device, value);
  }

  /** A fresh parameter of the traced function. */
  param(type: TensorType, device = this.device, name?: string): Tensor {
    return this.tracer(this.builder.param(type, name), device);
  }

  process(prim: Primitive, inputs: Tensor[], attrs: AnyAttrs, regions: readonly Block[]): Tensor[] {
    this.checkOpen();
    // `device` only says where an eager creation op runs; it is placement, not part of the op's meaning.
    const { device, ...irAttrs } = attrs;
    const outDevice = (device as string | undefined) ?? inputs[0]?.device ?? this.device;
    const loc = this.recordLoc ? userSourceLine() : undefined;
    const values = this.record(prim, inputs.map(valueOf), irAttrs, regions, loc);
    return values.map((v) => this.tracer(v, outDevice));
  }

  /** Appends one op; subclasses (jit's segmented trace) override where ops go. */
  protected record(prim: Primitive, operands: Value[], attrs: AnyAttrs, regions: readonly Block[], loc?: string): Value[] {
    return this.builder.op(prim, operands, attrs as Attrs<Primitive>, regions, loc);
  }

  lift(t: Tensor): Tensor {
    this.checkOpen();
    if (t._trace && t._trace.level >= this.level) {
      throw new KilnError(`${this.name}: a tensor ${t.describe()} from another trace (${t._trace.name}) was used here; it escaped the function that traced it (stored outside, or returned through a closure)`);
    }
    let out = this.lifted.get(t);
    if (!out) {
      out = this.liftNew(t);
      this.lifted.set(t, out);
    }
    return out;
  }

  protected liftNew(t: Tensor): Tensor {
    if (!t._trace && t.size === 1 && t.id >= this.firstTensorId) {
      // Scalars made while tracing (JS numbers in `mul(x, 2)`) are baked in so simplify can fold them.
      // Older tensors are captured instead: optimizers update parameters in place (Tensor._assign), and a
      // baked copy would go stale in a compiled trace that outlives this call.
      const host = getDevice(t.device).readSync(t._buf());
      const v = this.record('constant', [], { value: [Number(host.data[0])], dtype: t.dtype, shape: [...t.shape] }, []);
      return this.tracer(v[0], t.device);
    }
    return this.capture(t);
  }

  /** Makes `t` an extra trailing parameter; the caller passes `captured` after the arguments. */
  protected capture(t: Tensor): Tensor {
    this.captured.push(t);
    return this.param({ dtype: t.dtype, shape: t.shape }, t.device);
  }

  concretize(t: Tensor, why: string): HostArray {
    const line = userSourceLine();
    throw new KilnError(
      `${this.name}: ${why} needs the value of a traced tensor ${t.describe()}${line ? ` at ${line}` : ''}, but inside a trace only shapes are known. ` +
        `Use cond(pred, trueFn, falseFn, ...operands) or whileLoop(condFn, bodyFn, init) for data-dependent control flow, ` +
        `or compute the value outside the traced function.`,
    );
  }

  /** Ends recording: later ops on this trace's tensors are escaped-tracer errors. */
  finish(): void {
    this.finished = true;
  }

  protected checkOpen(): void {
    if (this.finished) {
      throw new KilnError(`${this.name}: a traced tensor was used after its trace ended; a tracer escaped the traced function (stored in an outer variable?). Return it from the function instead.`);
    }
  }
}

// Abstract tensors: shape/dtype/device only, used as arguments of traceToFunction when no real value
// exists (a scan body's per-step slice). Using one in an op is a bug, hence the throwing trace.
const ABSTRACT: Trace = {
  level: 0,
  name: 'abstract',
  process() {
    throw new KilnError('internal: an abstract tensor (type only) was used in an op');
  },
  lift() {
    throw new KilnError('internal: an abstract tensor (type only) was lifted');
  },
  concretize() {
    throw new KilnError('internal: an abstract tensor (type only) has no value');
  },
};
export function abstractTensor(type: TensorType, device: string): Tensor {
  return Tensor._traced(ABSTRACT, type.dtype, type.shape, device, null);
}

export interface TracedFunction {
  fn: Function;
  inTree: TreeDef;
  outTree: TreeDef;
  /** Lower-level tensors the function closed over; pass them after the argument leaves. */
  captured: Tensor[];
}

export interface TraceOptions extends IRTraceOptions {
  name?: string;
  /** Device of the traced tensors when no argument says (defaults to the first leaf's, else the default device). */
  device?: string;
}

/** Converts JS numbers/booleans anywhere in `tree` to scalar constants of `trace` (outputs must be tensors). */
export function numbersToTensors(trace: IRTrace, tree: unknown): unknown {
  if (typeof tree === 'number' || typeof tree === 'boolean') {
    const dtype: DType = typeof tree === 'boolean' ? 'bool' : 'float32';
    const v = trace.process('constant', [], { value: [Number(tree)], dtype, shape: [] }, []);
    return v[0];
  }
  if (Array.isArray(tree)) return tree.map((x) => numbersToTensors(trace, x));
  if (tree !== null && typeof tree === 'object' && Object.getPrototypeOf(tree) === Object.prototype) {
    return Object.fromEntries(Object.entries(tree).map(([k, x]) => [k, numbersToTensors(trace, x)]));
  }
  return tree;
}

export function fnName(f: (...args: any[]) => unknown, fallback: string): string {
  const name = (f as { name?: string }).name;
  return name && /^[A-Za-z_$][\w$]*$/.test(name) ? name : fallback;
}

/**
 * Traces `f(...args)` into a closed IR Function whose parameters are the tensor leaves of `args`
 * followed by `captured`. Leaves may be eager tensors or tracers of an outer trace.
 */
export function traceToFunction(f: (...args: any[]) => unknown, args: unknown[], opts: TraceOptions = {}): TracedFunction {
  const { leaves, treedef: inTree } = flatten(args);
  const name = opts.name ?? fnName(f, 'traced');
  const device = opts.device ?? leaves[0]?.device ?? defaultDevice();
  const trace = new IRTrace(nextTraceLevel(), name, device, opts);
  const params = leaves.map((l) => trace.param({ dtype: l.dtype, shape: l.shape }, l.device));
  let outLeaves: Tensor[];
  let outTree: TreeDef;
  try {
    ({ leaves: outLeaves, treedef: outTree } = withTrace(trace, () => {
      const out = numbersToTensors(trace, f(...(unflatten(inTree, params) as unknown[])));
      return flatten(out);
    }));
    outLeaves = outLeaves.map((t) => (t._trace === trace ? t : trace.lift(t)));
  } finally {
    trace.finish();
  }
  const fn = trace.builder.finish(name, outLeaves.map(valueOf));
  return { fn, inTree, outTree, captured: trace.captured };
}

/**
 * Evaluates an IR Function by binding each op: eagerly this runs op by op (and records the autograd
 * tape); under an outer trace it inlines the ops into that trace.
 */
export function inlineFunction(fn: Function, inputs: Tensor[]): Tensor[] {
  const { params, ops, results } = fn.body;
  if (inputs.length !== params.length) {
    throw new KilnError(`${fn.name}: takes ${params.length} inputs, got ${inputs.length}`);
  }
  const env = new Map<number, Tensor>();
  params.forEach((p, i) => {
    const x = inputs[i];
    if (x.dtype !== p.type.dtype || !shapeEqual(x.shape, p.type.shape)) {
      throw new KilnError(`${fn.name}: input ${i} must be ${typeToString(p.type)}, got ${x.describe()}`);
    }
    env.set(p.id, x);
  });
  const get = (v: Value): Tensor => {
    const t = env.get(v.id);
    if (!t) throw new KilnError(`${fn.name}: value %${v.id} is used before it is defined`);
    return t;
  };
  const device = inputs[0]?.device;
  for (const op of ops) {
    // Ops without operands (constant, iota) would otherwise land on the default device.
    const attrs = device && opRow(op.prim).arity === 0 ? { ...op.attrs, device } : op.attrs;
    const outs = bind(op.prim, op.operands.map(get), attrs, op.regions);
    op.results.forEach((r, i) => env.set(r.id, outs[i]));
  }
  return results.map(get);
}

/** `makeIR(f)(...args)`: the IR Function `f` traces to, before any optimization (JAX's make_jaxpr). */
export function makeIR(f: (...args: any[]) => unknown, opts: TraceOptions = {}): (...args: unknown[]) => Function {
  fnArg('makeIR', null, f);
  return (...args) => traceToFunction(f, args, opts).fn;
}
