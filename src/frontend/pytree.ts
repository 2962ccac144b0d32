// Pytrees: nested arrays/objects of tensors and plain values, split into tensor leaves and a TreeDef
// (the structure plus every non-tensor value), so jit, control flow and grad see flat tensor lists.
import { KilnError } from '../ir/error.js';
import { Tensor } from './tensor.js';

/**
 * The structure of a pytree. Non-tensor values are `static` and belong to the structure: two trees
 * with different static values are different trees (jit keys its cache on them).
 */
export type TreeDef =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'array'; readonly children: readonly TreeDef[] }
  | { readonly kind: 'object'; readonly keys: readonly string[]; readonly children: readonly TreeDef[] }
  | { readonly kind: 'node'; readonly type: PytreeNodeType; readonly aux: unknown; readonly children: readonly TreeDef[] }
  | { readonly kind: 'static'; readonly value: unknown };

/** A user class that flattens into children (nn.Module registers itself this way). */
export interface PytreeNodeType<T = any> {
  readonly name: string;
  /** Children (each itself a pytree) and auxiliary static data (part of the cache key through `auxKey`). */
  flatten(x: T): { children: unknown[]; aux: unknown };
  unflatten(aux: unknown, children: unknown[]): T;
  /** Canonical string for the aux data; defaults to the static-value key of `aux`. */
  auxKey?(aux: unknown): string;
}

const nodeTypes = new Map<Function, PytreeNodeType>();

/** Makes instances of `cls` (exactly, not subclasses unless registered too) flatten into children. */
export function registerPytreeNode<T>(cls: abstract new (...args: any[]) => T, type: PytreeNodeType<T>): void {
  nodeTypes.set(cls, type as PytreeNodeType);
}

function nodeTypeOf(x: object): PytreeNodeType | undefined {
  // Walk the prototype chain so a registered base class (Module) covers user subclasses.
  for (let p = Object.getPrototypeOf(x); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const t = nodeTypes.get(p.constructor);
    if (t) return t;
  }
  return undefined;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

const LEAF: TreeDef = Object.freeze({ kind: 'leaf' });

export function flatten(tree: unknown): { leaves: Tensor[]; treedef: TreeDef } {
  const leaves: Tensor[] = [];
  const seen = new Set<object>();
  const walk = (x: unknown): TreeDef => {
    if (x instanceof Tensor) {
      leaves.push(x);
      return LEAF;
    }
    if (Array.isArray(x) || isPlainObject(x)) {
      if (seen.has(x)) throw new KilnError('pytree: the structure contains a cycle; pass trees (nested arrays/objects) of tensors');
      seen.add(x);
      const def: TreeDef = Array.isArray(x)
        ? { kind: 'array', children: x.map(walk) }
        : { kind: 'object', keys: Object.keys(x), children: Object.keys(x).map((k) => walk(x[k])) };
      seen.delete(x);
      return def;
    }
    if (x !== null && typeof x === 'object') {
      const type = nodeTypeOf(x);
      if (type) {
        const { children, aux } = type.flatten(x);
        return { kind: 'node', type, aux, children: children.map(walk) };
      }
    }
    return { kind: 'static', value: x };
  };
  const treedef = walk(tree);
  return { leaves, treedef };
}

/** Rebuilds a tree of the given structure from `leaves` (in flatten order). */
export function unflatten(treedef: TreeDef, leaves: readonly unknown[]): any {
  let i = 0;
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case 'leaf':
        if (i >= leaves.length) throw new KilnError(`pytree: unflatten needs ${countLeaves(treedef)} leaves, got ${leaves.length}`);
        return leaves[i++];
      case 'array':
        return d.children.map(build);
      case 'object': {
        const out: Record<string, unknown> = {};
        d.keys.forEach((k, j) => (out[k] = build(d.children[j])));
        return out;
      }
      case 'node':
        return d.type.unflatten(d.aux, d.children.map(build));
      case 'static':
        return d.value;
    }
  };
  const out = build(treedef);
  if (i !== leaves.length) throw new KilnError(`pytree: unflatten needs ${countLeaves(treedef)} leaves, got ${leaves.length}`);
  return out;
}

export function countLeaves(d: TreeDef): number {
  switch (d.kind) {
    case 'leaf': return 1;
    case 'static': return 0;
    default: return d.children.reduce((s, c) => s + countLeaves(c), 0);
  }
}

// Objects compared by identity (functions, class instances) get a stable number for the key.
const identities = new WeakMap<object, number>();
let nextIdentity = 0;
function identityOf(x: object): number {
  let n = identities.get(x);
  if (n === undefined) identities.set(x, (n = nextIdentity++));
  return n;
}

/** Canonical key of one static value: distinguishes -0 from 0, keeps NaN equal to NaN, never stringifies objects. */
export function staticKey(x: unknown): string {
  switch (typeof x) {
    case 'number': return Object.is(x, -0) ? 'n-0' : `n${x}`;
    case 'string': return `s${JSON.stringify(x)}`;
    case 'boolean': return x ? 'T' : 'F';
    case 'undefined': return 'u';
    case 'bigint': return `b${x}`;
    case 'symbol': return `y${identityOf(Object(x))}`;
    default: return x === null ? 'null' : `#${identityOf(x as object)}`;
  }
}

/** Canonical string of a TreeDef, for cache keys: equal strings mean equal structure and static values. */
export function treedefKey(d: TreeDef): string {
  switch (d.kind) {
    case 'leaf': return '*';
    case 'static': return staticKey(d.value);
    case 'array': return `[${d.children.map(treedefKey).join(',')}]`;
    case 'object': return `{${d.keys.map((k, i) => `${JSON.stringify(k)}:${treedefKey(d.children[i])}`).join(',')}}`;
    case 'node': {
      const aux = d.type.auxKey ? d.type.auxKey(d.aux) : staticKey(d.aux);
      return `${d.type.name}#${identityOf(d.type)}(${aux};${d.children.map(treedefKey).join(',')})`;
    }
  }
}

/** Readable paths of the leaves in flatten order (`[0].w1`, `.layers[2]`), for error messages. */
export function leafPaths(d: TreeDef, prefix = ''): string[] {
  switch (d.kind) {
    case 'leaf': return [prefix];
    case 'static': return [];
    case 'array': return d.children.flatMap((c, i) => leafPaths(c, `${prefix}[${i}]`));
    case 'object': return d.children.flatMap((c, i) => leafPaths(c, `${prefix}.${d.keys[i]}`));
    case 'node': return d.children.flatMap((c, i) => leafPaths(c, `${prefix}<${i}>`));
  }
}

/** Applies `f` to every tensor leaf, keeping the structure. */
export function treeMap(tree: unknown, f: (t: Tensor, i: number) => unknown): any {
  const { leaves, treedef } = flatten(tree);
  return unflatten(treedef, leaves.map(f));
}
