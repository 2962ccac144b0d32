// Names for an artifact's signature: inputs from the function's parameter names, outputs from the
// returned pytree's paths, weights from a state dict (matched by tensor identity).
import type { TreeDef } from '../pytree.js';
import type { Tensor } from '../tensor.js';

/** Leaf names of a pytree rooted at `root` (`x`, `x.0`, `x.mean`), in flatten order. */
export function leafNames(def: TreeDef, root: string): string[] {
  const out: string[] = [];
  const walk = (d: TreeDef, path: string) => {
    switch (d.kind) {
      case 'leaf':
        out.push(path);
        break;
      case 'array':
      case 'node':
        d.children.forEach((c, i) => walk(c, `${path}.${i}`));
        break;
      case 'object':
        d.children.forEach((c, i) => walk(c, `${path}.${d.keys[i]}`));
        break;
      case 'static':
        break;
    }
  };
  walk(def, root);
  return out;
}

/** Makes names unique by suffixing `_2`, `_3`, ... (a weight shared under two paths keeps its first). */
export function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    let name = n || 'tensor';
    for (let k = 2; seen.has(name); k++) name = `${n}_${k}`;
    seen.add(name);
    return name;
  });
}

/** Names of captured tensors: the state dict's key for the same tensor object, else `const.i`. */
export function weightNames(captured: readonly Tensor[], named: readonly Record<string, Tensor>[]): string[] {
  const byTensor = new Map<Tensor, string>();
  for (const dict of named) for (const [k, t] of Object.entries(dict)) if (!byTensor.has(t)) byTensor.set(t, k);
  let anon = 0;
  return uniqueNames(captured.map((t) => byTensor.get(t) ?? `const.${anon++}`));
}
