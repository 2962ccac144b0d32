// Contractions of the public API: matmul (NumPy semantics), dot, tensordot, inner, outer and einsum.
// All lower to one dot_general (batch dims in XLA order) plus reshape/broadcast/transpose/reduce_sum.
import { promoteTypes } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { normalizeAxis, shapeEqual } from '../../ir/shape.js';
import { Tensor } from '../tensor.js';
import { bind1 } from '../trace.js';
import { TensorLike, asTensor, deviceOf } from '../convert.js';
import { astype, eq, mul, where } from './elementwise.js';
import { broadcastIn, full, iota, permute, reshapeTo, sumAxes } from './nn_internal.js';

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);

/** Converts and promotes the operands of a contraction; bool has no ring to contract over. */
function contractionOperands(op: string, operands: TensorLike[], sep = ', '): Tensor[] {
  const ts = operands.map((x) => asTensor(op, x, undefined, deviceOf(...operands)));
  const describe = () => ts.map((t) => t.describe()).join(sep);
  const dtype = ts.map((t) => t.dtype).reduce(promoteTypes);
  if (dtype === 'bool') fail(op, `${describe()}: expects numeric operands, got bool`);
  const device = ts[0].device;
  if (ts.some((t) => t.device !== device)) fail(op, `${describe()}: operands are on different devices (${ts.map((t) => t.device).join(', ')})`);
  return ts.map((t) => astype(t, dtype));
}

function dotGeneral(a: Tensor, b: Tensor, contract: [number[], number[]], batch: [number[], number[]] = [[], []]): Tensor {
  return bind1('dot_general', [a, b], { contract, batch });
}

/** Broadcast batch shapes, or a message saying why they do not broadcast. */
function broadcastBatch(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * Matrix product with NumPy's rules: 1-d operands are promoted to a row (left) or a column (right)
 * and the promoted dimension is removed again; leading (batch) dimensions broadcast.
 */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = contractionOperands('matmul', [a, b], ' @ ');
  const desc = `${x.describe()} @ ${y.describe()}`;
  if (x.ndim === 0 || y.ndim === 0) fail('matmul', `${desc}: operands need at least one dimension (use mul for scalars)`);
  const k = x.shape[x.ndim - 1];
  const k2 = y.shape[y.ndim === 1 ? 0 : y.ndim - 2];
  if (k !== k2) fail('matmul', `${desc}: inner dimensions ${k} and ${k2} differ`);
  // Vector and plain-matrix cases contract directly: no broadcast copy of a weight matrix.
  if (y.ndim === 1) return dotGeneral(x, y, [[x.ndim - 1], [0]]); // [...batch, n]
  if (x.ndim === 1) return dotGeneral(x, y, [[0], [y.ndim - 2]]); // [...batch, m]
  if (y.ndim === 2) return dotGeneral(x, y, [[x.ndim - 1], [0]]); // [...batch, n, m]
  if (x.ndim === 2) {
    // [n,k] @ [...batch,k,m]: contracting y first yields [...batch, m, n]; swap the last two.
    const r = dotGeneral(y, x, [[y.ndim - 2], [1]]);
    return permute(r, [...range(y.ndim - 2), y.ndim - 1, y.ndim - 2]);
  }
  const bx = x.shape.slice(0, -2);
  const by = y.shape.slice(0, -2);
  const batch = broadcastBatch(bx, by);
  if (!batch) fail('matmul', `${desc}: batch dimensions [${bx.join(',')}] and [${by.join(',')}] cannot be broadcast together`);
  const nb = batch.length;
  const expand = (t: Tensor) => {
    const target = [...batch, ...t.shape.slice(-2)];
    return shapeEqual(t.shape, target) ? t : broadcastIn(t, target, range(t.ndim, nb + 2 - t.ndim));
  };
  return dotGeneral(expand(x), expand(y), [[nb + 1], [nb]], [range(nb), range(nb)]);
}

