// Kernel description (src/codegen/kernel.ts) -> WGSL compute shaders. A kernel becomes one or more
// phases (dispatches, in order); the emitter only decides how invocations share the statements:
//
//   threads   the top-level parallel loop nest, one invocation per iteration, the rest serial in it;
//   rows      one workgroup per parallel iteration: row-level loops are strided over the workgroup
//             and accumulators folded in them meet in a shared-memory tree reduction (softmax,
//             layer norm, sums, argmax); used when a row reduces over >= 32 elements, or for a
//             whole-kernel reduction without a parallel loop;
//   split     a few long rows: chunks folded by many workgroups into scratch, then combined per row;
//   scatter   read-modify-write stores (scatter_add) without atomics, deterministic: invocations over
//             the loop variables the index does not read, index loops serial in reference order;
//   serial    one invocation (what no other mode covers);
//   contract  a tiled matmul: each workgroup computes a TM x TN tile of one batch, each invocation an
//             RM x RN register block, operands staged through workgroup memory TK at a time; dot_general
//             and conv (implicit GEMM: rhs is the im2col view) share it, the epilogue runs per element.
//
// Dispatches larger than maxComputeWorkgroupsPerDimension fold into a 2-D grid (the shader
// linearizes it). Kernels binding more storage buffers than maxStorageBuffersPerShaderStage read
// their inputs from one packed u32 buffer that the runtime fills with copyBufferToBuffer.
import type { AccDecl, Expr, Kernel, Stmt } from '../kernel.js';
import { exprChildren } from '../kernel.js';
import { ixCoeff, ixVars } from '../kernel_index.js';
import { KilnError } from '../../ir/error.js';
import { ShaderWriter, declareBuffers, varName } from './expr.js';
import type { BufferPlace } from './expr.js';
import { helpersFor } from './scalar.js';
import { REG_TYPE, gpuDType, literal } from './types.js';
import type { WgslLimits, WgslPhase } from '../../format/wgsl_plan.js';

// The limits and a kernel phase are the artifact's wgsl section types (src/format sits below codegen):
// what the emitter produces is exactly what an artifact stores and the runtime executes.
/** Limits a kernel is built for; maxThreads is min(maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX). */
export type GpuLimits = WgslLimits;

/** WebGPU's guaranteed minimums. */
export const DEFAULT_LIMITS: GpuLimits = { maxStorageBuffers: 8, maxThreads: 256, maxWorkgroupsPerDim: 65535, maxWorkgroupStorage: 16384 };

/**
 * One dispatch: `bindings` are the kernel buffer indices bound after the packed buffer (if any; `pack`
 * copies inputs into one u32 buffer at binding 0), `workgroups` a linear count the runtime folds into
 * the grid, and `scratchWords` a u32 scratch buffer shared by the kernel's phases (-1 in bindings).
 */
export type Phase = WgslPhase;

export interface GpuKernel {
  readonly kernel: Kernel;
  readonly phases: readonly Phase[];
}

type Loop = Extract<Stmt, { op: 'loop' }>;

// ---- statement analysis ------------------------------------------------------------------------

function walk(stmts: readonly Stmt[], f: (s: Stmt) => void): void {
  for (const s of stmts) {
    f(s);
    if (s.op === 'loop') walk(s.body, f);
    if (s.op === 'contract') walk(s.epilogue, f);
  }
}

/** Accumulators folded in `s` but reset outside it: `s` reduces them. */
function reducedAccs(s: Stmt): string[] {
  const inited = new Set<string>();
  const updated: string[] = [];
  walk([s], (x) => {
    if (x.op === 'init') inited.add(x.acc);
    if (x.op === 'update' && !updated.includes(x.acc)) updated.push(x.acc);
  });
  return updated.filter((a) => !inited.has(a));
}

const hasCombineStore = (s: Stmt): boolean => {
  let found = false;
  walk([s], (x) => {
    if (x.op === 'store' && x.combine) found = true;
  });
  return found;
};

/** A row-level loop whose iterations may be spread over a workgroup (no read-modify-write stores). */
const distributable = (s: Stmt): s is Loop => s.op === 'loop' && !hasCombineStore(s);

/** The parallel loop and the perfectly nested loops under it whose iterations are independent too. */
function parallelNest(top: Loop): { nest: Loop[]; inner: readonly Stmt[] } {
  const nest = [top];
  for (;;) {
    const body = nest[nest.length - 1].body;
    const only = body.length === 1 ? body[0] : null;
    if (!only || only.op !== 'loop' || hasCombineStore(only) || reducedAccs(only).length) return { nest, inner: body };
    nest.push(only);
  }
}

