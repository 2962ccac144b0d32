// checkGrad: compares analytic gradients (the eager tape, the IR pass, or both) against central finite
// differences, all in float64 on the reference interpreter, which is the numeric spec.
import type { HostArray } from '../../ir/array.js';
import { hostArray } from '../../ir/array.js';
import { KilnError } from '../../ir/error.js';
import { interpret } from '../../ir/interpret.js';
import { vjpFunction } from '../../passes/autodiff/ir_autodiff.js';
import { getDevice } from '../../codegen/device.js';
import '../../codegen/cpu_ref.js';
import { Tensor } from '../tensor.js';
import { fnArg, show } from '../args.js';
import { bind, withDefaultDevice } from '../trace.js';
import { TensorLike, asTensor } from '../convert.js';
import { traceToFunction } from '../tracing.js';
import { backward } from './backward.js';

export interface CheckGradOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Largest acceptable error (default 1e-6). */
  tol?: number;
  /** Which analytic gradient to check: the eager tape, the IR pass, or both (default). */
  mode?: 'tape' | 'ir' | 'both';
}

export interface CheckGradResult {
  ok: boolean;
  /**
   * Largest |analytic - numeric| / max(1, |analytic|, |numeric|) over all elements and modes:
   * a relative error for gradients larger than 1, an absolute one below.
   */
  maxRelError: number;
  /** Per mode checked. */
  errors: { tape?: number; ir?: number };
  /** Finite-difference gradients, one per float input. */
  numeric: Float64Array[];
}

const DEVICE = 'cpu-ref';

const host = (t: Tensor): HostArray => getDevice(t.device).readSync(t._buf());

/** Inputs in float64 on cpu-ref (non-float inputs, such as indices, keep their dtype). */
function toF64(x: TensorLike): Tensor {
  const t = asTensor('checkGrad', x, undefined, DEVICE);
  const h = host(t);
  const isF = t.dtype === 'float32' || t.dtype === 'float64';
  const a = isF ? hostArray('float64', t.shape, h.data) : hostArray(t.dtype, t.shape, h.data);
  return Tensor._fromHost(a, DEVICE);
}

/** Deterministic weights in [0.5, 1.5] so a tensor output becomes a scalar that sees every element differently. */
function weights(n: number): Float64Array {
  const w = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    w[i] = 0.5 + (s >>> 8) / (1 << 24);
  }
  return w;
}

/**
 * Checks the gradient of `f` (any tensor output, projected to a scalar with fixed weights) at `inputs`
 * against central finite differences. Float inputs are cast to float64 on 'cpu-ref'.
 */
export function checkGrad(f: (...xs: Tensor[]) => Tensor, inputs: readonly TensorLike[], opts: CheckGradOptions = {}): CheckGradResult {
  const eps = opts.eps ?? 1e-6;
  const tol = opts.tol ?? 1e-6;
  const mode = opts.mode ?? 'both';
  fnArg('checkGrad', null, f);
  if (!Array.isArray(inputs)) throw new KilnError(`checkGrad: inputs must be a list of tensors, got ${show(inputs)}`);
  const xs = inputs.map(toF64);
  const floatIdx = xs.map((x, i) => (x.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
  if (floatIdx.length === 0) throw new KilnError('checkGrad: no float inputs to differentiate');
  // f runs where its inputs live: tensors it makes (constants, indices) land on DEVICE too.
  const onDevice = (...a: Tensor[]): Tensor => withDefaultDevice(DEVICE, () => f(...a));
  const probe = onDevice(...xs);
  if (!(probe instanceof Tensor)) throw new KilnError('checkGrad: the function must return a tensor');
  // A one-element output is used as is, so `numeric` is its plain gradient.
  const w = Tensor._fromHost(hostArray(probe.dtype === 'float32' ? 'float32' : 'float64', probe.shape, probe.size === 1 ? [1] : weights(probe.size)), DEVICE);
  const scalar = (...a: Tensor[]): Tensor => {
    const y = onDevice(...a);
    const wy = bind('mul', [y, y.dtype === w.dtype ? w : bind('cast', [w], { dtype: y.dtype })[0]])[0];
    return bind('reduce_sum', [wy], { axes: wy.shape.map((_, i) => i) })[0];
  };

  // The scalar function as IR, evaluated on host arrays: the finite differences and the IR gradient.
  const tf = traceToFunction(scalar, xs, { name: 'checked' });
  const args = [...xs, ...tf.captured].map(host);
  const run = (a: HostArray[]) => interpret(tf.fn, a, { promoteFloat32: true })[0].data[0];
  const numeric = floatIdx.map((i) => {
    const base = args[i].data as Float64Array;
    const g = new Float64Array(base.length);
    for (let k = 0; k < base.length; k++) {
      const v = base[k];
      const at = (d: number) => {
        const data = Float64Array.from(base);
        data[k] = v + d;
        const a = args.slice();
        a[i] = { dtype: 'float64', shape: args[i].shape, data };
        return run(a);
      };
      g[k] = (at(eps) - at(-eps)) / (2 * eps);
    }
    return g;
  });

  const errors: CheckGradResult['errors'] = {};
  const compare = (analytic: Float64Array[]) => {
    let worst = 0;
    analytic.forEach((a, j) => {
      const n = numeric[j];
      for (let k = 0; k < n.length; k++) {
        const err = Math.abs(a[k] - n[k]) / Math.max(1, Math.abs(a[k]), Math.abs(n[k]));
        worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
      }
    });
    return worst;
  };
  if (mode !== 'ir') {
    const leaves = xs.map((x) => {
      const t = Tensor._fromHost(host(x), DEVICE);
      if (t.dtype === 'float64') t.requiresGrad = true;
      return t;
    });
    backward(scalar(...leaves));
    errors.tape = compare(floatIdx.map((i) => Float64Array.from(leaves[i].grad ? host(leaves[i].grad!).data : new Float64Array(leaves[i].size))));
  }
  if (mode !== 'tape') {
    const vf = vjpFunction(tf.fn, floatIdx);
    const outs = interpret(vf, [...args, hostArray('float64', [], [1])], { promoteFloat32: true });
    errors.ir = compare(outs.slice(1).map((o) => Float64Array.from(o.data)));
  }
  const maxRelError = Math.max(errors.tape ?? 0, errors.ir ?? 0);
  return { ok: maxRelError < tol, maxRelError, errors, numeric };
}
