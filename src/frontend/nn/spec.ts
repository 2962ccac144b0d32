// Declarative networks (Caffe's prototxt, in JSON): layers by type with params, inputs and outputs by
// name, forming a DAG. Module.fromSpec(spec) builds a SpecNet; module.toSpec() gives the spec back
// (for SpecNets and Sequentials of table layers). Errors name the layer and the field.
import { KilnError } from '../../ir/error.js';
import { Tensor } from '../tensor.js';
import { add } from '../ops/elementwise.js';
import { concat, reshape } from '../ops/shape.js';
import { abstractTensor, traceToFunction } from '../tracing.js';
import { defaultDevice } from '../trace.js';
import { Module } from './module.js';
import * as L from './layers.js';
import { withParameterBudget } from './init.js';

export type ParamValue = number | boolean | string | number[];

export interface LayerSpec {
  name: string;
  type: string;
  /** Names of network inputs or earlier layers; default: the previous layer (or the first input). */
  inputs?: string[];
  params?: Record<string, ParamValue>;
}

export interface NetSpec {
  name?: string;
  /** Network inputs with their per-sample shapes (the batch dimension is implicit). */
  inputs: { name: string; shape: number[] }[];
  layers: LayerSpec[];
  /** Layer names whose values the network returns; default: the last layer. */
  outputs?: string[];
}

// ---- parameter kinds and the layer table --------------------------------------------------------

type Kind = 'posInt' | 'nat' | 'int' | 'pair' | 'padding' | 'number' | 'prob' | 'bool' | 'ints' | readonly string[];

interface ParamRule {
  readonly kind: Kind;
  readonly required?: boolean;
}

interface LayerType {
  /** The class the row builds (toSpec finds a layer's row by it). */
  readonly cls: abstract new (...args: any[]) => Module;
  readonly params: Record<string, ParamRule>;
  /** How many inputs the layer takes ('many' = two or more). */
  readonly arity: 1 | 'many';
  readonly build: (p: Record<string, any>) => Module;
  /** Params of an existing layer (for toSpec of a Sequential). */
  readonly read?: (m: any) => Record<string, ParamValue>;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const CHECK: Record<Exclude<Kind, readonly string[]>, [(v: unknown) => boolean, string]> = {
  posInt: [(v) => isInt(v) && v >= 1, 'a positive integer'],
  nat: [(v) => isInt(v) && v >= 0, 'a non-negative integer'],
  int: [(v) => isInt(v), 'an integer'],
  pair: [(v) => (isInt(v) && v >= 1) || (Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x) && x >= 1)), 'a positive integer or [h, w]'],
  padding: [(v) => (isInt(v) && v >= 0) || v === 'same' || v === 'valid' || (Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x) && x >= 0)), "a non-negative integer, [h, w], 'same' or 'valid'"],
  number: [(v) => typeof v === 'number' && Number.isFinite(v), 'a finite number'],
  prob: [(v) => typeof v === 'number' && v >= 0 && v < 1, 'a probability in [0, 1)'],
  bool: [(v) => typeof v === 'boolean', 'true or false'],
  ints: [(v) => Array.isArray(v) && v.every((x) => isInt(x)), 'an array of integers'],
};

const pick = (m: any, ...keys: string[]) => Object.fromEntries(keys.filter((k) => m[k] !== undefined).map((k) => [k, m[k]]));
const opts = (m: any, ...keys: string[]) => pick(m.options ?? {}, ...keys);

class AddLayer extends Module {
  forward(...xs: Tensor[]): Tensor {
    return xs.reduce((a, b) => add(a, b));
  }
}
class ConcatLayer extends Module {
  constructor(readonly axis: number) {
    super();
  }
  forward(...xs: Tensor[]): Tensor {
    return concat(xs, this.axis);
  }
}
class ReshapeLayer extends Module {
  constructor(readonly shape: number[]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], ...this.shape]);
  }
}

const noParams = (cls: new () => Module): LayerType => ({ cls, params: {}, arity: 1, build: () => new cls(), read: () => ({}) });

