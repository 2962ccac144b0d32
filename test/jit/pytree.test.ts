import { describe, expect, it } from 'vitest';
import { flatten, unflatten, treedefKey, leafPaths, registerPytreeNode, countLeaves } from '../../src/frontend/pytree.js';
import { hostArray } from '../../src/ir/array.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { registerDevice } from '../../src/codegen/device.js';

// A device that only stores host arrays: enough for structure tests, no ops.
registerDevice('pytree-host', () => ({
  name: 'pytree-host',
  upload: (a) => a,
  read: async (b) => b as any,
  readSync: (b) => b as any,
  execute: () => { throw new Error('no ops'); },
  compile: () => { throw new Error('no compile'); },
  dispose() {},
}));
const t = (...shape: number[]) => Tensor._fromHost(hostArray('float32', shape, [1.5]), 'pytree-host');

describe('pytree', () => {
  it('round-trips nested arrays and objects, keeping key order and static values', () => {
    const a = t(2), b = t(3), c = t();
    const tree = { z: [a, 1, 'relu'], a: { w: b, training: true, none: null, u: undefined }, c };
    const { leaves, treedef } = flatten(tree);
    expect(leaves).toEqual([a, b, c]);
    expect(countLeaves(treedef)).toBe(3);
    const back = unflatten(treedef, leaves);
    expect(Object.keys(back)).toEqual(['z', 'a', 'c']);
    expect(back.z).toEqual([a, 1, 'relu']);
    expect(back.a).toEqual({ w: b, training: true, none: null, u: undefined });
    expect(leafPaths(treedef)).toEqual(['.z[0]', '.a.w', '.c']);
  });

  it('builds canonical keys: static values matter, -0 and 0 differ, NaN equals NaN', () => {
    const k = (x: unknown) => treedefKey(flatten(x).treedef);
    expect(k([t(2), 1])).toBe(k([t(5), 1]));
    expect(k([t(2), 1])).not.toBe(k([t(2), 2]));
    expect(k(0)).not.toBe(k(-0));
    expect(k(NaN)).toBe(k(NaN));
    expect(k({ a: 1, b: 2 })).not.toBe(k({ b: 2, a: 1 }));
    expect(k('1')).not.toBe(k(1));
    expect(k([1, [2]])).not.toBe(k([[1], 2]));
    const f = () => 0;
    expect(k(f)).toBe(k(f));
    expect(k(f)).not.toBe(k(() => 0));
  });

  it('flattens registered classes through their node type', () => {
    class Pair { constructor(public x: Tensor, public y: Tensor, public tag: string) {} }
    class SubPair extends Pair {}
    registerPytreeNode(Pair, {
      name: 'Pair',
      flatten: (p) => ({ children: [p.x, p.y], aux: p.tag }),
      unflatten: (aux, [x, y]) => new Pair(x as Tensor, y as Tensor, aux as string),
    });
    const p = new SubPair(t(1), t(2), 'hi');
    const { leaves, treedef } = flatten([p]);
    expect(leaves.length).toBe(2);
    const back = unflatten(treedef, leaves)[0];
    expect(back).toBeInstanceOf(Pair);
    expect(back.tag).toBe('hi');
  });

  it('rejects a wrong number of leaves and cycles', () => {
    const { treedef } = flatten([t(1), t(1)]);
    expect(() => unflatten(treedef, [t(1)])).toThrow(/needs 2 leaves/);
    const cyc: any[] = [];
    cyc.push(cyc);
    expect(() => flatten(cyc)).toThrow(/cycle/);
  });
});
