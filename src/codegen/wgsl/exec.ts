// The WebGPU launch-plan executor: a plan (kernels with their shader pipelines, baked constants,
// control flow as host-side loops of dispatches) recorded into the runtime's command encoder. It
// imports no kernel builder, emitter or pass, so kiln/runtime runs exported WGSL with it, and jit
// (plan.ts) runs its own compiled plans with the very same code.
//
// Sync points: `scan` needs none (slices move with copyBufferToBuffer inside the command buffer).
// `cond` and `while` must know a predicate: the executor submits what it has recorded, waits for a
// 4-byte readback and goes on from a promise; later work queues behind it (runtime.schedule).
import type { Block, Op, Value } from '../../ir/function.js';
import type { Attrs } from '../../ir/ops.js';
import type { DType } from '../../ir/dtype.js';
import { sizeOf } from '../../ir/shape.js';
import { KilnError } from '../../ir/error.js';
import { opReads } from '../../ir/free_values.js';
import { spendIteration, loopBudget } from '../../ir/loop_budget.js';
import type { LoopBudget } from '../../ir/loop_budget.js';
import type { GpuRuntime } from './runtime.js';
import type { Phase } from './emit.js';
import { GPU_BYTES } from './types.js';
import type { GpuDType } from './types.js';

/** Host values as the GPU stores them (bool as one u32 per element). */
export function storageBytes(dtype: GpuDType, data: ArrayLike<number>): ArrayBufferView {
  switch (dtype) {
    case 'float32': return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'int32': return data instanceof Int32Array ? data : Int32Array.from(data);
    case 'bool': return Uint32Array.from(data, (x) => (x ? 1 : 0));
  }
}

// ---- kernels -------------------------------------------------------------------------------------

/** What recording a kernel needs to know of it: its buffers (roles, sizes) and its phases. */
export interface KernelLayout {
  readonly name: string;
  readonly buffers: readonly { readonly role: 'input' | 'const' | 'output'; readonly dtype: DType; readonly size: number }[];
}

export interface CompiledKernel {
  readonly gpu: { readonly kernel: KernelLayout; readonly phases: readonly Phase[] };
  readonly pipelines: readonly GPUComputePipeline[];
  /** Constant data baked into the kernel, by buffer index. */
  readonly consts: ReadonlyMap<number, GPUBuffer>;
}

/** Records the dispatches of one kernel: `inputs` and `outputs` in the kernel's buffer order. */
export function recordKernel(rt: GpuRuntime, ck: CompiledKernel, inputs: readonly GPUBuffer[], outputs: readonly GPUBuffer[]): void {
  const { kernel } = ck.gpu;
  for (const o of outputs) if (inputs.includes(o)) throw new KilnError(`internal: webgpu: kernel ${kernel.name} would write a buffer it reads (a buffer was released while still in use)`);
  const all: GPUBuffer[] = [];
  let nIn = 0;
  let nOut = 0;
  kernel.buffers.forEach((b, i) => all.push(b.role === 'input' ? inputs[nIn++] : b.role === 'const' ? ck.consts.get(i)! : outputs[nOut++]));
  const words = Math.max(0, ...ck.gpu.phases.map((ph) => ph.scratchWords ?? 0));
  const scratch = words ? rt.acquire(words * GPU_BYTES) : null;
  ck.gpu.phases.forEach((phase, p) => {
    let bound = phase.bindings.map((i) => (i < 0 ? scratch! : all[i]));
    let pack: GPUBuffer | null = null;
    if (phase.pack) {
      pack = rt.acquire(phase.pack.words * GPU_BYTES);
      phase.pack.buffers.forEach((i, j) => rt.copy(all[i], 0, pack!, phase.pack!.offsets[j] * GPU_BYTES, kernel.buffers[i].size * GPU_BYTES));
      bound = [pack, ...bound];
    }
    rt.dispatch(phase, ck.pipelines[p], bound);
    if (pack) rt.release(pack);
  });
  if (scratch) rt.release(scratch);
}

// ---- plans ---------------------------------------------------------------------------------------

type Step =
  | { readonly kind: 'kernel'; readonly op: Op; readonly kernel: CompiledKernel }
  | { readonly kind: 'constant'; readonly op: Op; readonly buffer: GPUBuffer }
  | { readonly kind: 'cond'; readonly op: Op; readonly branches: readonly Plan[] }
  | { readonly kind: 'while'; readonly op: Op; readonly cond: Plan; readonly body: Plan }
  | { readonly kind: 'scan'; readonly op: Op; readonly body: Plan };

export interface Plan {
  readonly block: Block;
  readonly steps: readonly Step[];
  /** Values defined in the block whose last reader is step i (released after it). */
  readonly frees: readonly (readonly number[])[];
}

/** How a plan gets its kernels and constants: compiled on the spot (jit) or read from a file (runtime). */
export interface PlanSource {
  kernel(op: Op): CompiledKernel;
  constant(op: Op): GPUBuffer;
}

