// Module: parameter/buffer discovery by field, names of nested modules, train/eval, stateDict round
// trips and their errors, functionalCall (swap in, restore), apply and zeroGrad.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/ir/error.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { tensor } from '../../src/frontend/convert.js';
import { manualSeed } from '../../src/frontend/random.js';
import { Module, parameter, functionalCall } from '../../src/frontend/nn/module.js';
import { Linear, BatchNorm1d, Dropout, Sequential, ModuleList, ReLU } from '../../src/frontend/nn/layers.js';
import { rand, values } from './helpers.js';

class Net extends Module {
  fc1 = new Linear(3, 4);
  bn = new BatchNorm1d(4);
  blocks = [new Linear(4, 4), new ReLU()];
  head = new Sequential(new Linear(4, 2), new Dropout(0.5));
  scale = parameter(tensor([1.5]));
  notATensor = 3;
  forward(x: Tensor): Tensor {
    let y = this.bn.call(this.fc1.call(x)) as Tensor;
    for (const b of this.blocks) y = b.call(y) as Tensor;
    return (this.head.call(y) as Tensor).mul(this.scale);
  }
}

function net(seed: number): Net {
  manualSeed(seed);
  return new Net();
}

describe('Module', () => {
  it('discovers parameters, buffers and submodules from fields, with dotted names', () => {
    const m = net(1);
    expect([...m.namedParameters()].map(([n]) => n)).toEqual([
      'scale', 'fc1.weight', 'fc1.bias', 'bn.weight', 'bn.bias', 'blocks.0.weight', 'blocks.0.bias', 'head.layers.0.weight', 'head.layers.0.bias',
    ]);
    expect([...m.namedBuffers()].map(([n]) => n)).toEqual(['bn.runningMean', 'bn.runningVar']);
    expect(Object.keys(m.stateDict())).toHaveLength(11);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect([...m.namedModules()].map(([n]) => n)).toEqual(['', 'fc1', 'bn', 'blocks.0', 'blocks.1', 'head', 'head.layers.0', 'head.layers.1']);
    expect(m.getSubmodule('head.layers.0')).toBeInstanceOf(Linear);
    expect(() => m.getSubmodule('nope')).toThrow(/no submodule named 'nope'/);
    const list = new ModuleList([new Linear(2, 2)]);
    list.push(new Linear(2, 3));
    expect(list.length).toBe(2);
    expect([...list.namedParameters()].map(([n]) => n)).toEqual(['items.0.weight', 'items.0.bias', 'items.1.weight', 'items.1.bias']);
    expect(() => list.forward()).toThrow(KilnError);
  });

  it('parameter() accepts only float tensors', () => {
    expect(() => parameter(tensor([1, 2], { dtype: 'int32' }))).toThrow(/parameters must be float tensors, got i32\[2\]/);
  });

  it('train() and eval() switch every submodule', () => {
    const m = net(2);
    expect(m.training && m.bn.training).toBe(true);
    m.eval();
    expect([...m.namedModules()].every(([, s]) => !s.training)).toBe(true);
    m.train();
    expect([...m.namedModules()].every(([, s]) => s.training)).toBe(true);
    m.train(false);
    expect(m.head.layers[1].training).toBe(false);
  });

  it('stateDict round-trips: a second model loading it computes the same outputs', () => {
    const a = net(3);
    a.call(rand([5, 3], 30).t); // moves the running statistics off their initial values
    const b = net(4);
    const x = rand([5, 3], 31).t;
    a.eval();
    b.eval();
    expect(values(a.call(x))).not.toEqual(values(b.call(x)));
    const state = a.stateDict();
    b.loadStateDict(state);
    expect(values(b.call(x))).toEqual(values(a.call(x)));
    // Values were copied: the source tensors stay usable and distinct from the targets.
    expect(state['fc1.weight'].isDisposed).toBe(false);
    expect(b.fc1.weight).not.toBe(a.fc1.weight);
    expect(values(b.bn.runningMean)).toEqual(values(a.bn.runningMean));
    // Loaded tensors are still parameters (requiresGrad) in the target.
    expect(b.fc1.weight.requiresGrad).toBe(true);
  });

  it('loadStateDict names missing and unexpected keys and shape or dtype mismatches', () => {
    const a = net(5);
    const state = a.stateDict();
    const { ['fc1.bias']: _dropped, ...missing } = state;
    expect(() => a.loadStateDict(missing)).toThrow(/loadStateDict: missing keys fc1.bias/);
    expect(() => a.loadStateDict({ ...state, extra: tensor([1]) })).toThrow(/unexpected keys extra/);
    expect(() => a.loadStateDict({ ...missing, extra: tensor([1]) })).toThrow(/missing keys fc1.bias; unexpected keys extra/);
    expect(() => a.loadStateDict({ ...state, 'fc1.weight': rand([3, 4], 1).t })).toThrow(/fc1.weight is f32\[4,3\] in the model but f32\[3,4\] in the state dict/);
    expect(() => a.loadStateDict({ ...state, scale: tensor([1], { dtype: 'float64' }) })).toThrow(/scale is f32\[1\] in the model but f64\[1\]/);
    // Non-strict loading skips missing keys and ignores unexpected ones.
    const before = values(a.fc1.bias!);
    const w = rand([4, 3], 6).t;
    a.loadStateDict({ 'fc1.weight': w, unknown: tensor([1]) }, { strict: false });
    expect(values(a.fc1.weight)).toEqual(values(w));
    expect(values(a.fc1.bias!)).toEqual(before);
    // Shapes are still checked when not strict.
    expect(() => a.loadStateDict({ 'fc1.bias': tensor([1, 2]) }, { strict: false })).toThrow(/fc1.bias is f32\[4\]/);
  });

  it('functionalCall runs with swapped tensors, restores the module and returns the buffers after the call', () => {
    const m = net(7);
    m.eval();
    const x = rand([2, 3], 70).t;
    const own = m.fc1.weight;
    const w = rand([4, 3], 71).t;
    const { output } = functionalCall<Tensor>(m, { 'fc1.weight': w }, x);
    expect(m.fc1.weight).toBe(own);
    m.fc1.weight = w;
    expect(values(m.call(x))).toEqual(values(output));
    m.fc1.weight = own;
    m.train();
    const rm = m.bn.runningMean;
    const { buffers } = functionalCall<Tensor>(m, { 'bn.runningMean': rm }, rand([6, 3], 72).t);
    expect(m.bn.runningMean).toBe(rm); // restored
    expect(values(buffers['bn.runningMean'])).not.toEqual(values(rm)); // updated in the call
    expect(() => functionalCall(m, { 'fc1.nothing': w }, x)).toThrow(/the model has no tensor named fc1.nothing/);
  });

  it('apply visits children before parents; zeroGrad clears every gradient', () => {
    const m = net(8);
    const seen: string[] = [];
    m.apply((s) => seen.push(s.constructor.name));
    expect(seen).toEqual(['Linear', 'BatchNorm1d', 'Linear', seen[3], 'Linear', 'Dropout', 'Sequential', 'Net']);
    m.call(rand([4, 3], 80).t).sum().backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('to() on the current device keeps the tensors', () => {
    const m = net(9);
    const w = m.fc1.weight;
    expect(m.to(w.device)).toBe(m);
    expect(m.fc1.weight).toBe(w);
  });
});
