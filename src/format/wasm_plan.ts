// The `wasm.plan` section: the wasm backend's launch plan (codegen/wasm/plan.ts) as JSON, with the
// per-kernel facts the runner needs (scratch bytes, parallel extent). Reading validates every index,
// kind and size, so a hostile plan can at worst trap inside wasm, never reach outside its arrays.
import { KilnError } from '../ir/error.js';
import type { DType } from '../ir/dtype.js';
import { BYTES, isDType } from '../ir/dtype.js';
import { isRecord } from './bytes.js';

export const WASM_PLAN_VERSION = 1;

/**
 * The wasm launch plan's data shape, the one definition: codegen/wasm/plan.ts builds plans of these
 * types (re-exported there as SlotType, Step, SlotKind, ProgramPlan), codegen/wasm/program.ts runs
 * them, and this file reads and writes them as JSON.
 */
export interface PlanSlot {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly bytes: number;
}
export type PlanStep =
  | { readonly kind: 'kernel'; readonly kernel: number; readonly ins: readonly number[]; readonly outs: readonly number[]; readonly what: string }
  | { readonly kind: 'copy'; readonly from: number; readonly out: number }
  | { readonly kind: 'cond'; readonly pred: number; readonly args: readonly number[]; readonly branches: readonly [PlanProgram, PlanProgram]; readonly outs: readonly number[] }
  | { readonly kind: 'while'; readonly args: readonly number[]; readonly condCaptures: readonly number[]; readonly bodyCaptures: readonly number[]; readonly cond: PlanProgram; readonly body: PlanProgram; readonly outs: readonly number[] }
  | { readonly kind: 'scan'; readonly args: readonly number[]; readonly captures: readonly number[]; readonly body: PlanProgram; readonly length: number; readonly numCarry: number; readonly reverse: boolean; readonly outs: readonly number[] };
export type PlanSlotKind = 'param' | 'const' | 'arena' | 'fresh';
export interface PlanProgram {
  readonly slots: readonly PlanSlot[];
  readonly kinds: readonly PlanSlotKind[];
  /** Arena byte offset per slot (-1 unless kind is arena) and the arena's size. */
  readonly arenaOffsets: readonly number[];
  readonly arenaBytes: number;
  /** Constant index per slot (-1 unless kind is const). */
  readonly constOf: readonly number[];
  /** Slots of the block params, then of the captured outer values. */
  readonly params: readonly number[];
  readonly steps: readonly PlanStep[];
  readonly results: readonly number[];
  /** Fresh slots to free after each step (their last reader), not results. */
  readonly frees: readonly (readonly number[])[];
}

/** Constant values as JSON: non-finite values and -0 are spelled as strings. */
export type JsonNumber = number | 'nan' | 'inf' | '-inf' | '-0';

export interface WasmPlanFile {
  readonly version: number;
  readonly main: PlanProgram;
  readonly consts: readonly { readonly dtype: DType; readonly shape: readonly number[]; readonly data: readonly JsonNumber[] }[];
  readonly kernelConsts: readonly (readonly number[])[];
  readonly kernels: readonly { readonly scratch: number; readonly parallel: number }[];
}

export function toJsonNumber(x: number): JsonNumber {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  return x;
}

export function fromJsonNumber(x: JsonNumber): number {
  return typeof x === 'number' ? x : x === 'nan' ? NaN : x === 'inf' ? Infinity : x === '-inf' ? -Infinity : -0;
}

const MAX_DEPTH = 64;
const MAX_ITEMS = 1_000_000;

function bad(msg: string): never {
  throw new KilnError(`artifact: section wasm.plan: ${msg}`);
}

const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function natArray(what: string, x: unknown, below?: number): number[] {
  if (!Array.isArray(x) || x.length > MAX_ITEMS) bad(`${what} must be an array`);
  for (const v of x) if (!isNat(v) || (below !== undefined && v >= below)) bad(`${what} holds ${JSON.stringify(v)}, not an index below ${below ?? 'any bound'}`);
  return x as number[];
}

interface Counts {
  consts: number;
  kernels: number;
  items: number;
  /** Largest slot or arena, in bytes (the loader's memory bound). */
  maxBytes: number;
}

