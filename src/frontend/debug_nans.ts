// debugNans: with setDebugNans(true) or KILN_DEBUG_NANS=1, every eager op's float outputs are checked,
// and the first op that turns finite inputs into NaN (or NaN-free inputs into ±Inf) throws a KilnError
// naming the op, its shapes, where the bad value is, and the user's source line. A jitted call whose
// outputs hold NaN/Inf is re-run eagerly (like JAX's debug_nans) so the same check finds the op.
// It reads every result back, so it is for debugging only.
import type { AnyAttrs, Primitive } from '../ir/ops.js';
import type { HostArray } from '../ir/array.js';
import { KilnError } from '../ir/error.js';
import type { Device, DeviceBuffer } from '../codegen/device.js';
import { userSourceLine } from './source_loc.js';
import { log } from './log.js';
import { show } from './args.js';

const envFlag = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.KILN_DEBUG_NANS;

let mode: false | 'throw' | 'warn' = envFlag === 'warn' ? 'warn' : envFlag && envFlag !== '0' ? 'throw' : false;

/** `true` (throw at the first op producing NaN/Inf), `'warn'` (print and go on) or `false`. Returns the previous mode. */
export function setDebugNans(on: boolean | 'warn' = true): boolean | 'warn' {
  if (on !== true && on !== false && on !== 'warn') throw new KilnError(`setDebugNans: expected true, false or 'warn', got ${show(on)}`);
  const prev = mode === 'throw' ? true : mode;
  mode = on === 'warn' ? 'warn' : on ? 'throw' : false;
  return prev;
}

export function debugNansEnabled(): boolean {
  return mode !== false;
}

interface Bad {
  nan: number;
  inf: number;
  /** Flat index of the first non-finite element. */
  first: number;
}

function scan(a: HostArray): Bad | null {
  if (a.dtype !== 'float32' && a.dtype !== 'float64') return null;
  let nan = 0;
  let inf = 0;
  let first = -1;
  const d = a.data as Float32Array | Float64Array;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v - v !== 0) {
      // v - v is NaN exactly for NaN and ±Inf: one test in the common (finite) case.
      if (Number.isNaN(v)) nan++;
      else inf++;
      if (first < 0) first = i;
    }
  }
  return nan || inf ? { nan, inf, first } : null;
}

/** Flat index -> [i, j, ...] in a row-major shape. */
function unravel(index: number, shape: readonly number[]): number[] {
  const out: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    out.unshift(index % shape[k]);
    index = Math.floor(index / shape[k]);
  }
  return out;
}

const describe = (b: { dtype: string; shape: readonly number[] }) => `${b.dtype === 'float32' ? 'f32' : b.dtype === 'float64' ? 'f64' : b.dtype}[${b.shape.join(',')}]`;

function readable(device: Device, b: DeviceBuffer): HostArray | null {
  try {
    return device.readSync(b);
  } catch {
    return null; // devices that cannot read synchronously (WebGPU) are not checked
  }
}

/** Called by bind after an eager op: throws (or warns) when this op made the first NaN/Inf. */
export function checkEagerOp(prim: Primitive, device: Device, inputs: readonly DeviceBuffer[], outputs: readonly DeviceBuffer[], attrs: AnyAttrs): void {
  if (!mode) return;
  const outBad = outputs.map((b) => {
    const a = readable(device, b);
    return a ? scan(a) : null;
  });
  if (outBad.every((b) => !b)) return;
  const inBad = inputs.map((b) => {
    const a = readable(device, b);
    return a ? scan(a) : null;
  });
  const inputsNan = inBad.some((b) => b && b.nan);
  const inputsInf = inBad.some((b) => b && b.inf);
  const k = outBad.findIndex((b) => b && ((b.nan && !inputsNan) || (b.inf && !inputsInf && !inputsNan)));
  if (k < 0) return; // the non-finite values came in through the inputs: an earlier op or the data
  const b = outBad[k]!;
  const where = userSourceLine();
  const attrText = Object.keys(attrs).length ? ` ${JSON.stringify(attrs)}` : '';
  const what = [b.nan ? `${b.nan} NaN` : '', b.inf ? `${b.inf} Inf` : ''].filter(Boolean).join(' and ');
  const msg =
    `debugNans: ${prim}${attrText} produced ${what} in output ${k} (${describe(outputs[k])}, first at [${unravel(b.first, outputs[k].shape).join(',')}]) ` +
    `from ${inputs.length ? `finite inputs ${inputs.map(describe).join(', ')}` : 'no inputs'}${where ? ` at ${where}` : ''}`;
  if (mode === 'warn') {
    console.warn(`kiln: ${msg}`);
    log('nans', msg);
    return;
  }
  throw new KilnError(msg);
}

/**
 * After a jitted call: when an output holds NaN/Inf, re-run the function eagerly (checked op by op) to
 * name the op. `rerun` calls the user's function without jit.
 */
export function checkJitOutputs(name: string, device: Device, outputs: readonly DeviceBuffer[], rerun: () => unknown): void {
  if (!mode) return;
  const i = outputs.findIndex((b) => {
    const a = readable(device, b);
    return a !== null && scan(a) !== null;
  });
  if (i < 0) return;
  log('nans', `jit(${name}): output ${i} holds NaN/Inf; re-running eagerly to find the op`);
  rerun();
  if (mode === 'throw') {
    throw new KilnError(`debugNans: jit(${name}) output ${i} (${describe(outputs[i])}) holds NaN/Inf, but run eagerly no op made one from finite inputs: the arguments (or captured tensors) already hold NaN/Inf`);
  }
}
