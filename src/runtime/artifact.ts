// A loaded artifact: the validated manifest, the parsed IR (re-specialized per batch size), the
// weights, and `run`, which executes the file's wasm code, its WGSL on WebGPU when asked, or the IR
// with the reference interpreter. Nothing from the file is ever evaluated as JavaScript: the IR is
// data for the interpreter, the weights are numbers, WGSL goes to the GPU's shader compiler.
import { KilnError } from '../ir/error.js';
import type { HostArray } from '../ir/array.js';
import type { Block, Function } from '../ir/function.js';
import { parseFunction } from '../ir/parser.js';
import { verify } from '../ir/verify.js';
import { interpret } from '../ir/interpret.js';
import { sizeOf, typeToString } from '../ir/shape.js';
import type { TensorType } from '../ir/shape.js';
import { SHORT_NAME } from '../ir/dtype.js';
import { fromUtf8 } from '../format/bytes.js';
import { readContainer } from '../format/container.js';
import type { Manifest, TensorSpec } from '../format/manifest.js';
import { parseSafetensors } from '../format/safetensors.js';
import { specializeText } from '../format/batch.js';
import { RuntimeTensor } from './tensor.js';
import type { WasmPlanFile } from '../format/wasm_plan.js';
import type { WasmProgram } from './wasm.js';
import { loadWasmProgram, loadWasmProgramSync, readWasmPlan } from './wasm.js';
import type { WgslPlanFile } from '../format/wgsl_plan.js';
import type { WebGPUProgram } from './webgpu.js';
import type { ArtifactInput } from './inputs.js';
import { loadWebGPUProgram, readWgslPlan } from './webgpu.js';
import { concreteShape, inferBatch, readInput, toHostArray } from './inputs.js';

export type RuntimeBackend = 'auto' | 'wasm' | 'webgpu' | 'interpreter';

export interface LoadOptions {
  /**
   * 'auto' (default): run the file's wasm code where it loads (at the batch size it was compiled for),
   * else the interpreter; 'wasm': require the wasm code (a KilnError if it cannot load); 'webgpu': run
   * the file's WGSL on a GPU (navigator.gpu, the `webgpu` package in Node, or `gpuDevice`) at the
   * compiled batch size, the interpreter at others (a KilnError if there is no GPU or no wgsl section);
   * 'interpreter': ignore compiled code. WebGPU is never chosen by 'auto': it is asynchronous to
   * acquire and agrees with the other backends within f32 tolerance, not bit for bit.
   */
  backend?: RuntimeBackend;
  /** backend 'webgpu': run on this GPUDevice instead of requesting an adapter. */
  gpuDevice?: GPUDevice;
  /**
   * Loop iterations one call may run, `while` iterations and `scan` steps of all loops together,
   * before it is a KilnError (default 1,000,000): an artifact from an untrusted source cannot hang
   * the process with a loop that never ends (or a scan of 10^12 steps over no sliced input).
   */
  maxLoopIterations?: number;
  /** Largest tensor (in elements) the IR may declare anywhere; guards against hostile shapes. Default 2^28. */
  maxElements?: number;
  /** How many batch sizes keep a specialized IR cached (default 8). */
  cacheSize?: number;
}

const showSpec = (s: TensorSpec) => `${SHORT_NAME[s.dtype]}[${s.shape.join(',')}]`;

/** Every value's element count (params, results, region params) must stay under the limit. */
function checkSizes(fn: Function, max: number): void {
  const check = (t: TensorType, what: string) => {
    if (sizeOf(t.shape) > max) throw new KilnError(`artifact: ${what} has type ${typeToString(t)}, more than the ${max}-element limit (LoadOptions.maxElements)`);
  };
  const walk = (b: Block) => {
    b.params.forEach((p) => check(p.type, 'a parameter'));
    for (const op of b.ops) {
      op.results.forEach((r) => check(r.type, `a ${op.prim} result`));
      op.regions.forEach(walk);
    }
  };
  walk(fn.body);
}

export class Artifact {
  readonly manifest: Manifest;
  private readonly irText: string;
  private readonly weights: HostArray[];
  private readonly maxElements: number;
  private readonly cacheSize: number;
  private readonly programs = new Map<number, Function>();
  private readonly backendOption: RuntimeBackend;
  private readonly wasmCode?: { bytes: Uint8Array; plan: WasmPlanFile };
  private wasm: WasmProgram | null = null;
  private readonly wgslPlan?: WgslPlanFile;
  private webgpu: WebGPUProgram | null = null;
  private readonly gpuDevice?: GPUDevice;
  readonly maxLoopIterations: number;
  private disposed = false;
  /** Why the file's wasm code is not used (undefined when it is, or when there is none). */
  wasmError?: string;