const pow2AtLeast = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** A loop and the loops perfectly nested in it (each the only statement of the one above). */
function perfectNest(top: Loop): { loops: Loop[]; body: readonly Stmt[]; extent: number } {
  const loops = [top];
  for (;;) {
    const body = loops[loops.length - 1].body;
    if (body.length !== 1 || body[0].op !== 'loop') return { loops, body, extent: loops.reduce((p, l) => p * l.extent, 1) };
    loops.push(body[0]);
  }
}

/** Binds the variables of `loops` (outermost first) from one row-major linear index `linear`. */
function decodeVars(w: ShaderWriter, loops: readonly Loop[], linear: string): void {
  let cur = linear;
  for (let i = loops.length - 1; i >= 0; i--) {
    const v = varName(loops[i].var);
    if (i === 0) w.line(`let ${v} = ${cur};`);
    else {
      w.line(`let ${v} = ${cur} % ${loops[i].extent}i;`);
      const q = w.fresh('q');
      w.line(`let ${q} = ${cur} / ${loops[i].extent}i;`);
      cur = q;
    }
  }
}

// ---- phases ------------------------------------------------------------------------------------

/** A top-level loop whose iterations are independent: marked parallel, or plain stores only. */
const independent = (s: Stmt): boolean => s.op === 'loop' && (s.parallel === true || (!hasCombineStore(s) && reducedAccs(s).length === 0));

/**
 * Splits a kernel body into phases (dispatches, so each sees all writes of the one before):
 * independent loops, contractions and read-modify-write loops (scatter) alone, runs of other
 * statements together.
 */
function phaseBodies(k: Kernel): Stmt[][] {
  const out: Stmt[][] = [];
  let run: Stmt[] = [];
  for (const s of k.body) {
    if (independent(s) || s.op === 'contract' || (s.op === 'loop' && hasCombineStore(s))) {
      if (run.length) out.push(run);
      run = [];
      out.push([s]);
    } else run.push(s);
  }
  if (run.length) out.push(run);
  return out;
}

/** Loop variables an expression DAG reads. */
function exprVars(e: Expr, into: Set<string>, seen = new Set<Expr>()): Set<string> {
  if (seen.has(e)) return into;
  seen.add(e);
  if (e.op === 'load' || e.op === 'index') ixVars(e.index, into);
  if (e.op === 'threefry') ixVars(e.counter, into);
  if (e.op === 'guard') e.conds.forEach((c) => ixVars(c.index, into));
  if (e.op === 'load' && e.dynamic) exprVars(e.dynamic.value, into, seen);
  for (const c of exprChildren(e)) exprVars(c, into, seen);
  return into;
}

interface Written {
  /** Words of the kernel-private scratch buffer this phase binds last (split reductions). */
  scratchWords?: number;
  body: string[];
  workgroupVars: string[];
  threads: number;
  workgroups: number;
  mode: Phase['mode'];
}

const ENTRY = '@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32';

function writePhase(w: ShaderWriter, stmts: Stmt[], limits: GpuLimits): Written {
  const maxT = Math.min(256, limits.maxThreads);
  const first = stmts[0];
  w.line('let wid = i32(wg.x + wg.y * nwg.x);');
  w.declareAccs();
  if (first.op === 'contract') return writeContract(w, first, limits);
  let rows = 1;
  let inner: readonly Stmt[] = stmts;
  let nest: Loop[] = [];
  if (first.op === 'loop' && hasCombineStore(first)) return writeScatter(w, first, maxT);
  if (independent(first)) {
    ({ nest, inner } = parallelNest(first as Loop));
    rows = nest.reduce((p, l) => p * l.extent, 1);
  }
  const reductionExtent = Math.max(0, ...inner.filter((s) => s.op === 'loop' && distributable(s) && reducedAccs(s).length).map((s) => perfectNest(s as Loop).extent));
  const spreadExtent = Math.max(0, ...inner.filter(distributable).map((s) => perfectNest(s as Loop).extent));
  const decode = (r: string) => decodeVars(w, nest, r);
  const rowsMode = nest.length ? reductionExtent >= 32 : spreadExtent > 1;
  if (rowsMode) {
    const threads = Math.min(maxT, Math.max(32, pow2AtLeast(Math.max(reductionExtent, nest.length ? 0 : spreadExtent))));
    w.line(`if (wid >= ${rows}i) { return; }`);
    decode('wid');
    const workgroupVars = writeRows(w, inner, threads);
    return { body: w.lines, workgroupVars, threads, workgroups: rows, mode: 'rows' };
  }
  if (nest.length) {
    const threads = Math.min(maxT, Math.max(32, pow2AtLeast(rows)));
    w.line(`let r = wid * ${threads}i + i32(lid);`);
    w.line(`if (r >= ${rows}i) { return; }`);
    decode('r');
    w.serial(inner);
    return { body: w.lines, workgroupVars: [], threads, workgroups: Math.ceil(rows / threads), mode: 'threads' };
  }
  w.serial(inner);
  return { body: w.lines, workgroupVars: [], threads: 1, workgroups: 1, mode: 'serial' };
}