/**
 * A block's plan. Kernels are asked for in one fixed order, `kernelOps` order (ops in order,
 * control-flow regions entered where they stand), so an exported kernel list lines up with the IR.
 */
export function buildPlan(block: Block, source: PlanSource): Plan {
  const steps: Step[] = block.ops.map((op): Step => {
    switch (op.prim) {
      case 'constant':
        return { kind: 'constant', op, buffer: source.constant(op) };
      case 'cond':
        return { kind: 'cond', op, branches: op.regions.map((r) => buildPlan(r, source)) };
      case 'while':
        return { kind: 'while', op, cond: buildPlan(op.regions[0], source), body: buildPlan(op.regions[1], source) };
      case 'scan':
        return { kind: 'scan', op, body: buildPlan(op.regions[0], source) };
      default:
        return { kind: 'kernel', op, kernel: source.kernel(op) };
    }
  });
  // Liveness: a value dies after the last step that reads it (reads inside regions count).
  const last = new Map<number, number>();
  block.ops.forEach((op, i) => opReads(op).forEach((v) => last.set(v.id, i)));
  const defined = new Set(block.ops.flatMap((op) => op.results.map((v) => v.id)));
  const kept = new Set(block.results.map((v) => v.id));
  const frees: number[][] = block.ops.map(() => []);
  for (const [id, i] of last) if (defined.has(id) && !kept.has(id)) frees[i].push(id);
  block.ops.forEach((op, i) => op.results.forEach((v) => {
    if (!last.has(v.id) && !kept.has(v.id)) frees[i].push(v.id);
  }));
  return { block, steps, frees };
}

const PLAN_CONTROL = new Set(['constant', 'cond', 'while', 'scan']);

/** The ops that become kernels, in the order buildPlan asks for them. */
export function kernelOps(block: Block, out: Op[] = []): Op[] {
  for (const op of block.ops) {
    if (!PLAN_CONTROL.has(op.prim)) out.push(op);
    else op.regions.forEach((r) => kernelOps(r, out));
  }
  return out;
}

// ---- execution -----------------------------------------------------------------------------------

/** A value's buffer during a run; `owned` buffers belong to the run and are released at last use. */
export interface Slot {
  readonly buf: GPUBuffer;
  readonly owned: boolean;
}

class Env {
  private readonly vals = new Map<number, Slot>();
  /** Loop iterations (while, scan) left to the call, shared by all its loops (artifacts from untrusted files). */
  readonly budget: LoopBudget;
  constructor(private readonly parent?: Env, budget?: LoopBudget) {
    this.budget = budget ?? parent?.budget ?? loopBudget();
  }
  set(v: Value, s: Slot): void {
    this.vals.set(v.id, s);
  }
  get(v: Value): Slot {
    const s = this.vals.get(v.id) ?? this.parent?.get(v);
    if (!s) throw new KilnError(`internal: webgpu: value %${v.id} is read before it is computed`);
    return s;
  }
  take(id: number): Slot | undefined {
    const s = this.vals.get(id);
    this.vals.delete(id);
    return s;
  }
}

type MaybePromise<T> = T | Promise<T>;
const then = <T, U>(x: MaybePromise<T>, f: (t: T) => MaybePromise<U>): MaybePromise<U> => (x instanceof Promise ? x.then(f) : f(x));

const bytesOf = (v: Value): number => sizeOf(v.type.shape) * GPU_BYTES;

/** A run-owned copy of a slot (results never alias inputs or constants). */
function ownedCopy(rt: GpuRuntime, s: Slot, bytes: number): Slot {
  if (s.owned) return s;
  const buf = rt.acquire(bytes);
  rt.copy(s.buf, 0, buf, 0, Math.ceil(bytes / 4) * 4);
  return { buf, owned: true };
}

const releaseSlot = (rt: GpuRuntime, s: Slot) => {
  if (s.owned) rt.release(s.buf);
};

/** Waits for a bool[] on the host (the sync point of cond and while); `release` frees a temporary. */
async function readPredicate(rt: GpuRuntime, s: Slot, release: boolean): Promise<boolean> {
  const word = new Uint32Array(await rt.readNow(s.buf, 4))[0];
  if (release) releaseSlot(rt, s);
  return word !== 0;
}

/**
 * Records a plan; returns its results (run-owned), or a promise when it waits for a predicate.
 * `maxIterations` bounds the loop iterations (while, scan) of the call, all loops together (a KilnError past
 * it); jit leaves it unbounded.
 */
