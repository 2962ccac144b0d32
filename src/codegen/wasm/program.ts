// Runs launch plans (plan.ts) on the heap: kernel calls with buffer pointers, copies, and the
// host-side loops of cond/while/scan. This half of the backend never loads binaryen, so compiled
// executables (and exported artifacts) run with the runtime alone.
import { KilnError } from '../../ir/error.js';
import { spendIteration, loopBudget } from '../../ir/loop_budget.js';
import type { LoopBudget } from '../../ir/loop_budget.js';
import type { Heap, WasmBuffer } from './heap.js';
import type { PlanProgram as ProgramPlan, PlanStep as Step } from '../../format/wasm_plan.js';

export type KernelFn = (...args: number[]) => void;

/** What a plan needs from the device: the heap and a scratch area for contraction packing. */
export interface Runtime {
  readonly heap: Heap;
  /** Address of a scratch area of at least `bytes` bytes (valid until the next call). */
  scratch(bytes: number): number;
  /** Runs a kernel (possibly split across threads); absent: a plain call on this thread. */
  launch?(k: KernelInfo, args: number[]): void;
}

/** Instantiates module bytes against the heap's memory; returns the exported kernels k0, k1, ... */
export function instantiate(bytes: Uint8Array, memory: WebAssembly.Memory, count: number): KernelFn[] {
  const mod = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  return kernelExports(new WebAssembly.Instance(mod, { env: { memory } }), count);
}

/** The kernels k0..k(count-1) of an instance (a module from a file may lack one: a KilnError). */
export function kernelExports(instance: WebAssembly.Instance, count: number): KernelFn[] {
  return Array.from({ length: count }, (_, i) => {
    const f = instance.exports[`k${i}`];
    if (typeof f !== 'function') throw new KilnError(`wasm: the module does not export kernel k${i}`);
    return f as unknown as KernelFn;
  });
}

/** Runtime.scratch over a heap: one area, grown (never shrunk) to the largest request. */
export function scratchArea(heap: Heap): (bytes: number) => number {
  let area = { ptr: 0, block: 0, bytes: 0 };
  return (bytes) => {
    if (bytes > area.bytes) {
      if (area.block) heap.release(area.ptr, area.block);
      const [ptr, block] = heap.alloc(bytes);
      area = { ptr, block, bytes: block };
    }
    return area.ptr;
  };
}

/** Turns a trap inside a kernel into a KilnError naming the op (gather/scatter bounds, mostly). */
export function kernelError(what: string, e: unknown): never {
  if (e instanceof WebAssembly.RuntimeError) {
    const why = /unreachable/.test(e.message) ? 'an index is out of range' : e.message;
    throw new KilnError(`${what}: ${why}`);
  }
  throw e;
}

export interface KernelInfo {
  readonly fn: KernelFn;
  readonly scratch: number;
  /** Extent of the kernel's parallel loop (0: none). */
  readonly parallel: number;
  readonly consts: readonly WasmBuffer[];
  /** For the thread pool: the module's id there, the kernel's export index, its estimated work. */
  readonly module?: number;
  readonly index?: number;
  readonly work?: number;
}

const freeAll = (heap: Heap, bs: readonly WasmBuffer[]) => bs.forEach((b) => heap.dispose(b));

export class PlanRunner {
  private arena: { base: number; block: number } | null = null;
  private readonly consts: WasmBuffer[];
  /** Loop iterations (while iterations, scan steps) one run may take, all loops together, before it is a KilnError (kiln/runtime bounds untrusted artifacts). */
  maxLoopIterations = Infinity;
  private budget: LoopBudget = loopBudget();

  /** Any plan with a main program: the backend's ExecutablePlan, or an artifact's checked plan file. */
  constructor(readonly plan: { readonly main: ProgramPlan }, readonly kernels: readonly KernelInfo[], readonly constBuffers: readonly WasmBuffer[], private readonly rt: Runtime) {
    this.consts = [...constBuffers];
  }

  run(inputs: readonly WasmBuffer[]): WasmBuffer[] {
    this.budget = loopBudget(this.maxLoopIterations);
    return this.runProgram(this.plan.main, inputs, true);
  }

  /** Frees the arena and constants (the executable is no longer used). */
  release(): void {
    const heap = this.rt.heap;
    if (this.arena) heap.release(this.arena.base, this.arena.block);
    this.arena = null;
    freeAll(heap, this.consts);
  }

  private copy(b: WasmBuffer, bytes: number): WasmBuffer {
    const heap = this.rt.heap;
    const out = heap.buffer(b.dtype, b.shape, bytes);
    if (bytes) heap.u8.copyWithin(out.ptr, b.ptr, b.ptr + bytes);
    return out;
  }