/**
 * A read-modify-write loop nest (scatter_add). Deterministic without atomics: invocations split the
 * loop variables the data-dependent index does not read (distinct values of those always reach
 * distinct elements), and each runs the index-carrying loops serially in their original order, so
 * every element receives its additions in the reference interpreter's order.
 */
function writeScatter(w: ShaderWriter, top: Loop, maxT: number): Written {
  const nest: Loop[] = [top];
  for (;;) {
    const body = nest[nest.length - 1].body;
    if (body.length !== 1 || body[0].op !== 'loop') break;
    nest.push(body[0]);
  }
  const inner = nest[nest.length - 1].body;
  const indexVars = new Set<string>();
  walk([top], (s) => {
    if (s.op === 'store' && s.dynamic) exprVars(s.dynamic.value, indexVars);
  });
  const free = nest.filter((l) => !indexVars.has(l.var));
  const serial = nest.filter((l) => indexVars.has(l.var));
  if (!free.length) {
    w.serial([top]);
    return { body: w.lines, workgroupVars: [], threads: 1, workgroups: 1, mode: 'serial' };
  }
  const rows = free.reduce((p, l) => p * l.extent, 1);
  const threads = Math.min(maxT, Math.max(32, pow2AtLeast(rows)));
  w.line(`let r = wid * ${threads}i + i32(lid);`);
  w.line(`if (r >= ${rows}i) { return; }`);
  decodeVars(w, free, 'r');
  const open = (k: number): void => {
    if (k === serial.length) return w.serial(inner);
    w.loop(serial[k], () => open(k + 1));
  };
  open(0);
  return { body: w.lines, workgroupVars: [], threads, workgroups: Math.ceil(rows / threads), mode: 'threads' };
}

const isArg = (a: AccDecl): boolean => a.combine === 'argmax' || a.combine === 'argmin';

/** Each invocation's partial accumulators meet pairwise in shared memory; all end with the total. */
function treeReduce(w: ShaderWriter, accs: readonly AccDecl[], threads: number, shared: string[]): void {
  // Ties in argmax/argmin keep the lower index, whatever order the partials cover.
  for (const a of accs) {
    const ty = gpuDType(w.kernel.name, a.dtype) === 'float32' ? 'f32' : 'i32';
    shared.push(`var<workgroup> sh_${a.name}: array<${ty}, ${threads}>;`);
    w.line(`sh_${a.name}[lid] = ${a.name};`);
    if (isArg(a)) {
      shared.push(`var<workgroup> sh_${a.name}_i: array<i32, ${threads}>;`);
      w.line(`sh_${a.name}_i[lid] = ${a.name}_i;`);
    }
  }
  w.line('workgroupBarrier();');
  const step = w.fresh('s');
  w.open(`for (var ${step}: u32 = ${threads / 2}u; ${step} > 0u; ${step} = ${step} >> 1u)`);
  w.open(`if (lid < ${step})`);
  for (const a of accs) {
    const l = w.fresh('l');
    w.line(`var ${l} = sh_${a.name}[lid];`);
    if (isArg(a)) w.line(`var ${l}_i = sh_${a.name}_i[lid];`);
    w.combineInto(a, l, `sh_${a.name}[lid + ${step}]`, isArg(a) ? `${l}_i` : undefined, isArg(a) ? `sh_${a.name}_i[lid + ${step}]` : undefined);
    w.line(`sh_${a.name}[lid] = ${l};`);
    if (isArg(a)) w.line(`sh_${a.name}_i[lid] = ${l}_i;`);
  }
  w.close();
  w.line('workgroupBarrier();');
  w.close();
  for (const a of accs) {
    w.line(`${a.name} = sh_${a.name}[0];`);
    if (isArg(a)) w.line(`${a.name}_i = sh_${a.name}_i[0];`);
  }
  w.line('workgroupBarrier();');
}

