// Launch plans: a Function (fused or not) becomes kernels plus a plan of steps over value slots,
// with control flow (cond/while/scan) as host-side steps whose regions are plans of their own.
// The top-level block follows planMemory: its intermediates live at fixed offsets of one arena, so
// a compiled step allocates only its outputs (from the heap's pools) once warm.
import type { Block, Function, Op, Value } from '../../ir/function.js';
import type { AnyAttrs, Attrs } from '../../ir/ops.js';
import { opRow } from '../../ir/ops.js';
import { sizeOf } from '../../ir/shape.js';
import type { DType } from '../../ir/dtype.js';
import { castScalar } from '../../ir/interpret_scalar.js';
import { KilnError } from '../../ir/error.js';
import { planMemory } from '../../passes/memory.js';
import { freeValues } from '../../passes/walk.js';
import { classify } from '../../passes/fusion_rules.js';
import type { Kernel } from '../kernel.js';
import { printKernel } from '../kernel.js';
import { buildKernel, primitiveBlock } from '../kernel_build.js';
import { BYTES_OF } from './emit.js';

// The plan's data shape is defined once, in format/wasm_plan.ts (below codegen in the layers: the
// artifact format and kiln/runtime read the same types, and format may not import codegen).
export type { PlanSlot as SlotType, PlanStep as Step, PlanSlotKind as SlotKind, PlanProgram as ProgramPlan } from '../../format/wasm_plan.js';
import type { PlanSlot as SlotType, PlanStep as Step, PlanSlotKind as SlotKind, PlanProgram as ProgramPlan } from '../../format/wasm_plan.js';

export interface ExecutablePlan {
  readonly main: ProgramPlan;
  readonly kernels: readonly Kernel[];
  /** Constant data (top-level constant ops and kernel const buffers), uploaded once. */
  readonly consts: readonly { dtype: DType; shape: readonly number[]; data: readonly number[] }[];
  /** Per kernel: indices into `consts` of its const buffers, in its buffer order. */
  readonly kernelConsts: readonly (readonly number[])[];
}

const typeOfValue = (v: Value): SlotType => ({ dtype: v.type.dtype, shape: v.type.shape, bytes: sizeOf(v.type.shape) * BYTES_OF[v.type.dtype] });

/** Ops whose kernel reads element p of an input only in the iteration that writes element p. */
function inPlaceSafe(op: Op): boolean {
  if (op.prim !== 'fusion') return classify(op) === 'elementwise';
  const kind = (op.attrs as Attrs<'fusion'>).kind;
  return kind === 'elementwise' || kind === 'contraction';
}

class PlanBuilder {
  readonly kernels: Kernel[] = [];
  readonly consts: { dtype: DType; shape: readonly number[]; data: readonly number[] }[] = [];
  readonly kernelConsts: number[][] = [];
  private readonly kernelKeys = new Map<string, number>();

  constructor(readonly name: string) {}

  kernel(k: Kernel): number {
    // Printed text identifies a kernel (shared nodes print once, unlike JSON of the DAG).
    const key = printKernel({ ...k, name: '' }) + JSON.stringify(k.buffers.map((b) => b.data ?? null));
    const hit = this.kernelKeys.get(key);
    if (hit !== undefined) return hit;
    const i = this.kernels.length;
    this.kernels.push(k);
    this.kernelConsts.push(k.buffers.flatMap((b) => (b.role === 'const' ? [this.constant(b.dtype, [b.size], b.data!)] : [])));
    this.kernelKeys.set(key, i);
    return i;
  }

  constant(dtype: DType, shape: readonly number[], data: readonly number[]): number {
    this.consts.push({ dtype, shape, data });
    return this.consts.length - 1;
  }