/** Every layer type a spec may name; one row each (the same names as the classes). */
export const LAYER_TYPES: Record<string, LayerType> = {
  Linear: {
    cls: L.Linear,
    params: { inFeatures: { kind: 'posInt', required: true }, outFeatures: { kind: 'posInt', required: true }, bias: { kind: 'bool' } },
    arity: 1,
    build: (p) => new L.Linear(p.inFeatures, p.outFeatures, { bias: p.bias ?? true }),
    read: (m: L.Linear) => ({ inFeatures: m.inFeatures, outFeatures: m.outFeatures, bias: m.bias !== null }),
  },
  Conv2d: {
    cls: L.Conv2d,
    params: {
      inChannels: { kind: 'posInt', required: true }, outChannels: { kind: 'posInt', required: true }, kernelSize: { kind: 'pair', required: true },
      stride: { kind: 'pair' }, padding: { kind: 'padding' }, dilation: { kind: 'pair' }, groups: { kind: 'posInt' }, bias: { kind: 'bool' },
    },
    arity: 1,
    build: (p) => new L.Conv2d(p.inChannels, p.outChannels, p.kernelSize, pick(p, 'stride', 'padding', 'dilation', 'groups', 'bias')),
    read: (m) => ({ inChannels: m.inChannels, outChannels: m.outChannels, kernelSize: [m.weight.shape[2], m.weight.shape[3]], ...opts(m, 'stride', 'padding', 'dilation', 'groups', 'bias') }),
  },
  MaxPool2d: {
    cls: L.MaxPool2d,
    params: { kernelSize: { kind: 'pair', required: true }, stride: { kind: 'pair' }, padding: { kind: 'pair' } },
    arity: 1,
    build: (p) => new L.MaxPool2d(p.kernelSize, pick(p, 'stride', 'padding')),
    read: (m) => ({ kernelSize: m.kernelSize, ...opts(m, 'stride', 'padding') }),
  },
  AvgPool2d: {
    cls: L.AvgPool2d,
    params: { kernelSize: { kind: 'pair', required: true }, stride: { kind: 'pair' }, padding: { kind: 'pair' } },
    arity: 1,
    build: (p) => new L.AvgPool2d(p.kernelSize, pick(p, 'stride', 'padding')),
    read: (m) => ({ kernelSize: m.kernelSize, ...opts(m, 'stride', 'padding') }),
  },
  AdaptiveAvgPool2d: {
    cls: L.AdaptiveAvgPool2d,
    params: { outputSize: { kind: 'pair', required: true } },
    arity: 1,
    build: (p) => new L.AdaptiveAvgPool2d(p.outputSize),
    read: (m) => ({ outputSize: m.outputSize }),
  },
  BatchNorm1d: {
    cls: L.BatchNorm1d,
    params: { numFeatures: { kind: 'posInt', required: true }, eps: { kind: 'number' }, momentum: { kind: 'number' } },
    arity: 1,
    build: (p) => new L.BatchNorm1d(p.numFeatures, pick(p, 'eps', 'momentum')),
    read: (m) => ({ numFeatures: m.numFeatures, ...opts(m, 'eps', 'momentum') }),
  },
  BatchNorm2d: {
    cls: L.BatchNorm2d,
    params: { numFeatures: { kind: 'posInt', required: true }, eps: { kind: 'number' }, momentum: { kind: 'number' } },
    arity: 1,
    build: (p) => new L.BatchNorm2d(p.numFeatures, pick(p, 'eps', 'momentum')),
    read: (m) => ({ numFeatures: m.numFeatures, ...opts(m, 'eps', 'momentum') }),
  },
  LayerNorm: {
    cls: L.LayerNorm,
    params: { normalizedShape: { kind: 'ints', required: true }, eps: { kind: 'number' } },
    arity: 1,
    build: (p) => new L.LayerNorm(p.normalizedShape, pick(p, 'eps')),
    read: (m) => ({ normalizedShape: [...m.normalizedShape], ...opts(m, 'eps') }),
  },
  Dropout: {
    cls: L.Dropout, params: { p: { kind: 'prob' } }, arity: 1, build: (p) => new L.Dropout(p.p ?? 0.5), read: (m) => ({ p: m.p }) },
  Flatten: {
    cls: L.Flatten, params: { startDim: { kind: 'int' }, endDim: { kind: 'int' } }, arity: 1, build: (p) => new L.Flatten(p.startDim ?? 1, p.endDim ?? -1), read: (m) => ({ startDim: m.startDim, endDim: m.endDim }) },
  ReLU: noParams(L.ReLU),
  Tanh: noParams(L.Tanh),
  Sigmoid: noParams(L.Sigmoid),
  SiLU: noParams(L.SiLU),
  GELU: {
    cls: L.GELU, params: { approximate: { kind: ['none', 'tanh'] } }, arity: 1, build: (p) => new L.GELU(p.approximate ?? 'none'), read: (m) => ({ approximate: m.approximate }) },
  LeakyReLU: {
    cls: L.LeakyReLU, params: { negativeSlope: { kind: 'number' } }, arity: 1, build: (p) => new L.LeakyReLU(p.negativeSlope ?? 0.01), read: (m) => ({ negativeSlope: m.negativeSlope }) },
  Softmax: {
    cls: L.Softmax, params: { axis: { kind: 'int' } }, arity: 1, build: (p) => new L.Softmax(p.axis ?? -1), read: (m) => ({ axis: m.axis }) },
  Reshape: {
    cls: ReshapeLayer, params: { shape: { kind: 'ints', required: true } }, arity: 1, build: (p) => new ReshapeLayer(p.shape), read: (m) => ({ shape: m.shape }) },
  Add: {
    cls: AddLayer, params: {}, arity: 'many', build: () => new AddLayer() },
  Concat: {
    cls: ConcatLayer, params: { axis: { kind: 'int' } }, arity: 'many', build: (p) => new ConcatLayer(p.axis ?? 1) },
};