// ---- split reductions ----------------------------------------------------------------------------

/** Elements one workgroup of a split reduction folds, roughly. */
const SPLIT_CHUNK = 4096;

interface Split {
  /** Rows (iterations of the parallel nest; 1 without one) and the nest itself. */
  rows: number;
  nest: Loop[];
  inits: Stmt[];
  loop: Loop;
  rest: Stmt[];
  accs: string[];
  /** Workgroups per row in the partial phase. */
  groups: number;
}

/**
 * A few rows, each reducing a long loop, would leave most of a GPU idle with one workgroup per row.
 * Such a kernel runs as two dispatches: `groups` workgroups per row fold a chunk each into a scratch
 * buffer, then one workgroup per row combines the partials and runs the rest of the row.
 * Only for rows of the form [init..., one reduction loop, statements without another reduction].
 */
function splitOf(stmts: readonly Stmt[]): Split | null {
  let nest: Loop[] = [];
  let inner: readonly Stmt[] = stmts;
  if (stmts.length === 1 && independent(stmts[0])) ({ nest, inner } = parallelNest(stmts[0] as Loop));
  const rows = nest.reduce((p, l) => p * l.extent, 1);
  const at = inner.findIndex((s) => s.op !== 'init');
  const loop = inner[at];
  if (rows > 16 || at < 0 || !loop || !distributable(loop)) return null;
  const accs = reducedAccs(loop);
  const extent = perfectNest(loop).extent;
  const rest = inner.slice(at + 1);
  if (!accs.length || extent < 8 * SPLIT_CHUNK || rest.some((s) => reducedAccs(s).length > 0 || s.op === 'init')) return null;
  return { rows, nest, inits: inner.slice(0, at) as Stmt[], loop, rest, accs, groups: Math.min(256, Math.ceil(extent / SPLIT_CHUNK)) };
}

function writeSplitPartial(w: ShaderWriter, sp: Split, threads: number): Written {
  const G = sp.groups;
  const { loops, body, extent } = perfectNest(sp.loop);
  const chunk = Math.ceil(extent / G);
  w.line('let wid = i32(wg.x + wg.y * nwg.x);');
  w.declareAccs();
  w.line(`if (wid >= ${sp.rows * G}i) { return; }`);
  w.line(`let g = wid % ${G}i;`);
  w.line(`let row = wid / ${G}i;`);
  decodeVars(w, sp.nest, 'row');
  w.serial(sp.inits);
  const t = w.fresh('e');
  w.open(`for (var ${t}: i32 = g * ${chunk}i + i32(lid); ${t} < min((g + 1i) * ${chunk}i, ${extent}i); ${t} += ${threads}i)`);
  decodeVars(w, loops, t);
  w.serial(body);
  w.close();
  const shared: string[] = [];
  const accs = sp.accs.map((n) => w.acc(n));
  treeReduce(w, accs, threads, shared);
  // Partials as raw 32-bit words: accumulator j of (row, g) at j * rows * G + row * G + g.
  w.open('if (lid == 0u)');
  accs.forEach((a, j) => {
    const at = (k: number) => `${k * sp.rows * G}i + row * ${G}i + g`;
    w.line(`${w.scratch(at(j))} = bitcast<u32>(${a.name});`);
    if (isArg(a)) w.line(`${w.scratch(at(accs.length + j))} = bitcast<u32>(${a.name}_i);`);
  });
  w.close();
  return { body: w.lines, workgroupVars: shared, threads, workgroups: sp.rows * G, mode: 'rows' };
}