  /** A plan for `block` taking its params and then `captures` (values of enclosing blocks). */
  program(block: Block, captures: readonly Value[], top: boolean, donate: readonly number[] = []): ProgramPlan {
    const slots: SlotType[] = [];
    const kinds: SlotKind[] = [];
    const constOf: number[] = [];
    const arenaOffsets: number[] = [];
    const slotOf = new Map<Value, number>();
    const newSlot = (t: SlotType, kind: SlotKind, c = -1, off = -1): number => {
      slots.push(t);
      kinds.push(kind);
      constOf.push(c);
      arenaOffsets.push(off);
      return slots.length - 1;
    };
    const params = [...block.params, ...captures].map((v) => {
      const s = newSlot(typeOfValue(v), 'param');
      slotOf.set(v, s);
      return s;
    });
    const results = new Set(block.results);
    // The memory plan of the top-level block: arena offsets for intermediates.
    let arenaBytes = 0;
    const arenaOf = new Map<number, number>();
    if (top) {
      const fn: Function = { name: this.name, body: block };
      const plan = planMemory(fn, { donate, align: 64 });
      const unsafe = new Set<number>();
      const valueById = new Map<number, Value>();
      for (const v of block.params) valueById.set(v.id, v);
      for (const o of block.ops) for (const r of o.results) valueById.set(r.id, r);
      for (const { output, input } of plan.inPlace) {
        const op = block.ops.find((o) => o.results.some((r) => r.id === output));
        // A forward loop may only overwrite its input with elements no wider than the input's
        // (an f32 select written over its bool predicate would clobber predicates not yet read).
        const wider = BYTES_OF[valueById.get(output)!.type.dtype] > BYTES_OF[valueById.get(input)!.type.dtype];
        if (!op || !inPlaceSafe(op) || wider) unsafe.add(output);
      }
      for (const [id, slot] of plan.assignment) {
        const s = plan.slots[slot];
        if (s.param !== undefined || unsafe.has(id)) continue;
        arenaOf.set(id, s.offset);
      }
      arenaBytes = plan.slots.filter((s) => s.param === undefined).reduce((m, s) => Math.max(m, s.offset + s.bytes), 0);
    }
    const steps: Step[] = [];
    const slot = (v: Value): number => {
      const s = slotOf.get(v);
      if (s === undefined) throw new KilnError(`internal: wasm: value %${v.id} is read before it is defined`);
      return s;
    };
    const define = (v: Value, kernelMade: boolean): number => {
      const off = kernelMade && !results.has(v) ? arenaOf.get(v.id) : undefined;
      const s = off === undefined ? newSlot(typeOfValue(v), 'fresh') : newSlot(typeOfValue(v), 'arena', -1, off);
      slotOf.set(v, s);
      return s;
    };
    block.ops.forEach((op, i) => {
      const what = op.prim === 'fusion' ? op.regions[0].ops.map((o) => o.prim).join('+') : op.prim;
      switch (op.prim) {
        case 'constant': {
          const { value, dtype, shape } = op.attrs as Attrs<'constant'>;
          const n = sizeOf(shape);
          const data = value.length === n ? value.map((x) => castScalar(x, dtype)) : new Array<number>(n).fill(castScalar(value[0], dtype));
          const c = this.constant(dtype, shape, data);
          slotOf.set(op.results[0], newSlot(typeOfValue(op.results[0]), 'const', c));
          return;
        }
        case 'cond': {
          const [pred, ...args] = op.operands;
          const caps = [...new Set([...freeValues(op.regions[0]), ...freeValues(op.regions[1])])];
          const branches = [this.program(op.regions[0], caps, false), this.program(op.regions[1], caps, false)] as const;
          steps.push({ kind: 'cond', pred: slot(pred), args: [...args, ...caps].map(slot), branches, outs: op.results.map((r) => define(r, false)) });
          return;
        }
        case 'while': {
          const condCaps = [...freeValues(op.regions[0])];
          const bodyCaps = [...freeValues(op.regions[1])];
          steps.push({
            kind: 'while', args: op.operands.map(slot), condCaptures: condCaps.map(slot), bodyCaptures: bodyCaps.map(slot),
            cond: this.program(op.regions[0], condCaps, false), body: this.program(op.regions[1], bodyCaps, false),
            outs: op.results.map((r) => define(r, false)),
          });
          return;
        }
        case 'scan': {
          const { length, numCarry, reverse } = op.attrs as Attrs<'scan'>;
          const caps = [...freeValues(op.regions[0])];
          steps.push({
            kind: 'scan', args: op.operands.map(slot), captures: caps.map(slot), body: this.program(op.regions[0], caps, false),
            length, numCarry, reverse, outs: op.results.map((r) => define(r, false)),
          });
          return;
        }
        default: {
          if (opRow(op.prim).category === 'control') throw new KilnError(`internal: wasm: no plan for ${op.prim}`);
          const region = op.prim === 'fusion' ? op.regions[0] : primitiveBlock(op.prim, op.operands.map((v) => v.type), op.attrs as AnyAttrs);
          const k = this.kernel(buildKernel(`${this.name}_${i}_${what.slice(0, 40).replace(/[^a-z0-9_+]/gi, '')}`, region));
          steps.push({ kind: 'kernel', kernel: k, ins: op.operands.map(slot), outs: op.results.map((r) => define(r, true)), what });
        }
      }
    });
    // Results must be fresh buffers the caller owns: copy params, constants, arena values and repeats.
    const seen = new Set<number>();
    const resultSlots = block.results.map((v) => {
      const s = slot(v);
      if (kinds[s] === 'fresh' && !seen.has(s)) {
        seen.add(s);
        return s;
      }
      const out = newSlot(slots[s], 'fresh');
      steps.push({ kind: 'copy', from: s, out });
      return out;
    });
    // Free each fresh temporary after its last reader.
    const last = new Map<number, number>();
    const reads = (st: Step): readonly number[] => {
      switch (st.kind) {
        case 'kernel': return st.ins;
        case 'copy': return [st.from];
        case 'cond': return [st.pred, ...st.args];
        case 'while': return [...st.args, ...st.condCaptures, ...st.bodyCaptures];
        case 'scan': return [...st.args, ...st.captures];
      }
    };
    const writes = (st: Step): readonly number[] => (st.kind === 'copy' ? [st.out] : st.outs);
    steps.forEach((st, i) => {
      for (const s of reads(st)) last.set(s, i);
      for (const s of writes(st)) if (!last.has(s)) last.set(s, i);
    });
    const keep = new Set(resultSlots);
    const frees: number[][] = steps.map(() => []);
    for (const [s, i] of last) if (kinds[s] === 'fresh' && !keep.has(s)) frees[i].push(s);
    return { slots, kinds, arenaOffsets, arenaBytes, constOf, params, steps, results: resultSlots, frees };
  }
}

/** Plans a whole Function: its kernels, constants and the launch plan of its body. */
export function planFunction(fn: Function, donate: readonly number[] = []): ExecutablePlan {
  const b = new PlanBuilder(fn.name.replace(/[^a-z0-9_]/gi, '_'));
  const main = b.program(fn.body, [], true, donate);
  return { main, kernels: b.kernels, consts: b.consts, kernelConsts: b.kernelConsts };
}