export function runPlan(rt: GpuRuntime, plan: Plan, args: readonly Slot[], parent?: Env, maxIterations?: number): MaybePromise<Slot[]> {
  const env = new Env(parent, parent ? undefined : loopBudget(maxIterations));
  // The caller keeps ownership of the arguments: inside, they are views (a returned one is copied).
  plan.block.params.forEach((p, i) => env.set(p, { buf: args[i].buf, owned: false }));
  const go = (from: number): MaybePromise<Slot[]> => {
    for (let i = from; i < plan.steps.length; i++) {
      const r = runStep(rt, plan.steps[i], env);
      const free = () => plan.frees[i].forEach((id) => {
        const s = env.take(id);
        if (s) releaseSlot(rt, s);
      });
      if (r instanceof Promise) return r.then(() => (free(), go(i + 1)));
      free();
    }
    // Results: transfer run-owned buffers (each once); copy params, outer values, constants, repeats.
    const given = new Map<number, Slot>();
    return plan.block.results.map((v) => {
      const prev = given.get(v.id);
      if (prev) return ownedCopy(rt, { buf: prev.buf, owned: false }, bytesOf(v));
      const s = env.take(v.id) ?? env.get(v);
      given.set(v.id, s);
      return s.owned ? s : ownedCopy(rt, s, bytesOf(v));
    });
  };
  return go(0);
}

function runStep(rt: GpuRuntime, step: Step, env: Env): MaybePromise<void> {
  const { op } = step;
  const bind = (slots: readonly Slot[]) => op.results.forEach((v, i) => env.set(v, slots[i]));
  switch (step.kind) {
    case 'constant':
      env.set(op.results[0], { buf: step.buffer, owned: false });
      return;
    case 'kernel': {
      const outs = op.results.map((v) => ({ buf: rt.acquire(bytesOf(v)), owned: true }));
      recordKernel(rt, step.kernel, op.operands.map((v) => env.get(v).buf), outs.map((s) => s.buf));
      bind(outs);
      return;
    }
    case 'cond': {
      const [pred, ...operands] = op.operands;
      return readPredicate(rt, env.get(pred), false).then((p) => then(runPlan(rt, step.branches[p ? 0 : 1], operands.map((v) => env.get(v)), env), bind));
    }
    case 'while': {
      const iterate = (carry: Slot[]): Promise<Slot[]> =>
        Promise.resolve(runPlan(rt, step.cond, carry, env)).then(([p]) => readPredicate(rt, p, true)).then((go) => {
          if (!go) return carry;
          spendIteration(env.budget);
          return Promise.resolve(runPlan(rt, step.body, carry, env)).then((next) => {
            carry.forEach((s) => releaseSlot(rt, s));
            return iterate(next);
          });
        });
      // The initial carry is the enclosing block's (it frees it at its last use): a view here, so the
      // first iteration does not release it too (a buffer released twice is handed out twice).
      const init = op.operands.map((v) => ({ buf: env.get(v).buf, owned: false }));
      return iterate(init).then((carry) => bind(carry.map((s, i) => ownedCopy(rt, s, bytesOf(op.results[i])))));
    }
    case 'scan':
      return runScan(rt, step, env, bind);
  }
}

function runScan(rt: GpuRuntime, step: Extract<Step, { kind: 'scan' }>, env: Env, bind: (s: readonly Slot[]) => void): MaybePromise<void> {
  const { op } = step;
  const { length, numCarry, reverse } = op.attrs as Attrs<'scan'>;
  const xs = op.operands.slice(numCarry);
  const xBytes = xs.map((v) => bytesOf(v) / Math.max(1, length));
  const ys = op.results.slice(numCarry).map((v) => ({ buf: rt.acquire(bytesOf(v)), owned: true }));
  const yBytes = op.results.slice(numCarry).map((v) => bytesOf(v) / Math.max(1, length));
  const finish = (carry: Slot[]) => bind([...carry.map((s, i) => ownedCopy(rt, s, bytesOf(op.results[i]))), ...ys]);
  const afterStep = (t: number, carry: Slot[], slices: Slot[], res: Slot[]): Slot[] => {
    res.slice(numCarry).forEach((y, j) => {
      rt.copy(y.buf, 0, ys[j].buf, t * yBytes[j], yBytes[j]);
      releaseSlot(rt, y);
    });
    slices.forEach((s) => releaseSlot(rt, s));
    carry.forEach((s) => releaseSlot(rt, s));
    return res.slice(0, numCarry);
  };
  const loop = (k: number, carry: Slot[]): MaybePromise<void> => {
    for (let step_ = k; step_ < length; step_++) {
      spendIteration(env.budget, 'scan');
      const t = reverse ? length - 1 - step_ : step_;
      const slices = xs.map((v, j) => {
        const buf = rt.acquire(xBytes[j]);
        rt.copy(env.get(v).buf, t * xBytes[j], buf, 0, xBytes[j]);
        return { buf, owned: true };
      });
      const r = runPlan(rt, step.body, [...carry, ...slices], env);
      if (r instanceof Promise) {
        const c = carry;
        return r.then((res) => loop(step_ + 1, afterStep(t, c, slices, res)));
      }
      carry = afterStep(t, carry, slices, r);
    }
    finish(carry);
  };
  // Views of the enclosing block's values, as in `while`: afterStep releases only carries it made.
  return loop(0, op.operands.slice(0, numCarry).map((v) => ({ buf: env.get(v).buf, owned: false })));
}