  /** Validates everything up front: a bad file fails here, not on the first run. */
  constructor(bytes: Uint8Array, options: LoadOptions = {}) {
    const { manifest, sections } = readContainer(bytes);
    this.manifest = manifest;
    this.maxElements = options.maxElements ?? 2 ** 28;
    this.cacheSize = Math.max(1, options.cacheSize ?? 8);
    const maxIter = options.maxLoopIterations ?? 1_000_000;
    if (typeof maxIter !== 'number' || !(maxIter >= 0) || (!Number.isSafeInteger(maxIter) && maxIter !== Infinity)) {
      throw new KilnError(`loadArtifact: maxLoopIterations must be a non-negative integer or Infinity, got ${String(options.maxLoopIterations)}`);
    }
    this.maxLoopIterations = maxIter;
    this.gpuDevice = options.gpuDevice;
    this.irText = fromUtf8('artifact: section ir', sections.ir!);
    const stored = parseSafetensors(sections.weights!).tensors;
    const names = Object.keys(stored);
    if (names.length !== manifest.weights.length) throw new KilnError(`artifact: the weights section holds ${names.length} tensors, the manifest lists ${manifest.weights.length}`);
    this.weights = manifest.weights.map((w) => {
      const t = Object.hasOwn(stored, w.name) ? stored[w.name] : undefined;
      if (!t) throw new KilnError(`artifact: weight ${JSON.stringify(w.name)} is listed in the manifest but missing from the weights section`);
      if (t.dtype !== w.dtype || t.shape.length !== w.shape.length || t.shape.some((d, i) => d !== w.shape[i])) {
        throw new KilnError(`artifact: weight ${JSON.stringify(w.name)} is ${typeToString(t)} in the weights section but ${showSpec(w)} in the manifest`);
      }
      return t;
    });
    const example = this.program(manifest.batch?.example ?? 0);
    this.backendOption = options.backend ?? 'auto';
    if (!['auto', 'wasm', 'webgpu', 'interpreter'].includes(this.backendOption)) throw new KilnError(`loadArtifact: backend must be 'auto', 'wasm', 'webgpu' or 'interpreter', got ${String(options.backend)}`);
    if (this.backendOption === 'webgpu') {
      if (!sections.wgsl) throw new KilnError(`loadArtifact: backend 'webgpu' was asked for but ${this.name} carries no WebGPU code (export it with backends: ['webgpu'])`);
      this.wgslPlan = readWgslPlan(sections.wgsl, example, this.maxElements);
    } else if (sections.wasm && sections['wasm.plan'] && this.backendOption !== 'interpreter') {
      const plan = readWasmPlan(sections['wasm.plan'], example.body.params.length, this.maxElements * 8);
      const results = plan.main.results.map((r) => plan.main.slots[r]);
      const outs = example.body.results;
      if (results.length !== outs.length || results.some((r, i) => r.dtype !== outs[i].type.dtype || sizeOf(r.shape) !== sizeOf(outs[i].type.shape))) {
        throw new KilnError('artifact: section wasm.plan: its results do not match the IR\'s');
      }
      this.wasmCode = { bytes: sections.wasm, plan };
    } else if (this.backendOption === 'wasm') {
      throw new KilnError(`loadArtifact: backend 'wasm' was asked for but ${this.name} carries no wasm code`);
    }
  }

  private onWasmFailure(e: unknown): void {
    const why = e instanceof Error ? e.message : String(e);
    if (this.backendOption === 'wasm') throw new KilnError(`loadArtifact: the wasm code of ${this.name} does not load here: ${why}`);
    this.wasmError = why;
  }

  /** Acquires the GPU and compiles the file's shaders (loadArtifact calls this for backend 'webgpu'). */
  async initWebGPU(): Promise<this> {
    if (!this.wgslPlan || this.webgpu) return this;
    try {
      this.webgpu = await loadWebGPUProgram(this.program(this.manifest.batch?.example ?? 0), this.wgslPlan, this.weights, { device: this.gpuDevice, maxLoopIterations: this.maxLoopIterations });
    } catch (e) {
      throw new KilnError(`loadArtifact: the WebGPU code of ${this.name} does not load here: ${e instanceof Error ? e.message.replace(/^webgpu: /, '') : String(e)}`);
    }
    return this;
  }