function checkProgram(x: unknown, depth: number, c: Counts, paramCount?: number): PlanProgram {
  if (depth > MAX_DEPTH) bad(`programs nest deeper than ${MAX_DEPTH}`);
  if (!isRecord(x)) bad('a program must be an object');
  const slots = x.slots;
  if (!Array.isArray(slots) || slots.length > MAX_ITEMS) bad('slots must be an array');
  c.items += slots.length;
  if (c.items > MAX_ITEMS) bad('the plan is too large');
  const n = slots.length;
  for (const s of slots) {
    if (!isRecord(s) || !isDType(s.dtype) || !Array.isArray(s.shape) || !s.shape.every(isNat) || !isNat(s.bytes)) bad('a slot must be {dtype, shape, bytes}');
    const size = (s.shape as number[]).reduce((p, d) => p * d, 1);
    if (s.bytes !== size * BYTES[s.dtype as DType]) bad(`a slot of ${s.dtype}[${(s.shape as number[]).join(',')}] declares ${s.bytes} bytes`);
    if (s.bytes > c.maxBytes) bad(`a slot of ${s.bytes} bytes exceeds the ${c.maxBytes}-byte limit`);
  }
  const kinds = x.kinds;
  if (!Array.isArray(kinds) || kinds.length !== n || !kinds.every((k) => k === 'param' || k === 'const' || k === 'arena' || k === 'fresh')) bad('kinds must give param/const/arena/fresh per slot');
  const arenaOffsets = x.arenaOffsets;
  if (!Array.isArray(arenaOffsets) || arenaOffsets.length !== n) bad('arenaOffsets must have one entry per slot');
  if (!isNat(x.arenaBytes)) bad('arenaBytes must be a non-negative integer');
  if (x.arenaBytes > c.maxBytes) bad(`an arena of ${x.arenaBytes} bytes exceeds the ${c.maxBytes}-byte limit`);
  const arenaBytes = x.arenaBytes;
  arenaOffsets.forEach((o, i) => {
    if (kinds[i] === 'arena') {
      if (!isNat(o) || o + (slots[i] as PlanSlot).bytes > arenaBytes) bad(`slot ${i} lies outside the ${arenaBytes}-byte arena`);
    } else if (o !== -1) bad(`slot ${i} is not in the arena but has offset ${JSON.stringify(o)}`);
  });
  const constOf = x.constOf;
  if (!Array.isArray(constOf) || constOf.length !== n) bad('constOf must have one entry per slot');
  constOf.forEach((k, i) => {
    if (kinds[i] === 'const') {
      if (!isNat(k) || k >= c.consts) bad(`slot ${i} names constant ${JSON.stringify(k)} of ${c.consts}`);
    } else if (k !== -1) bad(`slot ${i} is not a constant but names ${JSON.stringify(k)}`);
  });
  const params = natArray('params', x.params, n);
  if (paramCount !== undefined && params.length !== paramCount) bad(`the main program takes ${params.length} parameters, the IR ${paramCount}`);
  if (params.some((s) => kinds[s] !== 'param')) bad('a parameter slot is not of kind param');
  if (!Array.isArray(x.steps) || x.steps.length > MAX_ITEMS) bad('steps must be an array');
  const steps = x.steps.map((st) => checkStep(st, n, depth, c));
  const results = natArray('results', x.results, n);
  if (!Array.isArray(x.frees) || x.frees.length !== steps.length) bad('frees must have one list per step');
  const frees = x.frees.map((f) => natArray('frees', f, n));
  return { slots: slots as PlanSlot[], kinds: kinds as PlanSlotKind[], arenaOffsets: arenaOffsets as number[], arenaBytes, constOf: constOf as number[], params, steps, results, frees };
}