// ---- validation ---------------------------------------------------------------------------------

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function specError(where: string, msg: string): never {
  throw new KilnError(`net spec: ${where}: ${msg}`);
}

function checkParams(where: string, type: LayerType, params: unknown): Record<string, ParamValue> {
  if (params === undefined) params = {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) specError(where, 'params must be an object');
  const p = params as Record<string, unknown>;
  for (const k of Object.keys(p)) {
    if (!Object.hasOwn(type.params, k)) specError(where, `unknown field ${JSON.stringify(k)} (fields: ${Object.keys(type.params).join(', ') || 'none'})`);
  }
  for (const [k, rule] of Object.entries(type.params)) {
    const v = p[k];
    if (v === undefined) {
      if (rule.required) specError(where, `field ${k} is required`);
      continue;
    }
    if (Array.isArray(rule.kind)) {
      if (!rule.kind.includes(v as string)) specError(where, `field ${k} must be one of ${rule.kind.map((s) => JSON.stringify(s)).join(', ')}, got ${JSON.stringify(v)}`);
    } else {
      const [ok, what] = CHECK[rule.kind as Exclude<Kind, readonly string[]>];
      if (!ok(v)) specError(where, `field ${k} must be ${what}, got ${JSON.stringify(v)}`);
    }
  }
  return p as Record<string, ParamValue>;
}

interface Node {
  readonly name: string;
  readonly type: string;
  readonly inputs: string[];
  readonly params: Record<string, ParamValue>;
}