function writeSplitFinish(w: ShaderWriter, sp: Split, threads: number): Written {
  const G = sp.groups;
  w.line('let wid = i32(wg.x + wg.y * nwg.x);');
  w.declareAccs();
  w.line(`if (wid >= ${sp.rows}i) { return; }`);
  w.line('let row = wid;');
  decodeVars(w, sp.nest, 'row');
  w.serial(sp.inits);
  const accs = sp.accs.map((n) => w.acc(n));
  const t = w.fresh('e');
  w.open(`for (var ${t}: i32 = i32(lid); ${t} < ${G}i; ${t} += ${threads}i)`);
  accs.forEach((a, j) => {
    const ty = gpuDType(w.kernel.name, a.dtype) === 'float32' ? 'f32' : 'i32';
    const at = (k: number) => `${k * sp.rows * G}i + row * ${G}i + ${t}`;
    const v = w.fresh('p');
    w.line(`let ${v} = bitcast<${ty}>(${w.scratch(at(j))});`);
    if (isArg(a)) w.line(`let ${v}_i = bitcast<i32>(${w.scratch(at(accs.length + j))});`);
    w.combineInto(a, a.name, v, isArg(a) ? `${a.name}_i` : undefined, isArg(a) ? `${v}_i` : undefined);
  });
  w.close();
  const shared: string[] = [];
  treeReduce(w, accs, threads, shared);
  shared.push(...writeRows(w, sp.rest, threads));
  return { body: w.lines, workgroupVars: shared, threads, workgroups: sp.rows, mode: 'rows' };
}

/** Row-level statements for one workgroup; returns the shared-memory declarations it needs. */
function writeRows(w: ShaderWriter, stmts: readonly Stmt[], threads: number): string[] {
  const shared: string[] = [];
  for (const s of stmts) {
    if (s.op === 'init') {
      w.init(s.acc);
    } else if (distributable(s)) {
      // The whole perfect nest is strided over the workgroup (a reduction over several axes too).
      const { loops, body, extent } = perfectNest(s);
      const t = w.fresh('e');
      w.open(`for (var ${t}: i32 = i32(lid); ${t} < ${extent}i; ${t} += ${threads}i)`);
      decodeVars(w, loops, t);
      w.serial(body);
      w.close();
      const accs = reducedAccs(s).map((n) => w.acc(n));
      // Later statements may read what this loop stored (scatter after its copy): one workgroup, so a
      // storage barrier orders the writes.
      if (!accs.length && s !== stmts[stmts.length - 1]) w.line('storageBarrier();');
      if (!accs.length) continue;
      treeReduce(w, accs, threads, shared);
    } else {
      w.open('if (lid == 0u)');
      w.serial([s]);
      w.close();
    }
  }
  return shared;
}

// ---- contraction -------------------------------------------------------------------------------

interface Tile {
  TM: number;
  TN: number;
  RM: number;
  RN: number;
  TK: number;
}

/** Whether the first buffer load in `e` steps by one element when loop variable `v` does. */
function unitStride(e: Expr, v: string): boolean {
  const seen = new Set<Expr>();
  const find = (x: Expr): Expr | null => {
    if (seen.has(x)) return null;
    seen.add(x);
    if (x.op === 'load') return x;
    for (const c of exprChildren(x)) {
      const hit = find(c);
      if (hit) return hit;
    }
    return null;
  };
  const load = find(e);
  return load !== null && load.op === 'load' && ixCoeff(load.index, v) === 1;
}

/** Tile shapes, all 256 invocations; picked by the output's extents. */
function chooseTile(M: number, N: number): Tile {
  if (M >= 64 && N >= 64) return { TM: 64, TN: 64, RM: 4, RN: 4, TK: 16 };
  if (M <= 8) return { TM: 8, TN: 64, RM: 1, RN: 2, TK: 16 };
  if (N <= 8) return { TM: 64, TN: 8, RM: 2, RN: 1, TK: 16 };
  if (M >= 32 && N >= 32) return { TM: 32, TN: 32, RM: 2, RN: 2, TK: 16 };
  return { TM: 16, TN: 16, RM: 1, RN: 1, TK: 16 };
}

