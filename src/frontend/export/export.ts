// exportArtifact: trace a function (or jitted function, or module) at example inputs, optimize it with
// the pass pipeline, and write one artifact file that kiln/runtime runs without this code: manifest,
// IR text, captured weights as safetensors, and compiled code where a backend can produce it.
import { KilnError } from '../../ir/error.js';
import type { DType } from '../../ir/dtype.js';
import { isDType } from '../../ir/dtype.js';
import type { Function as IRFunction } from '../../ir/function.js';
import { printFunction } from '../../ir/printer.js';
import { runPipeline } from '../../passes/pipeline.js';
import { countKernels } from '../../passes/fuse.js';
import { writeContainer } from '../../format/container.js';
import type { Section } from '../../format/container.js';
import type { Backend, BatchInfo, Dim, TensorSpec } from '../../format/manifest.js';
import { formatDimExpr } from '../../format/manifest.js';
import { findBatchSites, specializeText } from '../../format/batch.js';
import { serializeSafetensors } from '../../format/safetensors.js';
import { writeFileBytes } from '../../format/files.js';
import { KILN_VERSION } from '../../format/version.js';
import { Tensor } from '../tensor.js';
import { defaultDevice } from '../trace.js';
import { flatten, unflatten } from '../pytree.js';
import type { TreeDef } from '../pytree.js';
import { abstractTensor, fnName, traceToFunction } from '../tracing.js';
import { paramNames } from '../jit/source.js';
import { leafNames, uniqueNames, weightNames } from './names.js';
import { toHostRecord } from '../io/safetensors.js';
import { compiledSections } from './backends.js';

/** An input given by type instead of a value: `{shape: ['N', 784], dtype: 'float32', name: 'x'}`. */
export interface InputSpec {
  readonly shape: readonly (number | string)[];
  readonly dtype?: DType;
  readonly name?: string;
}

export interface ExportOptions {
  /** Write the artifact here (it is also returned as bytes). */
  path?: string;
  /** `'bytes'` only returns the bytes (the default when no path is given). */
  format?: 'bytes' | 'file';
  /** A symbolic batch dimension: one artifact valid for any batch size. */
  batch?: string;
  /** Per input: which axis is the batch (default 0), or null for an input without one. */
  batchAxes?: readonly (number | null)[];
  /** Names for the inputs / outputs (default: parameter names and output pytree paths). */
  inputNames?: readonly string[];
  outputNames?: readonly string[];
  /** Tensors by name for naming captured weights (a module's state dict is used automatically). */
  names?: Record<string, Tensor>;
  /** The function's name in the artifact (default: the function's or module's). */
  name?: string;
  /**
   * The batch size the stored IR and compiled code are made for when the inputs are `{shape: ['N', ...]}`
   * specs (default 2); other sizes run re-specialized on the interpreter.
   */
  exampleBatch?: number;
  /** Compiled forms to include when their backend can produce them (default: all that can). */
  backends?: readonly Exclude<Backend, 'interpreter'>[];
}

/** What exportArtifact accepts: a function, a jitted function (traced through), or an nn.Module-like object. */
interface ModuleLike {
  call(...args: unknown[]): unknown;
  forward(...args: unknown[]): unknown;
  stateDict(): Record<string, Tensor>;
}

function isModuleLike(x: unknown): x is ModuleLike {
  return typeof x === 'object' && x !== null && typeof (x as ModuleLike).stateDict === 'function' && typeof (x as ModuleLike).call === 'function';
}

function isInputSpec(x: unknown): x is InputSpec {
  return typeof x === 'object' && x !== null && !(x instanceof Tensor) && Array.isArray((x as InputSpec).shape) && !Array.isArray(x);
}

const WHERE = 'exportArtifact';

interface Prepared {
  target: (...args: unknown[]) => unknown;
  name: string;
  argNames: string[];
  named: Record<string, Tensor>[];
}

function prepareTarget(f: unknown, opts: ExportOptions): Prepared {
  const named: Record<string, Tensor>[] = opts.names ? [opts.names] : [];
  if (isModuleLike(f)) {
    named.push(f.stateDict());
    const cls = (f as object).constructor?.name;
    return { target: (...args) => f.call(...args), name: opts.name ?? (cls && /^[A-Za-z_]\w*$/.test(cls) ? cls : 'model'), argNames: paramNames(f.forward), named };
  }
  if (typeof f !== 'function') throw new KilnError(`${WHERE}: expected a function, a jitted function or a module, got ${f === null ? 'null' : typeof f}`);
  const fn = f as (...args: unknown[]) => unknown;
  // A jitted function inlines itself under a trace; its parameter names live on the original.
  const original = (f as { fn?: (...args: unknown[]) => unknown }).fn ?? fn;
  return { target: fn, name: opts.name ?? fnName(fn, 'exported'), argNames: paramNames(original), named };
}

