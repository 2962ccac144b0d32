// jit's cache key: the canonical signature of one call (tree structure, static values, and each tensor
// leaf's dtype, shape and device), and explainMiss's comparison of two signatures in words.
import { SHORT_NAME } from '../../ir/dtype.js';
import { Tensor } from '../tensor.js';
import { TreeDef, flatten, staticKey, treedefKey } from '../pytree.js';

export interface LeafType {
  readonly dtype: Tensor['dtype'];
  readonly shape: readonly number[];
  readonly device: string;
}

export interface Signature {
  readonly key: string;
  /** Structure of `[this, ...args]` with static-marked arguments replaced by undefined. */
  readonly treedef: TreeDef;
  readonly leaves: readonly LeafType[];
  /** Key of each static-marked argument by position (tensors in them are keyed by value). */
  readonly statics: ReadonlyMap<number, string>;
}

const leafKey = (t: LeafType) => `${SHORT_NAME[t.dtype]}[${t.shape.join(',')}]@${t.device}`;

/** A static-marked argument's key: its structure plus the values of any tensors in it. */
function staticArgKey(x: unknown): string {
  const { leaves, treedef } = flatten(x);
  const values = leaves.map((t) => `${leafKey(t)}=${Array.from(t.dataSync(), (v) => staticKey(v)).join(',')}`);
  return `${treedefKey(treedef)}${values.length ? `<${values.join(';')}>` : ''}`;
}

/** Flattens one call; `leaves` are the dynamic tensor inputs in order. */
export function signatureOf(thisArg: unknown, args: readonly unknown[], staticArgs: ReadonlySet<number>): { sig: Signature; leaves: Tensor[] } {
  const dynamic = args.map((a, i) => (staticArgs.has(i) ? undefined : a));
  const { leaves, treedef } = flatten([thisArg, ...dynamic]);
  const statics = new Map<number, string>();
  for (const i of staticArgs) if (i < args.length) statics.set(i, staticArgKey(args[i]));
  const types = leaves.map((t) => ({ dtype: t.dtype, shape: t.shape, device: t.device }));
  const key = `${treedefKey(treedef)}|${types.map(leafKey).join(';')}|${[...statics].map(([i, k]) => `${i}:${k}`).join(';')}`;
  return { sig: { key, treedef, leaves: types, statics }, leaves };
}

// ---- explaining a miss ---------------------------------------------------------------------------------

function show(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'function') return `function ${x.name || '(anonymous)'}`;
  if (x !== null && typeof x === 'object') return `${x.constructor?.name ?? 'object'} instance`;
  return Object.is(x, -0) ? '-0' : String(x);
}

function kindName(d: TreeDef): string {
  switch (d.kind) {
    case 'leaf': return 'a tensor';
    case 'static': return `the value ${show(d.value)}`;
    case 'array': return `an array of ${d.children.length}`;
    case 'object': return `an object {${d.keys.join(', ')}}`;
    case 'node': return `a ${d.type.name}`;
  }
}

function leafDiff(a: LeafType, b: LeafType): string[] {
  const out: string[] = [];
  if (a.dtype !== b.dtype) out.push(`dtype changed from ${a.dtype} to ${b.dtype}`);
  if (a.shape.length !== b.shape.length) out.push(`rank changed from ${a.shape.length} ([${a.shape.join(',')}]) to ${b.shape.length} ([${b.shape.join(',')}])`);
  else a.shape.forEach((d, i) => d !== b.shape[i] && out.push(`dimension ${i} changed from ${d} to ${b.shape[i]}`));
  if (a.device !== b.device) out.push(`device changed from ${a.device} to ${b.device}`);
  return out;
}

/** Differences between a cached signature `a` and a new one `b`, each naming the argument and the part. */
export function diffSignatures(a: Signature, b: Signature, names: readonly string[]): string[] {
  const out: string[] = [];
  const argLabel = (i: number) => (i === 0 ? 'this' : `argument ${i - 1}${names[i - 1] ? ` (${names[i - 1]})` : ''}`);
  let ia = 0;
  let ib = 0;
  const walk = (x: TreeDef, y: TreeDef, path: string): void => {
    const count = (d: TreeDef): number => (d.kind === 'leaf' ? 1 : d.kind === 'static' ? 0 : d.children.reduce((s, c) => s + count(c), 0));
    const same = treedefKey(x) === treedefKey(y);
    if (x.kind === 'leaf' && y.kind === 'leaf') {
      for (const d of leafDiff(a.leaves[ia], b.leaves[ib])) out.push(`${path}: ${d}`);
      ia++, ib++;
      return;
    }
    if (x.kind === y.kind && 'children' in x && 'children' in y && !(x.kind === 'node' && y.kind === 'node' && x.type !== y.type)) {
      const cx = x.children, cy = y.children;
      const keysX = x.kind === 'object' ? x.keys : null;
      const keysY = y.kind === 'object' ? y.keys : null;
      const keysDiffer = keysX && keysY && keysX.join('\0') !== keysY.join('\0');
      if (cx.length === cy.length && !keysDiffer) {
        cx.forEach((c, i) => walk(c, cy[i], keysX ? `${path}.${keysX[i]}` : `${path}[${i}]`));
        if (x.kind === 'node' && y.kind === 'node') {
          const aux = (d: typeof x) => (d.type.auxKey ? d.type.auxKey(d.aux) : staticKey(d.aux));
          if (aux(x) !== aux(y)) out.push(`${path}: ${x.type.name} static data changed`);
        }
        return;
      }
    }
    if (!same) {
      out.push(x.kind === 'static' && y.kind === 'static'
        ? `${path}: static value changed from ${show(x.value)} to ${show(y.value)}`
        : `${path}: structure changed from ${kindName(x)} to ${kindName(y)}`);
    }
    ia += count(x);
    ib += count(y);
  };
  const ta = a.treedef, tb = b.treedef;
  if (ta.kind === 'array' && tb.kind === 'array') {
    if (ta.children.length !== tb.children.length) out.push(`number of arguments changed from ${ta.children.length - 1} to ${tb.children.length - 1}`);
    else ta.children.forEach((c, i) => walk(c, tb.children[i], argLabel(i)));
  }
  for (const [i, k] of b.statics) if (a.statics.get(i) !== k) out.push(`${argLabel(i + 1)} [static]: value changed`);
  return out;
}