/** Checks the spec's structure (names, types, params, that inputs exist earlier) and normalizes it. */
export function checkNetSpec(spec: unknown): { spec: NetSpec; nodes: Node[] } {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) specError('the spec', 'must be an object {inputs, layers, outputs?}');
  const s = spec as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!['name', 'inputs', 'layers', 'outputs'].includes(k)) specError('the spec', `unknown field ${JSON.stringify(k)}`);
  if (s.name !== undefined && (typeof s.name !== 'string' || !NAME.test(s.name))) specError('name', 'must be an identifier');
  if (!Array.isArray(s.inputs) || s.inputs.length === 0) specError('inputs', 'must list at least one input {name, shape}');
  const defined = new Set<string>();
  const inputs = s.inputs.map((inp, i) => {
    const where = `input ${i}`;
    if (typeof inp !== 'object' || inp === null) specError(where, 'must be {name, shape}');
    const { name, shape, ...rest } = inp as Record<string, unknown>;
    if (Object.keys(rest).length) specError(where, `unknown field ${JSON.stringify(Object.keys(rest)[0])}`);
    if (typeof name !== 'string' || !NAME.test(name)) specError(where, `name must be an identifier, got ${JSON.stringify(name)}`);
    if (defined.has(name)) specError(`input "${name}"`, 'the name is used twice');
    if (!Array.isArray(shape) || !shape.every((d) => isInt(d) && d >= 1)) specError(`input "${name}"`, `shape must be positive integers (per sample, without the batch), got ${JSON.stringify(shape)}`);
    defined.add(name);
    return { name, shape: [...shape] as number[] };
  });
  if (!Array.isArray(s.layers) || s.layers.length === 0) specError('layers', 'must list at least one layer');
  let previous = inputs[0].name;
  const nodes: Node[] = s.layers.map((layer, i) => {
    if (typeof layer !== 'object' || layer === null) specError(`layer ${i}`, 'must be {name, type, inputs?, params?}');
    const l = layer as Record<string, unknown>;
    const name = l.name;
    if (typeof name !== 'string' || !NAME.test(name)) specError(`layer ${i}`, `name must be an identifier, got ${JSON.stringify(name)}`);
    const where = `layer "${name}"`;
    for (const k of Object.keys(l)) if (!['name', 'type', 'inputs', 'params'].includes(k)) specError(where, `unknown field ${JSON.stringify(k)}`);
    if (defined.has(name)) specError(where, 'the name is used twice');
    if (typeof l.type !== 'string' || !Object.hasOwn(LAYER_TYPES, l.type)) specError(where, `type ${JSON.stringify(l.type)} is not a layer type (${Object.keys(LAYER_TYPES).join(', ')})`);
    const type = LAYER_TYPES[l.type];
    const w = `${where} (${l.type})`;
    const ins = l.inputs === undefined ? [previous] : l.inputs;
    if (!Array.isArray(ins) || !ins.every((x) => typeof x === 'string')) specError(w, 'inputs must be an array of names');
    for (const x of ins as string[]) if (!defined.has(x)) specError(w, `input "${x}" is not a network input or an earlier layer (layers run in the order listed)`);
    if (type.arity === 1 && ins.length !== 1) specError(w, `takes one input, got ${ins.length}`);
    if (type.arity === 'many' && ins.length < 2) specError(w, `takes two or more inputs, got ${ins.length}`);
    const params = checkParams(w, type, l.params);
    defined.add(name);
    previous = name;
    return { name, type: l.type, inputs: [...(ins as string[])], params };
  });
  const outputs = s.outputs === undefined ? [previous] : s.outputs;
  if (!Array.isArray(outputs) || outputs.length === 0 || !outputs.every((o) => typeof o === 'string' && defined.has(o))) {
    specError('outputs', `must name network inputs or layers, got ${JSON.stringify(s.outputs)}`);
  }
  const norm: NetSpec = {
    ...(typeof s.name === 'string' ? { name: s.name } : {}),
    inputs,
    layers: nodes.map((n) => ({ name: n.name, type: n.type, inputs: n.inputs, ...(Object.keys(n.params).length ? { params: n.params } : {}) })),
    outputs: outputs as string[],
  };
  return { spec: norm, nodes };
}

// ---- the network --------------------------------------------------------------------------------

/** A Module built from a NetSpec: each layer is a field named after it (state dict keys `conv1.weight`). */
export class SpecNet extends Module {
  private readonly spec: NetSpec;
  private readonly nodes: Node[];

  /**
   * `maxParameters`: parameter and buffer elements the layers may create in all (default 2^28, 1 GiB
   * of float32), a bound on what an untrusted spec can make us allocate.
   */
  constructor(spec: NetSpec, { checkShapes = true, maxParameters = 2 ** 28 }: { checkShapes?: boolean; maxParameters?: number } = {}) {
    super();
    const checked = checkNetSpec(spec);
    this.spec = checked.spec;
    this.nodes = checked.nodes;
    const self = this as unknown as Record<string, unknown>;
    // A spec may come from an untrusted file: its layers share a parameter budget, checked before each
    // weight is allocated (so "inFeatures: 1e9" is an error, not an out-of-memory crash).
    withParameterBudget(maxParameters, 'SpecNet', () => {
      for (const n of this.nodes) {
        if (n.name in this) specError(`layer "${n.name}"`, 'the name clashes with a Module property; rename the layer');
        try {
          self[n.name] = LAYER_TYPES[n.type].build(n.params);
        } catch (e) {
          if (e instanceof KilnError) specError(`layer "${n.name}" (${n.type})`, e.message);
          throw e;
        }
      }
    });
    if (checkShapes) this.checkShapes();
  }

