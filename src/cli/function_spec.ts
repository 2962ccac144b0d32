// What `kiln bench` and `kiln viz` read from a module file: the function and example arguments, in
// the shape `kiln export` uses ({ fn, args } exported as kilnExport, default, or --name). Arguments
// may be tensors, {data, shape, dtype?} arrays or {shape, dtype?} specs, which become seeded random
// tensors; everything lands on the chosen device.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KilnError } from '../ir/error.js';
import { UsageError } from './io.js';

export interface FunctionSpec {
  readonly fn: (...args: any[]) => unknown;
  readonly args: unknown[];
  readonly name: string;
  readonly device: string;
}

type Kiln = typeof import('../index.js');

/** Seeded uniform data in [-1, 1) (ints in [0, 10)), so runs are repeatable and never all zeros. */
function randomData(n: number, dtype: string, seed: number): Float32Array | Int32Array {
  let a = seed >>> 0;
  const next = () => {
    a = (Math.imul(a ^ (a >>> 15), 0x2c1b3c6d) + 0x297a2d39) >>> 0;
    return a / 4294967296;
  };
  return dtype === 'int32' ? Int32Array.from({ length: n }, () => Math.floor(next() * 10)) : Float32Array.from({ length: n }, () => next() * 2 - 1);
}

function toArgument(k: Kiln, x: unknown, device: string, seed: { n: number }): unknown {
  if (x instanceof k.Tensor) return x.device === device ? x : x.to(device);
  if (Array.isArray(x)) return x.map((y) => toArgument(k, y, device, seed));
  if (x && typeof x === 'object' && 'shape' in x && Array.isArray((x as { shape: unknown }).shape)) {
    const { shape, dtype = 'float32', data } = x as { shape: number[]; dtype?: 'float32' | 'int32' | 'bool'; data?: ArrayLike<number> };
    const n = shape.reduce((a, b) => a * b, 1);
    const values = data ?? randomData(n, dtype, 1234 + seed.n++);
    return k.tensor(Array.from(values) as number[], { dtype, device }).reshape(shape);
  }
  if (x && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.fromEntries(Object.entries(x).map(([key, v]) => [key, toArgument(k, v, device, seed)]));
  }
  return x;
}

/** Imports `path` and returns its function spec, arguments ready on `device` (default: wasm when present). */
export async function loadFunctionSpec(path: string, opts: { name?: string; device?: string; command: string }): Promise<FunctionSpec> {
  const k: Kiln = await import('../index.js');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (e) {
    const msg = (e as Error).message;
    // tsx compiles a .ts file outside a "type": "module" package as CommonJS, where Kiln's top-level await fails.
    const hint = /top-level await|ERR_REQUIRE_ASYNC_MODULE|require\(\) of ES Module/i.test(msg) ? ' (the module was loaded as CommonJS: name it .mts/.mjs or put it in a package with "type": "module")' : '';
    throw new KilnError(`cannot import ${path}: ${msg}${hint}`);
  }
  const key = opts.name ?? ('kilnExport' in mod ? 'kilnExport' : 'default');
  const spec = mod[key] as { fn?: unknown; model?: unknown; args?: unknown } | undefined;
  if (!spec || typeof spec !== 'object') throw new KilnError(`${path} has no export ${key} (exports: ${Object.keys(mod).join(', ') || 'none'})`);
  let fn = spec.fn ?? spec.model;
  if (fn instanceof k.nn.Module) {
    const model = fn;
    fn = (...xs: unknown[]) => model.call(...xs);
  }
  if (typeof fn !== 'function') throw new KilnError(`${key}.fn must be a function (or model an nn.Module)`);
  if (!Array.isArray(spec.args)) throw new KilnError(`${key}.args must be the array of example arguments`);
  const names = k.deviceNames();
  const device = opts.device ?? (names.includes('wasm') ? 'wasm' : k.defaultDevice());
  if (!names.includes(device)) throw new UsageError(`kiln ${opts.command}: unknown device '${device}' (known: ${names.join(', ')})`);
  k.setDefaultDevice(device);
  const args = spec.args.map((a) => toArgument(k, a, device, { n: 0 }));
  return { fn: fn as (...args: any[]) => unknown, args, name: (fn as { name?: string }).name || key, device };
}