  private runProgram(p: ProgramPlan, inputs: readonly WasmBuffer[], top: boolean): WasmBuffer[] {
    const heap = this.rt.heap;
    const bufs: (WasmBuffer | null)[] = new Array(p.slots.length).fill(null);
    p.params.forEach((s, i) => (bufs[s] = inputs[i]));
    let arenaBase = 0;
    if (top && p.arenaBytes > 0) {
      if (!this.arena) {
        const [base, block] = heap.alloc(p.arenaBytes);
        this.arena = { base, block };
      }
      arenaBase = this.arena.base;
    }
    for (let s = 0; s < p.slots.length; s++) {
      if (p.kinds[s] === 'const') bufs[s] = this.consts[p.constOf[s]];
      else if (p.kinds[s] === 'arena') bufs[s] = heap.view(p.slots[s].dtype, p.slots[s].shape, arenaBase + p.arenaOffsets[s]);
    }
    const out = (s: number): WasmBuffer => {
      if (p.kinds[s] === 'arena') return bufs[s]!;
      const t = p.slots[s];
      return (bufs[s] = heap.buffer(t.dtype, t.shape, t.bytes));
    };
    try {
      for (let i = 0; i < p.steps.length; i++) {
        this.step(p, p.steps[i], bufs, out);
        for (const s of p.frees[i]) {
          const b = bufs[s];
          if (b) heap.dispose(b);
          bufs[s] = null;
        }
      }
    } catch (e) {
      // Nothing half-made leaks: free every fresh buffer of this program.
      for (let s = 0; s < p.slots.length; s++) if (p.kinds[s] === 'fresh' && bufs[s]) heap.dispose(bufs[s]!);
      throw e;
    }
    return p.results.map((s) => bufs[s]!);
  }

  private step(p: ProgramPlan, st: Step, bufs: (WasmBuffer | null)[], out: (s: number) => WasmBuffer): void {
    const heap = this.rt.heap;
    switch (st.kind) {
      case 'kernel': {
        const k = this.kernels[st.kernel];
        const args: number[] = [];
        for (const s of st.ins) args.push(bufs[s]!.ptr);
        for (const c of k.consts) args.push(c.ptr);
        for (const s of st.outs) args.push(out(s).ptr);
        args.push(k.scratch ? this.rt.scratch(k.scratch) : 0, 0, k.parallel);
        try {
          if (this.rt.launch) this.rt.launch(k, args);
          else k.fn(...args);
        } catch (e) {
          kernelError(st.what, e);
        }
        return;
      }
      case 'copy': {
        const src = bufs[st.from]!;
        bufs[st.out] = this.copy(src, p.slots[st.from].bytes);
        return;
      }
      case 'cond': {
        const pred = heap.u8[bufs[st.pred]!.ptr] !== 0;
        const res = this.runProgram(st.branches[pred ? 0 : 1], st.args.map((s) => bufs[s]!), false);
        st.outs.forEach((s, j) => (bufs[s] = res[j]));
        return;
      }
      case 'while': {
        const condCaps = st.condCaptures.map((s) => bufs[s]!);
        const bodyCaps = st.bodyCaptures.map((s) => bufs[s]!);
        let carry = st.args.map((s) => bufs[s]!);
        let owned = false;
        for (;;) {
          const [c] = this.runProgram(st.cond, [...carry, ...condCaps], false);
          const go = heap.u8[c.ptr] !== 0;
          heap.dispose(c);
          if (!go) break;
          try {
            spendIteration(this.budget);
          } catch (e) {
            if (owned) freeAll(heap, carry);
            throw e;
          }
          const next = this.runProgram(st.body, [...carry, ...bodyCaps], false);
          if (owned) freeAll(heap, carry);
          carry = next;
          owned = true;
        }
        if (!owned) carry = carry.map((b, j) => this.copy(b, p.slots[st.args[j]].bytes));
        st.outs.forEach((s, j) => (bufs[s] = carry[j]));
        return;
      }
      case 'scan': {
        const { length, numCarry, reverse } = st;
        const args = st.args.map((s) => bufs[s]!);
        const caps = st.captures.map((s) => bufs[s]!);
        let carry = args.slice(0, numCarry);
        const xs = args.slice(numCarry);
        const xSlice = st.args.slice(numCarry).map((s) => p.slots[s].bytes / Math.max(1, length));
        const ys = st.outs.slice(numCarry).map((s) => out(s));
        const ySlice = st.outs.slice(numCarry).map((s) => p.slots[s].bytes / Math.max(1, length));
        let owned = false;
        for (let step = 0; step < length; step++) {
          try {
            spendIteration(this.budget, 'scan');
          } catch (e) {
            if (owned) freeAll(heap, carry); // ys are the program's fresh slots: runProgram frees them
            throw e;
          }
          const t = reverse ? length - 1 - step : step;
          const slices = xs.map((x, j) => heap.view(x.dtype, x.shape.slice(1), x.ptr + t * xSlice[j]));
          const res = this.runProgram(st.body, [...carry, ...slices, ...caps], false);
          if (owned) freeAll(heap, carry);
          carry = res.slice(0, numCarry);
          owned = true;
          res.slice(numCarry).forEach((y, j) => {
            if (ySlice[j]) heap.u8.copyWithin(ys[j].ptr + t * ySlice[j], y.ptr, y.ptr + ySlice[j]);
            heap.dispose(y);
          });
        }
        if (!owned) carry = carry.map((b, j) => this.copy(b, p.slots[st.args[j]].bytes));
        st.outs.slice(0, numCarry).forEach((s, j) => (bufs[s] = carry[j]));
        return;
      }
    }
  }
}