function writeContract(w: ShaderWriter, c: Extract<Stmt, { op: 'contract' }>, limits: GpuLimits): Written {
  const { b: B, m: M, n: N, k: K } = c.extents;
  const tile = chooseTile(M, N);
  const { TM, TN, RM, RN, TK } = tile;
  const threads = (TM / RM) * (TN / RN);
  if (threads > limits.maxThreads) throw new KilnError(`webgpu: ${w.kernel.name}: the matmul tile needs ${threads} invocations per workgroup, the device allows ${limits.maxThreads}`);
  const dtype = gpuDType(w.kernel.name, c.dtype);
  const T = REG_TYPE[dtype] === 'bool' ? 'i32' : REG_TYPE[dtype];
  const zero = literal(dtype === 'float32' ? 'float32' : 'int32', 0);
  const tilesM = Math.ceil(M / TM);
  const tilesN = Math.ceil(N / TN);
  const v = { b: varName(c.vars.b), m: varName(c.vars.m), n: varName(c.vars.n), k: varName(c.vars.k) };
  w.line(`if (wid >= ${B * tilesM * tilesN}i) { return; }`);
  w.line(`let tn = wid % ${tilesN}i;`);
  w.line(`let tm = (wid / ${tilesN}i) % ${tilesM}i;`);
  w.line(`let ${v.b} = wid / ${tilesN * tilesM}i;`);
  w.line(`let tx = i32(lid) % ${TN / RN}i;`);
  w.line(`let ty = i32(lid) / ${TN / RN}i;`);
  const cell = (i: number, j: number) => `c_${i}_${j}`;
  for (let i = 0; i < RM; i++) for (let j = 0; j < RN; j++) w.line(`var ${cell(i, j)}: ${T} = ${zero};`);
  w.open(`for (var k0: i32 = 0i; k0 < ${K}i; k0 += ${TK}i)`);
  // Stage the lhs tile [TM][TK] and the rhs tile [TK][TN]; out-of-range elements are zero.
  // Stage the lhs tile [TM][TK] and the rhs tile [TK][TN]; out-of-range elements are zero. Neighbouring
  // invocations walk the dimension that is contiguous in memory (coalesced loads on a GPU).
  const stage = (target: string, rows: number, cols: number, rowVar: string, rowBase: string, rowLimit: number, colVar: string, colBase: string, colLimit: number, rowFastest: boolean, value: () => string) => {
    const e = w.fresh('e');
    w.open(`for (var ${e}: i32 = i32(lid); ${e} < ${rows * cols}i; ${e} += ${threads}i)`);
    const [r, c] = rowFastest ? [`${e} % ${rows}i`, `${e} / ${rows}i`] : [`${e} / ${cols}i`, `${e} % ${cols}i`];
    w.line(`let tr = ${r};`);
    w.line(`let tc = ${c};`);
    w.line(`let ${rowVar} = ${rowBase} + tr;`);
    w.line(`let ${colVar} = ${colBase} + tc;`);
    w.line(`var x: ${T} = ${zero};`);
    w.open(`if (${rowVar} < ${rowLimit}i && ${colVar} < ${colLimit}i)`);
    w.line(`x = ${value()};`);
    w.close();
    w.line(`${target}[tr * ${cols}i + tc] = x;`);
    w.close();
  };
  const asT = (x: string) => (dtype === 'bool' ? `i32(${x})` : x);
  const along = (e: Expr, fast: string, slow: string) => unitStride(e, fast) && !unitStride(e, slow);
  stage('tA', TM, TK, v.m, `tm * ${TM}i`, M, v.k, 'k0', K, along(c.lhs, c.vars.m, c.vars.k), () => asT(w.expr(c.lhs)));
  stage('tB', TK, TN, v.k, 'k0', K, v.n, `tn * ${TN}i`, N, along(c.rhs, c.vars.k, c.vars.n), () => asT(w.expr(c.rhs)));
  w.line('workgroupBarrier();');
  w.open(`for (var kk: i32 = 0i; kk < ${TK}i; kk++)`);
  for (let i = 0; i < RM; i++) w.line(`let ra${i} = tA[(ty + ${i * (TM / RM)}i) * ${TK}i + kk];`);
  for (let j = 0; j < RN; j++) w.line(`let rb${j} = tB[kk * ${TN}i + tx + ${j * (TN / RN)}i];`);
  for (let i = 0; i < RM; i++) for (let j = 0; j < RN; j++) w.line(`${cell(i, j)} = ${cell(i, j)} + ra${i} * rb${j};`);
  w.close();
  w.line('workgroupBarrier();');
  w.close();
  for (let i = 0; i < RM; i++) {
    for (let j = 0; j < RN; j++) {
      w.open('');
      w.line(`let ${v.m} = tm * ${TM}i + ty + ${i * (TM / RM)}i;`);
      w.line(`let ${v.n} = tn * ${TN}i + tx + ${j * (TN / RN)}i;`);
      w.open(`if (${v.m} < ${M}i && ${v.n} < ${N}i)`);
      w.accOverride.set(c.acc, cell(i, j));
      w.serial(c.epilogue);
      w.close();
      w.close();
    }
  }
  const workgroupVars = [`var<workgroup> tA: array<${T}, ${TM * TK}>;`, `var<workgroup> tB: array<${T}, ${TK * TN}>;`];
  if ((TM * TK + TK * TN) * 4 > limits.maxWorkgroupStorage) throw new KilnError(`webgpu: ${w.kernel.name}: the matmul tile needs more workgroup memory than the device's ${limits.maxWorkgroupStorage} bytes`);
  return { body: w.lines, workgroupVars, threads, workgroups: B * tilesM * tilesN, mode: 'contract' };
}

