// Where layers with randomness (Dropout) get keys: from a scoped key (withRng, required under jit,
// where a key must be an input of the trace) or else from the global seed stream (eager only).
import { KilnError } from '../../ir/error.js';
import type { Tensor } from '../tensor.js';
import { splitKey, nextKey } from '../random.js';

let scoped: Tensor | null = null;

/** Runs fn with `key` as the source of layer randomness; each draw splits it, so calls differ. */
export function withRng<T>(key: Tensor, fn: () => T): T {
  const prev = scoped;
  scoped = key;
  try {
    return fn();
  } finally {
    scoped = prev;
  }
}

export function nextDropoutKey(op: string, like: Tensor): Tensor {
  if (scoped) {
    const [next, use] = splitKey(scoped, 2);
    scoped = next;
    return use;
  }
  if (like.isTraced) throw new KilnError(`${op}: under jit, randomness needs a key that is an input of the function: wrap the call in nn.withRng(key, () => model.call(x))`);
  return nextKey();
}