/** Example leaves: tensors as given, specs as abstract tensors (their symbolic axis and name remembered). */
function exampleLeaves(args: readonly unknown[], opts: ExportOptions): { leaves: Tensor[]; treedef: TreeDef; specAxes: (number | null)[]; specNames: (string | undefined)[]; symbol?: string } {
  let symbol = opts.batch;
  const fromSpec = new Map<Tensor, { axis: number | null; name?: string }>();
  const device = defaultDevice();
  const replaced = args.map((a) => {
    if (!isInputSpec(a)) return a;
    const syms = a.shape.map((d, i) => [d, i] as const).filter(([d]) => typeof d === 'string');
    if (syms.length > 1) throw new KilnError(`${WHERE}: input spec shape [${a.shape.join(',')}] has more than one symbolic dimension`);
    if (syms.length === 1) {
      const s = syms[0][0] as string;
      if (symbol !== undefined && symbol !== s) throw new KilnError(`${WHERE}: input spec uses the batch symbol ${s} but the batch is ${symbol}`);
      symbol = s;
    }
    const dtype = a.dtype ?? 'float32';
    if (!isDType(dtype)) throw new KilnError(`${WHERE}: unknown dtype ${String(dtype)} in an input spec`);
    const shape = a.shape.map((d) => (typeof d === 'string' ? 1 : d));
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new KilnError(`${WHERE}: input spec shape [${a.shape.join(',')}] must hold non-negative integers or one batch symbol`);
    const t = abstractTensor({ dtype, shape }, device);
    fromSpec.set(t, { axis: syms.length ? syms[0][1] : null, name: a.name });
    return t;
  });
  const { leaves, treedef } = flatten(replaced);
  return { leaves, treedef, specAxes: leaves.map((l) => fromSpec.get(l)?.axis ?? null), specNames: leaves.map((l) => fromSpec.get(l)?.name), symbol };
}

interface Lowered {
  fn: IRFunction;
  text: string;
  captured: Tensor[];
  outTree: TreeDef;
}

function lowerAt(p: Prepared, treedef: TreeDef, leaves: Tensor[]): Lowered {
  let traced;
  try {
    traced = traceToFunction(p.target, unflatten(treedef, leaves) as unknown[], { name: p.name, loc: false });
  } catch (e) {
    if (e instanceof KilnError) throw new KilnError(`${WHERE}: tracing ${p.name} failed: ${e.message}`);
    throw e;
  }
  const fn = runPipeline(traced.fn);
  return { fn, text: printFunction(fn), captured: traced.captured, outTree: traced.outTree };
}