  /** Traces one sample through the network (no arithmetic), so shape mismatches surface now, by layer. */
  private checkShapes(): void {
    const device = defaultDevice();
    const args = this.spec.inputs.map((i) => abstractTensor({ dtype: 'float32', shape: [1, ...i.shape] }, device));
    const training = this.training;
    this.eval();
    try {
      traceToFunction((...xs: Tensor[]) => this.forward(...xs), args, { name: this.spec.name ?? 'net' });
    } finally {
      this.train(training);
    }
  }

  forward(...xs: Tensor[]): Tensor | Tensor[] {
    const { inputs, outputs } = this.spec;
    if (xs.length !== inputs.length) throw new KilnError(`${this.spec.name ?? 'SpecNet'}: takes ${inputs.length} input(s) (${inputs.map((i) => i.name).join(', ')}), got ${xs.length}`);
    const env = new Map<string, Tensor>(inputs.map((inp, i) => [inp.name, xs[i]]));
    const self = this as unknown as Record<string, Module>;
    for (const n of this.nodes) {
      const args = n.inputs.map((k) => env.get(k)!);
      try {
        env.set(n.name, self[n.name].call(...args) as Tensor);
      } catch (e) {
        if (e instanceof KilnError) throw new KilnError(`layer "${n.name}" (${n.type}) on ${args.map((a) => a.describe()).join(', ')}: ${e.message}`);
        throw e;
      }
    }
    const outs = outputs!.map((o) => env.get(o)!);
    return outs.length === 1 ? outs[0] : outs;
  }

  override toSpec(): NetSpec {
    return structuredClone(this.spec);
  }
}

/** The spec of a SpecNet, or of a Sequential whose layers are all in the table (input shape needed). */
export function moduleToSpec(m: Module, inputShape?: number[]): NetSpec {
  if (m instanceof SpecNet) return m.toSpec();
  if (m instanceof L.Sequential) {
    if (!inputShape) throw new KilnError('toSpec: a Sequential needs its per-sample input shape: model.toSpec({inputShape: [...]})');
    const layers = m.layers.map((layer, i): LayerSpec => {
      const type = Object.entries(LAYER_TYPES).find(([, t]) => t.read && layer.constructor === t.cls);
      if (!type) throw new KilnError(`toSpec: layer ${i} (${layer.constructor.name}) has no declarative form`);
      const params = type[1].read!(layer);
      return { name: `${type[0].toLowerCase()}${i}`, type: type[0], ...(Object.keys(params).length ? { params } : {}) };
    });
    return checkNetSpec({ inputs: [{ name: 'input', shape: inputShape }], layers }).spec;
  }
  throw new KilnError(`toSpec: ${m.constructor.name} was not built from a spec (only SpecNet and Sequentials of standard layers convert)`);
}

declare module './module.js' {
  interface Module {
    /** The declarative form of this network (SpecNet, or a Sequential given its input shape). */
    toSpec(options?: { inputShape?: number[] }): NetSpec;
  }
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Module {
    /** Builds a network from a JSON spec; errors name the layer and field. */
    function fromSpec(spec: NetSpec | unknown, options?: { checkShapes?: boolean }): SpecNet;
  }
}

// Attached here (not in module.ts) so the nn core does not depend on the layer table.
(Module as unknown as { fromSpec: (spec: unknown, o?: { checkShapes?: boolean }) => SpecNet }).fromSpec = (spec, o) => new SpecNet(spec as NetSpec, o);
Module.prototype.toSpec = function (this: Module, options?: { inputShape?: number[] }) {
  return moduleToSpec(this, options?.inputShape);
};
