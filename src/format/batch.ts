// Symbolic batch size for IR text. The IR has only concrete shapes, so export traces the function at
// three batch sizes and diffs the printed texts: they must be equal except for numbers, and every
// number that differs must be a*N+b of the batch size N (sites). Loading for batch n rewrites those
// numbers and re-parses: the parser re-infers every op's result type and checks it against the text,
// so a function that is not shape-polymorphic in N is a KilnError at load time, never a wrong answer.
import { KilnError } from '../ir/error.js';
import type { BatchInfo, BatchSite } from './manifest.js';

// A number literal as the IR printer writes it, not part of a name (`%12`, `%arg0`, `f32`, `@f1`).
const NUMBER = /(?<![A-Za-z0-9_%@.])-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![A-Za-z0-9_.])/g;

interface Piece {
  readonly start: number;
  readonly text: string;
}

function numbers(text: string): Piece[] {
  return [...text.matchAll(NUMBER)].map((m) => ({ start: m.index, text: m[0] }));
}

/** The text with every number replaced by a marker: equal skeletons mean equal structure. */
function skeleton(text: string): string {
  return text.replace(NUMBER, '#');
}

function lineOf(text: string, at: number): string {
  const line = text.slice(0, at).split('\n').length;
  return `line ${line}: ${text.split('\n')[line - 1].trim()}`;
}

/**
 * Finds the batch sites of `texts[k]` printed at batch `sizes[k]` (at least three sizes, so a linear
 * fit is checked, not just made). Sites refer to `texts[0]`.
 */
export function findBatchSites(texts: readonly string[], sizes: readonly number[]): BatchSite[] {
  if (texts.length < 3 || texts.length !== sizes.length) throw new KilnError('export: the batch template needs the IR at three batch sizes');
  const base = skeleton(texts[0]);
  texts.forEach((t, k) => {
    if (skeleton(t) !== base) {
      const a = base.split('\n');
      const b = skeleton(t).split('\n');
      const i = a.findIndex((l, j) => l !== b[j]);
      throw new KilnError(
        `export: the function's IR changes structure with the batch size (batch ${sizes[0]} vs ${sizes[k]}, first difference at line ${i + 1}: ${JSON.stringify(a[i]?.trim())} vs ${JSON.stringify(b[i]?.trim())}); ` +
          'a symbolic batch needs the same ops for every batch size (export without {batch} for a fixed size)',
      );
    }
  });
  const nums = texts.map(numbers);
  const sites: BatchSite[] = [];
  nums[0].forEach((p, i) => {
    const vals = nums.map((ns) => Number(ns[i].text));
    if (vals.every((v) => v === vals[0])) return;
    const a = (vals[1] - vals[0]) / (sizes[1] - sizes[0]);
    const b = vals[0] - a * sizes[0];
    if (!vals.every((v, k) => a * sizes[k] + b === v) || !Number.isFinite(a) || !Number.isFinite(b)) {
      throw new KilnError(
        `export: the number ${p.text} at ${lineOf(texts[0], p.start)} depends on the batch size but not as a*N+b (values ${vals.join(', ')} at batch ${sizes.join(', ')}); ` +
          'a constant such as 1/N (a mean over the batch) cannot be made symbolic: export with a fixed batch or keep batch statistics out of the exported function',
      );
    }
    sites.push([p.start, p.text.length, a, b]);
  });
  return sites;
}

/** How the IR printer writes a number (it uses String(), `-0` aside, which a*N+b never yields for N >= 0). */
function formatNumber(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/** The IR text for batch `n`; sites are validated against the text (a hostile manifest is an error, not a crash). */
export function specializeText(text: string, batch: BatchInfo, n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new KilnError(`artifact: batch size ${n} must be a non-negative integer`);
  if (n === batch.example) return text;
  let out = '';
  let at = 0;
  for (const [off, len, a, b] of batch.sites) {
    if (off < at || off + len > text.length) throw new KilnError(`artifact: batch site at character ${off} is out of order or past the end of the IR text`);
    const old = text.slice(off, off + len);
    if (old !== formatNumber(a * batch.example + b) || !/^-?[0-9]/.test(old)) {
      throw new KilnError(`artifact: batch site at character ${off} holds ${JSON.stringify(old.slice(0, 20))}, not the number ${a}*${batch.example}+${b}`);
    }
    const v = a * n + b;
    if (!Number.isFinite(v)) throw new KilnError(`artifact: batch size ${n} makes a site's value ${a}*${n}+${b} non-finite`);
    out += text.slice(at, off) + formatNumber(v);
    at = off + len;
  }
  return out + text.slice(at);
}