/**
 * NumPy's dot: scalars multiply; otherwise the last axis of `a` contracts with the only axis of a
 * 1-d `b` or the second-to-last axis of `b` (no batch broadcasting: result a[:-1] ++ b[:-2] ++ b[-1:]).
 */
export function dot(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = contractionOperands('dot', [a, b]);
  if (x.ndim === 0 || y.ndim === 0) return mul(x, y);
  const ay = y.ndim === 1 ? 0 : y.ndim - 2;
  const k = x.shape[x.ndim - 1];
  if (k !== y.shape[ay]) fail('dot', `${x.describe()}, ${y.describe()}: contracted dimensions ${k} and ${y.shape[ay]} differ`);
  return dotGeneral(x, y, [[x.ndim - 1], [ay]]);
}

/** Inner product over the last axes of both operands (NumPy's inner). */
export function inner(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = contractionOperands('inner', [a, b]);
  if (x.ndim === 0 || y.ndim === 0) return mul(x, y);
  const [k, k2] = [x.shape[x.ndim - 1], y.shape[y.ndim - 1]];
  if (k !== k2) fail('inner', `${x.describe()}, ${y.describe()}: last dimensions ${k} and ${k2} differ`);
  return dotGeneral(x, y, [[x.ndim - 1], [y.ndim - 1]]);
}

/**
 * tensordot(a, b, {axes}): `axes` = n contracts the last n axes of a with the first n of b (default 2);
 * `[axesA, axesB]` lists them explicitly. Result: a's free axes then b's.
 */
export function tensordot(a: TensorLike, b: TensorLike, options: { axes?: number | [number[], number[]] } = {}): Tensor {
  const [x, y] = contractionOperands('tensordot', [a, b]);
  const axes = options.axes ?? 2;
  let ca: number[];
  let cb: number[];
  if (typeof axes === 'number') {
    if (!Number.isInteger(axes) || axes < 0 || axes > x.ndim || axes > y.ndim) fail('tensordot', `${x.describe()}, ${y.describe()}: cannot contract ${axes} axes`);
    ca = range(axes, x.ndim - axes);
    cb = range(axes);
  } else {
    if (axes[0].length !== axes[1].length) fail('tensordot', `axes lists [${axes[0].join(',')}] and [${axes[1].join(',')}] differ in length`);
    ca = axes[0].map((d) => normalizeAxis('tensordot', d, x.ndim));
    cb = axes[1].map((d) => normalizeAxis('tensordot', d, y.ndim));
  }
  ca.forEach((d, i) => {
    if (x.shape[d] !== y.shape[cb[i]]) fail('tensordot', `${x.describe()}, ${y.describe()}: contracted dimensions ${x.shape[d]} (axis ${d}) and ${y.shape[cb[i]]} (axis ${cb[i]}) differ`);
  });
  return dotGeneral(x, y, [ca, cb]);
}

/** Outer product of two vectors (inputs are flattened, as in NumPy): result [a.size, b.size]. */
export function outer(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = contractionOperands('outer', [a, b]);
  return mul(reshapeTo(x, [x.size, 1]), reshapeTo(y, [1, y.size]));
}

// ---- einsum ---------------------------------------------------------------------------------------

/** A tensor whose axes are named by einsum labels (letters; ellipsis axes get '.0', '.1', ...). */
interface Labeled {
  t: Tensor;
  labels: string[];
}

interface EinsumPlan {
  inputs: string[][];
  output: string[];
  sizes: Map<string, number>;
}

