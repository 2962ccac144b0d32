// Module: the base of every layer and model (PyTorch's nn.Module). Parameters, buffers and
// submodules are discovered from fields, so a model is an ordinary class with a forward().
import { KilnError } from '../../ir/error.js';
import { Tensor } from '../tensor.js';
import { currentTrace } from '../trace.js';
import { markInternal } from '../autograd/tape.js';
import { isKept } from '../memory.js';
import { isBuiltin } from './builtin.js';


/** Tensors anywhere in a forward's result (arrays and plain objects). */
function resultTensors(x: unknown, out = new Set<Tensor>()): Set<Tensor> {
  if (x instanceof Tensor) out.add(x);
  else if (Array.isArray(x)) for (const v of x) resultTensors(v, out);
  else if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) for (const v of Object.values(x)) resultTensors(v, out);
  return out;
}

/** Marks a tensor as a trainable parameter (requires grad) — `this.weight = parameter(init)`. */
export function parameter(t: Tensor): Tensor {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new KilnError(`parameter: parameters must be float tensors, got ${t.describe()}`);
  t.requiresGrad = true;
  return t;
}

const BUFFERS = Symbol('buffers');
const TRAINING = Symbol('training');

export type StateDict = Record<string, Tensor>;

export abstract class Module {
  private [BUFFERS] = new Set<string>();
  private [TRAINING] = true;

  abstract forward(...args: any[]): any;

  /** Calls forward; a module is used as `model.call(x)` (or `model.forward(x)`). */
  call(...args: any[]): any {
    const outer = Tensor._collect;
    if (!isBuiltin(this.constructor)) {
      if (outer === null) return this.forward(...args);
      // User code inside a library module (a custom layer in a Sequential) may keep what it makes.
      Tensor._collect = null;
      try {
        return this.forward(...args);
      } finally {
        Tensor._collect = outer;
      }
    }
    // A library module's intermediates (those it does not return) are reachable only through the
    // tape: marked internal, backward() frees them as soon as the nodes reading them are released.
    if (currentTrace()) return this.forward(...args);
    const made: Tensor[] = [];
    Tensor._collect = made;
    let result: unknown;
    try {
      result = this.forward(...args);
    } finally {
      Tensor._collect = outer;
    }
    const returned = resultTensors(result);
    for (const t of made) if (!returned.has(t) && !isKept(t)) markInternal(t);
    if (outer) for (const t of made) outer.push(t);
    return result;
  }

  /** Registers a non-trainable tensor that belongs to the state (running statistics). */
  registerBuffer(name: string, t: Tensor): void {
    (this as unknown as Record<string, unknown>)[name] = t;
    this[BUFFERS].add(name);
  }

  get training(): boolean {
    return this[TRAINING];
  }

  /** Switches this module and all submodules to training (true) or evaluation (false) mode. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m[TRAINING] = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Direct child modules by field name (arrays of modules are named `field.i`). */
  *namedChildren(): Generator<[string, Module]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) yield [key, value];
      else if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (value[i] instanceof Module) yield [`${key}.${i}`, value[i]];
      }
    }
  }

  /** This module and all descendants, depth first, with dotted names ('' for this one). */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.namedChildren()) yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  /** Own tensor fields: parameters (requiresGrad, not buffers) and buffers. */
  private *ownTensors(): Generator<[string, Tensor, 'parameter' | 'buffer']> {
    for (const [key, value] of Object.entries(this)) {
      if (!(value instanceof Tensor)) continue;
      if (this[BUFFERS].has(key)) yield [key, value, 'buffer'];
      else if (value.requiresGrad || value.isTraced) yield [key, value, 'parameter'];
    }
  }

  *namedParameters(): Generator<[string, Tensor]> {
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, t, kind] of m.ownTensors()) if (kind === 'parameter') yield [prefix ? `${prefix}.${k}` : k, t];
    }
  }
  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
  }
  *namedBuffers(): Generator<[string, Tensor]> {
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, t, kind] of m.ownTensors()) if (kind === 'buffer') yield [prefix ? `${prefix}.${k}` : k, t];
    }
  }

  /** Parameters and buffers by dotted name. */
  stateDict(): StateDict {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copies values into the module's tensors in place; names and shapes must match (strict by default). */
  loadStateDict(state: StateDict, { strict = true }: { strict?: boolean } = {}): void {
    const own = this.stateDict();
    if (strict) {
      const missing = Object.keys(own).filter((k) => !(k in state));
      const unexpected = Object.keys(state).filter((k) => !(k in own));
      if (missing.length || unexpected.length) {
        throw new KilnError(`loadStateDict: ${missing.length ? `missing keys ${missing.join(', ')}` : ''}${missing.length && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected keys ${unexpected.join(', ')}` : ''}`);
      }
    }
    for (const [k, target] of Object.entries(own)) {
      const src = state[k];
      if (!src) continue;
      if (src.dtype !== target.dtype || src.shape.length !== target.shape.length || src.shape.some((d, i) => d !== target.shape[i])) {
        throw new KilnError(`loadStateDict: ${k} is ${target.describe()} in the model but ${src.describe()} in the state dict`);
      }
      target._assign(Tensor._fromHost({ dtype: src.dtype, shape: src.shape, data: src.dataSync() }, target.device));
    }
  }

  /** Replaces tensors by dotted name (used by functionalCall and jit); returns the previous ones. */
  _swapTensors(values: StateDict): StateDict {
    const previous: StateDict = {};
    for (const [name, t] of Object.entries(values)) {
      const dot = name.lastIndexOf('.');
      const owner = dot < 0 ? this : this.getSubmodule(name.slice(0, dot));
      const key = name.slice(dot + 1);
      const rec = owner as unknown as Record<string, unknown>;
      if (!(rec[key] instanceof Tensor)) throw new KilnError(`functionalCall: the model has no tensor named ${name}`);
      previous[name] = rec[key] as Tensor;
      rec[key] = t;
    }
    return previous;
  }

  getSubmodule(path: string): Module {
    for (const [name, m] of this.namedModules()) if (name === path) return m;
    throw new KilnError(`getSubmodule: no submodule named '${path}'`);
  }

  /** Applies fn to every submodule (children first, then this), like PyTorch's apply. */
  apply(fn: (m: Module) => void): this {
    for (const [, child] of this.namedChildren()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Moves every parameter and buffer to a device (in place). */
  to(device: string): this {
    for (const [, m] of this.namedModules()) {
      const rec = m as unknown as Record<string, unknown>;
      for (const [k, t] of m.ownTensors()) {
        if (t.device === device) continue;
        const moved = Tensor._fromHost({ dtype: t.dtype, shape: t.shape, data: t.dataSync() }, device);
        moved.requiresGrad = t.requiresGrad;
        rec[k] = moved;
      }
    }
    return this;
  }

  /** Clears the gradients of all parameters. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
}

/**
 * Runs `model` with some of its tensors replaced (torch.func.functional_call): the way to use a
 * module inside jit or grad with parameters passed as arguments. Returns the output and the
 * buffers as they are after the call (BatchNorm updates its running statistics in training mode).
 */
export function functionalCall<T>(model: Module, state: StateDict, ...args: unknown[]): { output: T; buffers: StateDict } {
  const previous = model._swapTensors(state);
  try {
    const output = model.call(...args) as T;
    return { output, buffers: Object.fromEntries(model.namedBuffers()) };
  } finally {
    model._swapTensors(previous);
  }
}