function sameCaptures(a: Tensor[], b: Tensor[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/**
 * Exports `f` as one artifact file. `exampleArgs` are the arguments of one call (tensors, pytrees of
 * tensors, or `{shape, dtype}` specs); with `{batch: 'N'}` the batch axis of every input becomes symbolic.
 * Returns the file's bytes; with a path (as `dest` or `{path}`) also writes them there.
 */
export async function exportArtifact(f: unknown, exampleArgs: readonly unknown[], dest?: string | ExportOptions, options: ExportOptions = {}): Promise<Uint8Array> {
  const opts: ExportOptions = typeof dest === 'string' ? { ...options, path: dest } : { ...(dest ?? {}), ...options };
  if (!Array.isArray(exampleArgs)) throw new KilnError(`${WHERE}: exampleArgs must be the array of arguments of one call`);
  if (opts.format === 'file' && !opts.path) throw new KilnError(`${WHERE}: format 'file' needs a path`);
  const p = prepareTarget(f, opts);
  const ex = exampleLeaves(exampleArgs, opts);
  const { leaves, treedef } = ex;
  const symbol = ex.symbol;

  // Which axis of each input leaf is the batch, and the example batch size they agree on.
  const axes: (number | null)[] = leaves.map((l, i) => {
    if (symbol === undefined) return null;
    if (ex.specAxes[i] !== null) return ex.specAxes[i];
    if (opts.batchAxes && i < opts.batchAxes.length) return opts.batchAxes[i];
    if (leaves[i].ndim === 0) throw new KilnError(`${WHERE}: input ${i} (${l.describe()}) is a scalar and has no batch axis; give batchAxes with null for it`);
    return 0;
  });
  let example: number | undefined;
  leaves.forEach((l, i) => {
    const ax = axes[i];
    if (ax === null || ex.specAxes[i] !== null) return;
    if (!Number.isInteger(ax) || ax < 0 || ax >= l.ndim) throw new KilnError(`${WHERE}: batch axis ${ax} is out of range for input ${i} (${l.describe()})`);
    if (example !== undefined && l.shape[ax] !== example) throw new KilnError(`${WHERE}: inputs disagree on the example batch size (${example} vs ${l.shape[ax]} at input ${i})`);
    example = l.shape[ax];
  });
  if (opts.exampleBatch !== undefined) {
    if (!Number.isSafeInteger(opts.exampleBatch) || opts.exampleBatch < 1) throw new KilnError(`${WHERE}: exampleBatch must be a positive integer, got ${opts.exampleBatch}`);
    if (example !== undefined && example !== opts.exampleBatch) throw new KilnError(`${WHERE}: exampleBatch ${opts.exampleBatch} differs from the example inputs' batch ${example}`);
    example = opts.exampleBatch;
  }
  if (symbol !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(symbol)) throw new KilnError(`${WHERE}: batch symbol ${JSON.stringify(symbol)} must be an identifier`);
  if (symbol !== undefined && axes.every((a) => a === null)) throw new KilnError(`${WHERE}: {batch: ${symbol}} but no input has a batch axis`);

  const at = (n: number) => leaves.map((l, i) => {
    const ax = axes[i];
    if (ax === null) return l;
    const shape = [...l.shape];
    shape[ax] = n;
    return abstractTensor({ dtype: l.dtype, shape }, l.device);
  });

  let main: Lowered;
  let batch: BatchInfo | undefined;
  let outDims: Dim[][];
  if (symbol === undefined) {
    main = lowerAt(p, treedef, leaves);
    outDims = main.fn.body.results.map((r) => [...r.type.shape]);
  } else {
    // Three sizes >= 2 (size 1 may simplify differently); a coincidence with another dimension shows up
    // as a structural difference, so a couple of other bases are tried before giving up.
    const bases = [...new Set([Math.max(example ?? 2, 2), 5, 11])];
    let firstError: unknown;
    let found: { main: Lowered; sizes: number[]; lows: Lowered[]; sites: ReturnType<typeof findBatchSites> } | undefined;
    for (const base of bases) {
      const sizes = [base, base + 1, base + 2];
      try {
        const lows = sizes.map((n) => lowerAt(p, treedef, at(n)));
        if (!lows.every((l) => sameCaptures(l.captured, lows[0].captured))) throw new KilnError(`${WHERE}: the function captures different tensors at different batch sizes`);
        const sites = findBatchSites(lows.map((l) => l.text), sizes);
        const info = { symbol, example: base, sites };
        lows.forEach((l, k) => {
          if (specializeText(lows[0].text, info, sizes[k]) !== l.text) throw new KilnError(`${WHERE}: internal: the batch template does not reproduce the IR at batch ${sizes[k]}`);
        });
        found = { main: lows[0], sizes, lows, sites };
        break;
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
        firstError ??= e;
      }
    }
    if (!found) throw firstError;
    main = found.main;
    batch = { symbol, example: found.sizes[0], sites: found.sites };
    const [s0, s1] = found.sizes;
    outDims = main.fn.body.results.map((r, i) =>
      r.type.shape.map((d, j) => {
        const d1 = found!.lows[1].fn.body.results[i].type.shape[j];
        if (d1 === d) return d;
        const a = (d1 - d) / (s1 - s0);
        return formatDimExpr(a, d - a * s0, symbol);
      }),
    );
  }

  // The signature.
  const argLeafNames = exampleArgs.flatMap((a, i) => {
    const root = p.argNames[i] ?? `input${i}`;
    return a instanceof Tensor || isInputSpec(a) ? [root] : leafNames(flatten(a).treedef, root);
  });
  const inNames = uniqueNames(leaves.map((_, i) => opts.inputNames?.[i] ?? ex.specNames[i] ?? argLeafNames[i] ?? `input${i}`));
  const outNames = uniqueNames(leafNames(main.outTree, 'output').map((n, i) => opts.outputNames?.[i] ?? n));
  if (opts.inputNames && opts.inputNames.length !== leaves.length) throw new KilnError(`${WHERE}: ${opts.inputNames.length} inputNames for ${leaves.length} inputs`);
  if (opts.outputNames && opts.outputNames.length !== outNames.length) throw new KilnError(`${WHERE}: ${opts.outputNames.length} outputNames for ${outNames.length} outputs`);
  const inputs: TensorSpec[] = leaves.map((l, i) => ({ name: inNames[i], dtype: l.dtype, shape: l.shape.map((d, j) => (axes[i] === j ? symbol! : d)) }));
  const outputs: TensorSpec[] = main.fn.body.results.map((r, i) => ({ name: outNames[i], dtype: r.type.dtype, shape: outDims[i] }));
  const wNames = weightNames(main.captured, p.named);
  const weights: TensorSpec[] = main.captured.map((t, i) => ({ name: wNames[i], dtype: t.dtype, shape: [...t.shape] }));

  const hosts = await toHostRecord(WHERE, Object.fromEntries(main.captured.map((t, i) => [wNames[i], t])));
  const sections: Section[] = [
    { name: 'ir', bytes: new TextEncoder().encode(main.text) },
    { name: 'weights', bytes: serializeSafetensors(hosts, { format: 'kiln' }) },
  ];
  const backends: Backend[] = ['interpreter'];
  const kernels: Partial<Record<Backend, number>> = { interpreter: countKernels(main.fn) };
  for (const c of await compiledSections(main.fn, opts.backends)) {
    sections.push(...c.sections);
    backends.push(c.backend);
    kernels[c.backend] = c.kernels;
  }
  const bytes = writeContainer(
    { kilnVersion: KILN_VERSION, name: p.name, inputs, outputs, weights, ...(batch ? { batch } : {}), backends, kernels },
    sections,
  );
  if (opts.path && opts.format !== 'bytes') await writeFileBytes(WHERE, opts.path, bytes);
  return bytes;
}