function parseEinsum(spec: string, ts: Tensor[]): EinsumPlan {
  const bad = (msg: string): never => fail('einsum', `'${spec}': ${msg}`);
  const clean = spec.replace(/\s+/g, '');
  const arrow = clean.indexOf('->');
  const lhs = arrow < 0 ? clean : clean.slice(0, arrow);
  const rhs = arrow < 0 ? null : clean.slice(arrow + 2);
  const terms = lhs.split(',');
  if (terms.length !== ts.length) bad(`has ${terms.length} input term(s) but ${ts.length} operand(s) were given`);
  const splitTerm = (term: string, where: string): { letters: string[]; ellipsisAt: number } => {
    const parts = term.split('...');
    if (parts.length > 2) bad(`${where} has more than one '...'`);
    const letters: string[] = [];
    for (const c of parts.join('')) if (!/[a-zA-Z]/.test(c)) bad(`${where} has '${c}', expected letters, ',', '...' or '->'`);
    for (const c of parts.join('')) letters.push(c);
    return { letters, ellipsisAt: parts.length === 2 ? parts[0].length : -1 };
  };
  const parsed = terms.map((term, i) => splitTerm(term, `term ${i} ('${term}')`));
  // Ellipsis axes align from the right across operands, as in broadcasting.
  const ellipsisRanks = parsed.map(({ letters, ellipsisAt }, i) => {
    const extra = ts[i].ndim - letters.length;
    if ((ellipsisAt < 0 && extra !== 0) || extra < 0) bad(`term ${i} ('${terms[i]}') names ${letters.length} axes but operand ${i} is ${ts[i].describe()}`);
    return ellipsisAt < 0 ? 0 : extra;
  });
  const maxE = Math.max(0, ...ellipsisRanks);
  const ellLabels = (e: number) => range(e, maxE - e).map((j) => `.${j}`);
  const expand = (p: { letters: string[]; ellipsisAt: number }, e: number) =>
    p.ellipsisAt < 0 ? p.letters : [...p.letters.slice(0, p.ellipsisAt), ...ellLabels(e), ...p.letters.slice(p.ellipsisAt)];
  const inputs = parsed.map((p, i) => expand(p, ellipsisRanks[i]));

  const sizes = new Map<string, number>();
  const firstSeen = new Map<string, string>();
  inputs.forEach((labels, i) =>
    labels.forEach((l, ax) => {
      const d = ts[i].shape[ax];
      const prev = sizes.get(l);
      const here = `operand ${i} ${ts[i].describe()}`;
      const name = l.startsWith('.') ? `'...' axis` : `label ${l}`;
      if (prev === undefined || prev === 1) {
        if (prev === 1 && d !== 1 && !l.startsWith('.')) bad(`${name} has size ${d} in ${here} but 1 in ${firstSeen.get(l)}`);
        sizes.set(l, d);
        firstSeen.set(l, here);
      } else if (d !== prev && !(d === 1 && l.startsWith('.'))) {
        bad(`${name} has size ${d} in ${here} but ${prev} in ${firstSeen.get(l)}`);
      }
    }),
  );

  let output: string[];
  if (rhs === null) {
    // Implicit mode (NumPy): '...' axes first, then labels used exactly once, in alphabetical order.
    const counts = new Map<string, number>();
    for (const labels of parsed) for (const l of labels.letters) counts.set(l, (counts.get(l) ?? 0) + 1);
    output = [...ellLabels(maxE), ...[...counts].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  } else {
    const p = splitTerm(rhs, `output ('${rhs}')`);
    output = expand(p, p.ellipsisAt < 0 ? 0 : maxE);
    const seen = new Set<string>();
    for (const l of p.letters) {
      if (seen.has(l)) bad(`output label ${l} appears more than once`);
      seen.add(l);
      if (!sizes.has(l)) bad(`output label ${l} does not appear in any input`);
    }
  }
  return { inputs, output, sizes };
}

/** Takes the diagonal of every label repeated within one operand ('ii->i'): mask with iota, sum. */
function diagonals(x: Labeled): Labeled {
  let { t, labels } = x;
  for (let q = labels.length - 1; q > 0; q--) {
    const p = labels.indexOf(labels[q]);
    if (p === q) continue;
    const mask = eq(iota(t.shape, p, t.device), iota(t.shape, q, t.device));
    t = sumAxes('einsum', where(mask, t, full(t.shape, 0, t.dtype, t.device)), q);
    labels = labels.filter((_, i) => i !== q);
  }
  return { t, labels };
}

/** Sums the axes whose labels are not in `keep`. */
function sumOut(x: Labeled, keep: Set<string>): Labeled {
  const axes = x.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return x;
  return { t: sumAxes('einsum', x.t, axes), labels: x.labels.filter((l) => keep.has(l)) };
}

/** Size-1 '...' axes broadcast to the label's full size before they meet another operand. */
function fillBroadcast(x: Labeled, sizes: Map<string, number>): Labeled {
  const target = x.labels.map((l) => sizes.get(l)!);
  if (shapeEqual(target, x.t.shape)) return x;
  return { t: broadcastIn(x.t, target, range(target.length)), labels: x.labels };
}

/** One pairwise contraction: shared labels kept later are batch dims, the rest contract. */
function contractPair(a: Labeled, b: Labeled, keep: Set<string>): Labeled {
  const inB = new Set(b.labels);
  const shared = a.labels.filter((l) => inB.has(l));
  const batch = shared.filter((l) => keep.has(l));
  const contract = shared.filter((l) => !keep.has(l));
  const idx = (x: Labeled, ls: string[]) => ls.map((l) => x.labels.indexOf(l));
  const t = dotGeneral(a.t, b.t, [idx(a, contract), idx(b, contract)], [idx(a, batch), idx(b, batch)]);
  const free = (x: Labeled) => x.labels.filter((l) => !shared.includes(l));
  return { t, labels: [...batch, ...free(a), ...free(b)] };
}

/**
 * Einstein summation over one or more operands: 'ij,jk->ik', 'bhqd,bhkd->bhqk', 'ij->ji', 'ii->i',
 * 'ij->', '...ij,...jk->...ik', implicit output ('ij,jk'). Operands contract left to right, each
 * step one dot_general; labels needed by no later operand and not by the output are summed early.
 */
export function einsum(spec: string, ...operands: TensorLike[]): Tensor {
  if (operands.length === 0) fail('einsum', `'${spec}': needs at least one operand`);
  const ts = contractionOperands('einsum', operands);
  const { inputs, output, sizes } = parseEinsum(spec, ts);
  let xs: Labeled[] = ts.map((t, i) => diagonals({ t, labels: inputs[i] }));
  const neededAfter = (i: number) => new Set([...output, ...xs.slice(i + 1).flatMap((x) => x.labels)]);
  // Labels private to one operand and absent from the output sum away before any contraction.
  xs = xs.map((x, i) => sumOut(x, new Set([...output, ...xs.filter((_, j) => j !== i).flatMap((y) => y.labels)])));
  let acc = xs[0];
  for (let i = 1; i < xs.length; i++) {
    const keep = neededAfter(i);
    const other = new Set(xs[i].labels);
    acc = fillBroadcast(sumOut(acc, new Set([...keep, ...other])), sizes);
    const b = fillBroadcast(sumOut(xs[i], new Set([...keep, ...acc.labels])), sizes);
    acc = contractPair(acc, b, keep);
  }
  acc = sumOut(acc, new Set(output));
  // Output '...' axes no operand had at full size still need their broadcast.
  acc = fillBroadcast(acc, sizes);
  const t = permute(acc.t, output.map((l) => acc.labels.indexOf(l)));
  const outShape = output.map((l) => sizes.get(l)!);
  return shapeEqual(t.shape, outShape) ? t : broadcastIn(t, outShape, range(outShape.length));
}

// ---- Tensor methods -------------------------------------------------------------------------------

declare module '../tensor.js' {
  interface Tensor {
    /** `a.matmul(b)`: see matmul. */
    matmul(b: TensorLike): Tensor;
    /** `a.dot(b)`: NumPy's dot. */
    dot(b: TensorLike): Tensor;
    /** `a.outer(b)`: outer product of the flattened operands. */
    outer(b: TensorLike): Tensor;
  }
}

Tensor.prototype.matmul = function (this: Tensor, b: TensorLike) {
  return matmul(this, b);
};
Tensor.prototype.dot = function (this: Tensor, b: TensorLike) {
  return dot(this, b);
};
Tensor.prototype.outer = function (this: Tensor, b: TensorLike) {
  return outer(this, b);
};
