// The pass pipeline jit runs between tracing and compiling: one flat, named list of IR -> IR steps,
// then the memory plan. Any step can be dumped by name (`KILN_DUMP=fuse`) and verified after.
import type { Function } from '../ir/function.js';
import { printFunction } from '../ir/printer.js';
import { verify } from '../ir/verify.js';
import { simplify } from './simplify.js';
import { cse } from './cse.js';
import { dce } from './dce.js';
import { fuse, countKernels } from './fuse.js';
import { planMemory, type MemoryPlan } from './memory.js';

export interface PipelineOptions {
  /** Pass names to print the IR after ('fuse', 'simplify,fuse', 'all'); defaults to env KILN_DUMP. */
  readonly dump?: string;
  /** Runs the verifier after every pass (tests do; the first step verifies the input regardless). */
  readonly verify?: boolean;
  /** Groups ops into fusion kernels (default true); false leaves one op per kernel. */
  readonly fuse?: boolean;
  /** Parameter indices the caller donates: the memory plan may write results into them. */
  readonly donate?: readonly number[];
  /** Where dumps go (default console.log). */
  readonly print?: (text: string) => void;
}

export interface PassTiming {
  readonly pass: string;
  readonly ms: number;
}

export interface PipelineReport {
  readonly fn: Function;
  /** Milliseconds per step, in pipeline order (jit's stats() shows them). */
  readonly timings: readonly PassTiming[];
  readonly plan: MemoryPlan;
  /** Kernel launches of one call: fusion ops plus computing ops left unfused. */
  readonly kernels: number;
  readonly peakBytes: number;
}

interface Pass {
  readonly name: string;
  readonly run: (fn: Function) => Function;
  readonly enabled?: (opts: PipelineOptions) => boolean;
}

const verifyPass = (fn: Function): Function => {
  verify(fn);
  return fn;
};

/** The pipeline, in order. Autodiff runs before it (at trace time), so gradients get optimized too. */
export const PASSES: readonly Pass[] = [
  { name: 'verify', run: verifyPass },
  { name: 'simplify', run: simplify },
  { name: 'cse', run: cse },
  { name: 'dce', run: dce },
  { name: 'fuse', run: fuse, enabled: (o) => o.fuse !== false },
];
export const PASS_NAMES: readonly string[] = [...PASSES.map((p) => p.name), 'plan'];

/** KILN_DUMP from the environment, read so that the module also loads in a browser (no `process`). */
function envDump(): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.KILN_DUMP;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Runs the pipeline and reports per-pass timings, the memory plan and the kernel count. */
export function runPipelineWithReport(fn: Function, opts: PipelineOptions = {}): PipelineReport {
  const dumpSpec = opts.dump ?? envDump() ?? '';
  const dumps = new Set(dumpSpec.split(',').map((s) => s.trim()).filter(Boolean));
  const print = opts.print ?? ((text: string) => console.log(text));
  const dump = (name: string, f: Function) => {
    if (dumps.has(name) || dumps.has('all')) print(`// ---- after ${name} ----\n${printFunction(f)}`);
  };
  const timings: PassTiming[] = [];
  let cur = fn;
  for (const pass of PASSES) {
    if (pass.enabled && !pass.enabled(opts)) continue;
    const t0 = now();
    cur = pass.run(cur);
    timings.push({ pass: pass.name, ms: now() - t0 });
    if (opts.verify && pass.name !== 'verify') verify(cur);
    dump(pass.name, cur);
  }
  const t0 = now();
  const plan = planMemory(cur, { donate: opts.donate });
  timings.push({ pass: 'plan', ms: now() - t0 });
  if (dumps.has('plan') || dumps.has('all')) {
    print(`// ---- memory plan: ${plan.slots.length} slots, peak ${plan.peakBytes} bytes of ${plan.sumIntermediateBytes} ----`);
  }
  return { fn: cur, timings, plan, kernels: countKernels(cur), peakBytes: plan.peakBytes };
}

/** Optimizes a traced Function; pure: returns a new Function and never mutates `fn`. */
export function runPipeline(fn: Function, opts: PipelineOptions = {}): Function {
  return runPipelineWithReport(fn, opts).fn;
}