  /** The GPU adapter the artifact runs on (backend 'webgpu'), or undefined. */
  get adapter(): string | undefined {
    return this.webgpu?.adapter;
  }

  /** Instantiates the wasm code, if any (loadArtifact calls this; the sync loader calls initWasmSync). */
  async initWasm(): Promise<this> {
    if (!this.wasmCode || this.wasm) return this;
    try {
      this.wasm = await loadWasmProgram(this.wasmCode.bytes, this.wasmCode.plan, this.weights, this.manifest.inputs.length, this.maxLoopIterations);
    } catch (e) {
      this.onWasmFailure(e);
    }
    return this;
  }

  initWasmSync(): this {
    if (!this.wasmCode || this.wasm) return this;
    try {
      this.wasm = loadWasmProgramSync(this.wasmCode.bytes, this.wasmCode.plan, this.weights, this.manifest.inputs.length, this.maxLoopIterations);
    } catch (e) {
      this.onWasmFailure(e);
    }
    return this;
  }

  /** Which backend a call at batch size `n` runs on. */
  backendFor(n = this.manifest.batch?.example ?? 0): 'wasm' | 'webgpu' | 'interpreter' {
    const compiled = !this.manifest.batch || n === this.manifest.batch.example;
    return compiled && this.webgpu ? 'webgpu' : compiled && this.wasm ? 'wasm' : 'interpreter';
  }

  get name(): string {
    return this.manifest.name;
  }
  get inputs(): readonly TensorSpec[] {
    return this.manifest.inputs;
  }
  get outputs(): readonly TensorSpec[] {
    return this.manifest.outputs;
  }

  /** The IR text as stored (at the example batch size). */
  get ir(): string {
    return this.irText;
  }

  /** The IR Function for batch size `n` (ignored without a batch symbol), parsed and checked once. */
  program(n: number): Function {
    const batch = this.manifest.batch;
    const key = batch ? n : 0;
    const hit = this.programs.get(key);
    if (hit) {
      this.programs.delete(key);
      this.programs.set(key, hit);
      return hit;
    }
    const text = batch ? specializeText(this.irText, batch, n) : this.irText;
    const where = batch ? `artifact (batch ${batch.symbol}=${n})` : 'artifact';
    let fn: Function;
    try {
      fn = parseFunction(text);
      verify(fn);
    } catch (e) {
      throw new KilnError(`${where}: the IR does not check${batch && n !== batch.example ? ' for this batch size' : ''}: ${e instanceof Error ? e.message : String(e)}`);
    }
    checkSizes(fn, this.maxElements);
    this.checkSignature(fn, n, where);
    this.programs.set(key, fn);
    while (this.programs.size > this.cacheSize) this.programs.delete(this.programs.keys().next().value!);
    return fn;
  }

  /** The manifest's inputs + weights must be the IR's parameters, its outputs the IR's results. */
  private checkSignature(fn: Function, n: number, where: string): void {
    const m = this.manifest;
    const symbol = m.batch?.symbol;
    const expect = [...m.inputs.map((s) => ({ s, kind: 'input' })), ...m.weights.map((s) => ({ s, kind: 'weight' }))];
    const params = fn.body.params;
    if (params.length !== expect.length) throw new KilnError(`${where}: the IR takes ${params.length} parameters but the manifest lists ${m.inputs.length} inputs and ${m.weights.length} weights`);
    const same = (t: TensorType, s: TensorSpec) => {
      const shape = concreteShape(s.shape, symbol, n);
      return t.dtype === s.dtype && t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    };
    params.forEach((p, i) => {
      const { s, kind } = expect[i];
      if (!same(p.type, s)) throw new KilnError(`${where}: ${kind} ${JSON.stringify(s.name)} is ${showSpec(s)} in the manifest but the IR parameter ${i} is ${typeToString(p.type)}`);
    });
    if (fn.body.results.length !== m.outputs.length) throw new KilnError(`${where}: the IR returns ${fn.body.results.length} values but the manifest lists ${m.outputs.length} outputs`);
    fn.body.results.forEach((r, i) => {
      const s = m.outputs[i];
      if (!same(r.type, s)) throw new KilnError(`${where}: output ${JSON.stringify(s.name)} is ${showSpec(s)} in the manifest but the IR returns ${typeToString(r.type)}`);
    });
  }

