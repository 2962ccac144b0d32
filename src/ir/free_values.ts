// What a block captures from the blocks around it, and what an op reads at its own level. Plain IR
// facts, shared by the passes and by executors that must free buffers at last use (the WebGPU plan,
// which kiln/runtime runs without the passes).
import type { Block, Op, Value } from './function.js';

/** Every value `block` reads that it does not define itself (what a region captures from outside). */
export function freeValues(block: Block): Set<Value> {
  const defined = new Set<Value>(block.params);
  const free = new Set<Value>();
  const read = (v: Value) => {
    if (!defined.has(v)) free.add(v);
  };
  for (const op of block.ops) {
    op.operands.forEach(read);
    for (const r of op.regions) freeValues(r).forEach(read);
    op.results.forEach((v) => defined.add(v));
  }
  block.results.forEach(read);
  return free;
}

/** The values an op reads at its own level: its operands plus what its regions capture. */
export function opReads(op: Op): Value[] {
  if (op.regions.length === 0) return [...op.operands];
  const out = new Set<Value>(op.operands);
  for (const r of op.regions) freeValues(r).forEach((v) => out.add(v));
  return [...out];
}
