// planMemory: assigns every top-level value of a (fused) Function to a reusable buffer slot by
// liveness, so a compiled step allocates its slots once and nothing on later runs. Backends follow it.
import type { Function, Op, Value } from '../ir/function.js';
import { BYTES } from '../ir/dtype.js';
import { shapeEqual, sizeOf } from '../ir/shape.js';
import { fail } from '../ir/error.js';
import { classify } from './fusion_rules.js';
import { opReads } from './walk.js';

export interface Slot {
  readonly bytes: number;
  /** Byte offset in one arena of `peakBytes` (aligned); -1 for slots that are donated parameters. */
  readonly offset: number;
  /** Set when the slot is the buffer of this (donated) parameter index. */
  readonly param?: number;
}

export interface MemoryPlan {
  /** Value id -> slot index, for every op result outside regions except constants. */
  readonly assignment: Map<number, number>;
  readonly slots: readonly Slot[];
  /** Bytes the step allocates: the arena holding all slots that are not donated parameters. */
  readonly peakBytes: number;
  /** What allocating every planned value separately would cost (the no-reuse baseline). */
  readonly sumIntermediateBytes: number;
  /** Outputs written over an input's slot by the op that reads that input for the last time. */
  readonly inPlace: readonly { output: number; input: number }[];
}

export interface PlanOptions {
  /** Parameter indices whose buffers the caller gives up: their last reader may write into them. */
  readonly donate?: readonly number[];
  /** Arena alignment of each slot in bytes (default 64, a cache line and WebGPU's minimum). */
  readonly align?: number;
}

export const bytesOf = (v: Value): number => sizeOf(v.type.shape) * BYTES[v.type.dtype];

/**
 * Whether `op` reads `input` only at the index where it writes `output`, so it may overwrite the
 * input as it goes: a plain elementwise op, or a kernel in which every op depending on that input is
 * elementwise and of the output's shape (an elementwise kernel, or the epilogue of a reduction or
 * contraction, like `w - lr * dot(x, g)`). Backends read element p of every input before writing
 * element p of any output.
 */
function pointwise(op: Op, input: Value, output: Value): boolean {
  if (sizeOf(input.type.shape) !== sizeOf(output.type.shape)) return false;
  if (op.prim !== 'fusion') return classify(op) === 'elementwise' && op.operands.every((v) => sizeOf(v.type.shape) === sizeOf(output.type.shape));
  const region = op.regions[0];
  const tainted = new Set<Value>(op.operands.flatMap((v, i) => (v === input ? [region.params[i]] : [])));
  for (const inner of region.ops) {
    if (!inner.operands.some((v) => tainted.has(v))) continue;
    if (classify(inner) !== 'elementwise' || inner.results.some((r) => !shapeEqual(r.type.shape, output.type.shape))) return false;
    inner.results.forEach((r) => tainted.add(r));
  }
  return true;
}

export function planMemory(fn: Function, opts: PlanOptions = {}): MemoryPlan {
  const { body } = fn;
  const align = opts.align ?? 64;
  const end = body.ops.length;
  const lastUse = new Map<Value, number>();
  body.ops.forEach((op, i) => opReads(op).forEach((v) => lastUse.set(v, i)));
  body.results.forEach((v) => lastUse.set(v, end));

  const slots: { bytes: number; param?: number }[] = [];
  const free: number[] = []; // slot indices
  const slotOf = new Map<Value, number>();
  const assignment = new Map<number, number>();
  const inPlace: { output: number; input: number }[] = [];
  let sumIntermediateBytes = 0;

  for (const i of opts.donate ?? []) {
    const p = body.params[i];
    if (!p) fail('planMemory', `donated parameter ${i} does not exist (${body.params.length} parameters)`);
    slotOf.set(p, slots.length);
    slots.push({ bytes: bytesOf(p), param: i });
    if (!lastUse.has(p)) free.push(slotOf.get(p)!); // never read: free from the start
  }

  body.ops.forEach((op, i) => {
    if (op.prim === 'constant') return; // constants are data baked into the executable
    const dying = new Set(op.operands.filter((v) => lastUse.get(v) === i && slotOf.has(v)));
    for (const r of op.results) {
      const need = bytesOf(r);
      sumIntermediateBytes += need;
      let slot: number | undefined;
      for (const v of dying) {
        const s = slotOf.get(v)!;
        if (slots[s].bytes >= need && pointwise(op, v, r)) {
          slot = s;
          dying.delete(v);
          inPlace.push({ output: r.id, input: v.id });
          break;
        }
      }
      if (slot === undefined) {
        // Best fit among free slots of equal or larger size; else a new slot.
        let best = -1;
        for (let k = 0; k < free.length; k++) if (slots[free[k]].bytes >= need && (best < 0 || slots[free[k]].bytes < slots[free[best]].bytes)) best = k;
        if (best >= 0) slot = free.splice(best, 1)[0];
        else {
          slot = slots.length;
          slots.push({ bytes: need });
        }
      }
      slotOf.set(r, slot);
      assignment.set(r.id, slot);
    }
    // Inputs read for the last time, and results nobody reads, give their slots back.
    for (const v of dying) free.push(slotOf.get(v)!);
    for (const r of op.results) if (!lastUse.has(r)) free.push(slotOf.get(r)!);
    // A value read only inside this op's regions dies here too.
    for (const v of opReads(op)) if (lastUse.get(v) === i && slotOf.has(v) && !op.operands.includes(v)) free.push(slotOf.get(v)!);
  });

  let offset = 0;
  const placed: Slot[] = slots.map((s) => {
    if (s.param !== undefined) return { bytes: s.bytes, offset: -1, param: s.param };
    const at = offset;
    offset += Math.ceil(s.bytes / align) * align;
    return { bytes: s.bytes, offset: at };
  });
  const peakBytes = placed.filter((s) => s.param === undefined).reduce((a, s) => a + s.bytes, 0);
  return { assignment, slots: placed, peakBytes, sumIntermediateBytes, inPlace };
}