  /** Inputs by position (an array) or by name (an object); checked against the signature. */
  async prepare(inputs: readonly ArtifactInput[] | Record<string, ArtifactInput>): Promise<{ n: number; args: HostArray[] }> {
    const specs = this.manifest.inputs;
    const list: unknown[] = Array.isArray(inputs)
      ? inputs
      : typeof inputs === 'object' && inputs !== null
        ? specs.map((s) => {
            if (!Object.hasOwn(inputs, s.name)) throw new KilnError(`artifact ${this.name}: input ${JSON.stringify(s.name)} is missing (inputs: ${specs.map((x) => x.name).join(', ')})`);
            return (inputs as Record<string, unknown>)[s.name];
          })
        : [];
    if (!Array.isArray(inputs) && (typeof inputs !== 'object' || inputs === null)) throw new KilnError(`artifact ${this.name}: run takes an array of inputs or an object of inputs by name`);
    if (list.length !== specs.length) {
      throw new KilnError(`artifact ${this.name}: expects ${specs.length} input(s) (${specs.map((s) => `${s.name}: ${showSpec(s)}`).join(', ')}), got ${list.length}`);
    }
    const symbol = this.manifest.batch?.symbol;
    const read = await Promise.all(list.map((x, i) => readInput(`artifact ${this.name}: input ${JSON.stringify(specs[i].name)}`, x)));
    // A plain number[] is a nested array of rank 1; for an input of another rank it is flat data.
    read.forEach((r, i) => {
      if (Array.isArray(list[i]) && r.shape?.length === 1 && specs[i].shape.length !== 1) delete r.shape;
    });
    let n: number | undefined;
    read.forEach((r, i) => {
      const where = `artifact ${this.name}: input ${JSON.stringify(specs[i].name)} (${showSpec(specs[i])})`;
      const m = inferBatch(where, specs[i], symbol, r);
      if (m !== undefined && n !== undefined && m !== n) throw new KilnError(`artifact ${this.name}: inputs disagree on the batch size ${symbol} (${n} vs ${m} at input ${JSON.stringify(specs[i].name)})`);
      n ??= m;
    });
    n ??= this.manifest.batch?.example ?? 0;
    const batch = n;
    const args = read.map((r, i) => {
      const s = specs[i];
      return toHostArray(`artifact ${this.name}: input ${JSON.stringify(s.name)} (${showSpec(s)})`, s.dtype, concreteShape(s.shape, symbol, batch), r);
    });
    return { n: batch, args };
  }

  /**
   * Frees what loading made: the wasm program's weights and arena, the GPU buffers (and a GPU device
   * the artifact requested itself). Running afterwards is a KilnError.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.wasm?.dispose();
    this.webgpu?.dispose();
    this.wasm = null;
    this.webgpu = null;
    this.programs.clear();
  }

  private checkLive(): void {
    if (this.disposed) throw new KilnError(`artifact ${this.name}: used after dispose()`);
  }

  /** Runs the artifact; outputs come back in signature order. */
  async run(inputs: readonly ArtifactInput[] | Record<string, ArtifactInput>): Promise<RuntimeTensor[]> {
    this.checkLive();
    const { n, args } = await this.prepare(inputs);
    if (this.backendFor(n) !== 'webgpu') return this.execute(n, args);
    this.program(n); // checks the signature like the other backends do
    const outs = await this.webgpu!.run(args);
    return outs.map((o, i) => new RuntimeTensor(this.manifest.outputs[i].name, o));
  }

  /** Runs on prepared host arrays, synchronously: wasm or the interpreter (WebGPU runs only through `run`). */
  execute(n: number, args: HostArray[]): RuntimeTensor[] {
    this.checkLive();
    const fn = this.program(n);
    let outs: HostArray[];
    try {
      outs = this.backendFor(n) === 'wasm' ? this.wasm!.run(args) : interpret(fn, [...args, ...this.weights], { maxLoopIterations: this.maxLoopIterations });
    } catch (e) {
      if (e instanceof KilnError) throw e;
      throw new KilnError(`artifact ${this.name}: execution failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return outs.map((o, i) => new RuntimeTensor(this.manifest.outputs[i].name, o));
  }
}