function checkStep(x: unknown, n: number, depth: number, c: Counts): PlanStep {
  if (!isRecord(x)) bad('a step must be an object');
  const idx = (what: string, v: unknown) => natArray(what, v, n);
  const one = (what: string, v: unknown) => idx(what, [v])[0];
  switch (x.kind) {
    case 'kernel':
      if (!isNat(x.kernel) || x.kernel >= c.kernels) bad(`a step names kernel ${JSON.stringify(x.kernel)} of ${c.kernels}`);
      return { kind: 'kernel', kernel: x.kernel, ins: idx('ins', x.ins), outs: idx('outs', x.outs), what: typeof x.what === 'string' ? x.what.slice(0, 200) : 'kernel' };
    case 'copy':
      return { kind: 'copy', from: one('from', x.from), out: one('out', x.out) };
    case 'cond': {
      if (!Array.isArray(x.branches) || x.branches.length !== 2) bad('cond needs two branches');
      const branches = [checkProgram(x.branches[0], depth + 1, c), checkProgram(x.branches[1], depth + 1, c)] as const;
      return { kind: 'cond', pred: one('pred', x.pred), args: idx('args', x.args), branches, outs: idx('outs', x.outs) };
    }
    case 'while':
      return {
        kind: 'while', args: idx('args', x.args), condCaptures: idx('condCaptures', x.condCaptures), bodyCaptures: idx('bodyCaptures', x.bodyCaptures),
        cond: checkProgram(x.cond, depth + 1, c), body: checkProgram(x.body, depth + 1, c), outs: idx('outs', x.outs),
      };
    case 'scan':
      if (!isNat(x.length) || !isNat(x.numCarry) || typeof x.reverse !== 'boolean') bad('scan needs length, numCarry and reverse');
      return { kind: 'scan', args: idx('args', x.args), captures: idx('captures', x.captures), body: checkProgram(x.body, depth + 1, c), length: x.length, numCarry: x.numCarry, reverse: x.reverse, outs: idx('outs', x.outs) };
    default:
      return bad(`unknown step kind ${JSON.stringify(x.kind)}`);
  }
}

/** Validates a parsed wasm.plan section against the IR's parameter count. */
export function checkWasmPlan(x: unknown, paramCount: number, maxBytes = 2 ** 31): WasmPlanFile {
  if (!isRecord(x)) bad('must be a JSON object');
  if (x.version !== WASM_PLAN_VERSION) bad(`version ${JSON.stringify(x.version)} is not supported (${WASM_PLAN_VERSION} is)`);
  if (!Array.isArray(x.kernels) || x.kernels.length > MAX_ITEMS) bad('kernels must be an array');
  const kernels = x.kernels.map((k) => {
    if (!isRecord(k) || !isNat(k.scratch) || !isNat(k.parallel)) bad('a kernel must be {scratch, parallel}');
    return { scratch: k.scratch, parallel: k.parallel };
  });
  if (!Array.isArray(x.consts) || x.consts.length > MAX_ITEMS) bad('consts must be an array');
  let total = 0;
  const consts = x.consts.map((cst) => {
    if (!isRecord(cst) || !isDType(cst.dtype) || !Array.isArray(cst.shape) || !cst.shape.every(isNat) || !Array.isArray(cst.data)) bad('a constant must be {dtype, shape, data}');
    const size = (cst.shape as number[]).reduce((p, d) => p * d, 1);
    total += cst.data.length;
    if (total > MAX_ITEMS * 16) bad('constants are too large');
    if (cst.data.length !== size && cst.data.length !== 1) bad(`a constant of shape [${(cst.shape as number[]).join(',')}] holds ${cst.data.length} values`);
    if (!cst.data.every((v) => (typeof v === 'number' && Number.isFinite(v)) || v === 'nan' || v === 'inf' || v === '-inf' || v === '-0')) bad('a constant holds a value that is not a number');
    return { dtype: cst.dtype as DType, shape: cst.shape as number[], data: cst.data as JsonNumber[] };
  });
  if (!Array.isArray(x.kernelConsts) || x.kernelConsts.length !== kernels.length) bad('kernelConsts must have one list per kernel');
  const kernelConsts = x.kernelConsts.map((l) => natArray('kernelConsts', l, consts.length));
  const main = checkProgram(x.main, 0, { consts: consts.length, kernels: kernels.length, items: 0, maxBytes }, paramCount);
  return { version: WASM_PLAN_VERSION, main, consts, kernelConsts, kernels };
}
