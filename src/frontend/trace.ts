// Traces and the one dispatch point `bind`: every public op calls bind, which either runs the op
// eagerly on a device or hands it to the innermost active trace (jit records IR this way).
import type { HostArray } from '../ir/array.js';
import type { Block } from '../ir/function.js';
import type { AnyAttrs, Primitive } from '../ir/ops.js';
import { KilnError } from '../ir/error.js';
import { getDevice } from '../codegen/device.js';
// The devices new tensors may default to register themselves on import.
import '../codegen/cpu_ref.js';
import '../codegen/wasm/device.js';
import { Tensor } from './tensor.js';
import { recordNode } from './autograd/tape.js';
import { checkEagerOp, debugNansEnabled } from './debug_nans.js';

/**
 * A trace interprets primitives on its own tensors (JAX's Trace). Its tensors carry `_trace === this`
 * and a trace-specific `_payload` (for jit: the IR Value).
 */
export interface Trace {
  /** Nesting depth; the deepest trace among an op's inputs (or the innermost active one) wins. */
  readonly level: number;
  /** For error messages: 'jit(step)'. */
  readonly name: string;
  /** Records or evaluates `prim`; all inputs already belong to this trace. */
  process(prim: Primitive, inputs: Tensor[], attrs: AnyAttrs, regions: readonly Block[]): Tensor[];
  /** Brings a tensor from a lower level (eager, or an outer trace) into this trace. */
  lift(t: Tensor): Tensor;
  /** User code asked a traced tensor for a concrete value (`item()`, `valueOf`, `dataSync()`). */
  concretize(t: Tensor, why: string): HostArray;
}

const active: Trace[] = [];

export function currentTrace(): Trace | null {
  return active.length ? active[active.length - 1] : null;
}
export function nextTraceLevel(): number {
  return active.length ? active[active.length - 1].level + 1 : 1;
}

/** Runs `fn` with `trace` as the innermost active trace; ops with only eager inputs are staged into it. */
export function withTrace<T>(trace: Trace, fn: () => T): T {
  active.push(trace);
  try {
    return fn();
  } finally {
    const top = active.pop();
    if (top !== trace) throw new KilnError(`internal: trace stack corrupted (${top?.name} popped, ${trace.name} expected)`);
  }
}

/** The one dispatch point: every primitive application in Kiln goes through here. */
export function bind(prim: Primitive, inputs: Tensor[], attrs: AnyAttrs = {}, regions: readonly Block[] = []): Tensor[] {
  // Ops without inputs (constant, iota) may say where to place their result: `attrs.device`.
  // It is a placement, not an attribute of the op, so it never reaches the IR or the device.
  let placement: string | undefined;
  if ('device' in attrs) {
    const { device, ...rest } = attrs;
    placement = device as string | undefined;
    attrs = rest;
  }
  let top = currentTrace();
  for (const x of inputs) if (x._trace && (!top || x._trace.level > top.level)) top = x._trace;
  let outputs: Tensor[];
  if (top) {
    const t = top;
    outputs = t.process(prim, inputs.map((x) => (x._trace === t ? x : t.lift(x))), attrs, regions);
  } else {
    outputs = executeEager(prim, inputs, attrs, regions, placement);
  }
  recordNode(prim, inputs, outputs, attrs, regions);
  return outputs;
}

export function bind1(prim: Primitive, inputs: Tensor[], attrs: AnyAttrs = {}, regions: readonly Block[] = []): Tensor {
  return bind(prim, inputs, attrs, regions)[0];
}

function executeEager(prim: Primitive, inputs: Tensor[], attrs: AnyAttrs, regions: readonly Block[], placement?: string): Tensor[] {
  const deviceName = inputs.length ? inputs[0].device : placement ?? defaultDevice();
  for (const x of inputs) {
    if (x.device !== deviceName) {
      throw new KilnError(`${prim}: inputs are on different devices (${inputs.map((i) => `${i.device}`).join(', ')}); move them with t.to('${deviceName}')`);
    }
  }
  const device = getDevice(deviceName);
  const outs = device.execute(prim, inputs.map((x) => x._buf()), attrs, regions);
  if (debugNansEnabled()) checkEagerOp(prim, device, inputs.map((x) => x._buf()), outs, attrs);
  return outs.map((b) => Tensor._fromBuffer(b, deviceName));
}

/** KILN_DEVICE (read so the module also loads in a browser) picks the default, e.g. to run a test suite on another device. */
const envDevice = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.KILN_DEVICE;
let defaultDeviceName = envDevice ?? 'cpu-ref';
/** Innermost `withDefaultDevice` scope last: composites place their internal tensors with their inputs. */
const deviceScopes: string[] = [];
export function defaultDevice(): string {
  return deviceScopes.length ? deviceScopes[deviceScopes.length - 1] : defaultDeviceName;
}
/**
 * Runs `fn` with `name` as the device new tensors default to (torch's `with torch.device(...)`,
 * JAX's `default_device`): creation ops and plain arrays converted inside land there. Synchronous;
 * the previous default comes back when `fn` returns or throws. Under jit placement is ignored.
 */
export function withDefaultDevice<T>(name: string, fn: () => T): T {
  if (typeof name !== 'string') throw new KilnError(`withDevice: device must be a device name string, got ${typeof name}`);
  if (typeof fn !== 'function') throw new KilnError(`withDevice: expected a function to run on '${name}', got ${typeof fn}`);
  if (name !== defaultDevice()) getDevice(name); // throws a KilnError for unknown devices
  deviceScopes.push(name);
  try {
    return fn();
  } finally {
    deviceScopes.pop();
  }
}
/** Sets the device new tensors are created on (`'cpu-ref'`, `'wasm'`, `'webgpu'`). */
export function setDefaultDevice(name: string): void {
  getDevice(name); // throws a KilnError for unknown devices
  defaultDeviceName = name;
}