// ---- shaders -----------------------------------------------------------------------------------

function shaderText(k: Kernel, written: Written, used: ReadonlySet<number>, packed: boolean, scratch: boolean): { code: string; bindings: number[] } {
  const { decls, bindings } = declareBuffers(k, used, packed);
  if (scratch) {
    decls.push(`@group(0) @binding(${decls.length}) var<storage, read_write> scr: array<u32>;`);
    bindings.push(-1);
  }
  const body = written.body.join('\n');
  const code = [
    // No kernel name in the text: equal kernels of different programs share one cached pipeline.
    `// kiln ${written.mode} kernel`,
    ...decls,
    ...written.workgroupVars,
    helpersFor(body),
    `@compute @workgroup_size(${written.threads})`,
    `fn main(${ENTRY}) {`,
    body,
    '}',
    '',
  ].filter((l) => l !== '').join('\n');
  return { code, bindings };
}

function emitPhase(k: Kernel, write: (w: ShaderWriter) => Written, limits: GpuLimits): Phase {
  let w = new ShaderWriter(k);
  let written = write(w);
  const scratch = written.scratchWords;
  const bound = w.used.size + (scratch ? 1 : 0);
  if (bound <= limits.maxStorageBuffers) {
    const { code, bindings } = shaderText(k, written, w.used, false, scratch !== undefined);
    return { code, bindings, workgroups: written.workgroups, threads: written.threads, mode: written.mode, ...(scratch ? { scratchWords: scratch } : {}) };
  }
  // Too many bindings: pack every input this phase reads into one buffer.
  const inputs = [...w.used].filter((i) => k.buffers[i].role !== 'output').sort((a, b) => a - b);
  const outputs = bound - inputs.length;
  if (outputs + 1 > limits.maxStorageBuffers) {
    throw new KilnError(`webgpu: kernel ${k.name} writes ${outputs} buffers, more than the device's ${limits.maxStorageBuffers - 1} storage buffers per shader stage allow`);
  }
  const offsets: number[] = [];
  let words = 0;
  for (const i of inputs) {
    offsets.push(words);
    words += k.buffers[i].size;
  }
  const place = (buf: number): BufferPlace => {
    const j = inputs.indexOf(buf);
    return j < 0 ? { kind: 'own' } : { kind: 'packed', offset: offsets[j] };
  };
  w = new ShaderWriter(k, place);
  written = write(w);
  const { code, bindings } = shaderText(k, written, w.used, true, scratch !== undefined);
  return { code, bindings, pack: { buffers: inputs, offsets, words }, workgroups: written.workgroups, threads: written.threads, mode: written.mode, ...(scratch ? { scratchWords: scratch } : {}) };
}

function emitPhases(k: Kernel, stmts: Stmt[], limits: GpuLimits): Phase[] {
  const sp = splitOf(stmts);
  if (sp) {
    const threads = Math.min(256, limits.maxThreads);
    const words = sp.accs.reduce((n, a) => n + (isArg(k.accs.find((x) => x.name === a)!) ? 2 : 1), 0) * sp.rows * sp.groups;
    const partial = (w: ShaderWriter) => ({ ...writeSplitPartial(w, sp, threads), scratchWords: words });
    const finish = (w: ShaderWriter) => ({ ...writeSplitFinish(w, sp, threads), scratchWords: words });
    return [emitPhase(k, partial, limits), emitPhase(k, finish, limits)];
  }
  return [emitPhase(k, (w) => writePhase(w, stmts, limits), limits)];
}

/** The WGSL shaders (in launch order) that compute kernel `k` on a device with `limits`. */
export function emitKernel(k: Kernel, limits: GpuLimits = DEFAULT_LIMITS): GpuKernel {
  for (const b of k.buffers) gpuDType(k.name, b.dtype);
  return { kernel: k, phases: phaseBodies(k).flatMap((stmts) => emitPhases(k, stmts, limits)) };
}
