// The artifact manifest: its TypeScript shape and a strict validator. Everything the runtime trusts
// about a file (names, dtypes, shapes, sections, the batch template) passes through checkManifest.
import { KilnError } from '../ir/error.js';
import type { DType } from '../ir/dtype.js';
import { isDType } from '../ir/dtype.js';
import { ARTIFACT_FORMAT_VERSION } from './version.js';
import { isRecord } from './bytes.js';

/** A dimension: a size, or the batch symbol (exactly `N`) or a linear expression of it (`2*N+1`). */
export type Dim = number | string;

export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

export interface SectionEntry {
  readonly name: SectionName;
  /** Absolute byte offset in the file (8-aligned) and byte length. */
  readonly offset: number;
  readonly size: number;
  /** Lowercase hex SHA-256 of the section's bytes. */
  readonly sha256: string;
}

/** Where the batch size appears in the IR text: [char offset, char length, a, b] means the number a*N+b. */
export type BatchSite = readonly [number, number, number, number];

export interface BatchInfo {
  /** The symbol in input/output shapes (`N`). */
  readonly symbol: string;
  /** The batch size the stored IR text (and any compiled code) was made for. */
  readonly example: number;
  readonly sites: readonly BatchSite[];
}

export const SECTION_NAMES = ['ir', 'weights', 'wasm', 'wasm.plan', 'wgsl'] as const;
export type SectionName = (typeof SECTION_NAMES)[number];
export const BACKENDS = ['interpreter', 'wasm', 'webgpu'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface Manifest {
  readonly format: 'kiln-artifact';
  readonly formatVersion: number;
  readonly kilnVersion: string;
  /** The exported function's name. */
  readonly name: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Stored tensors, in the order they follow the inputs as parameters of the IR function. */
  readonly weights: readonly TensorSpec[];
  readonly batch?: BatchInfo;
  /** Backends the file carries code for (the interpreter needs only the IR). */
  readonly backends: readonly Backend[];
  /** Kernel launches per call, per backend. */
  readonly kernels: Partial<Record<Backend, number>>;
  readonly sections: readonly SectionEntry[];
}

/** Bounds that keep a hostile manifest from costing more than a look. */
const MAX_TENSORS = 100_000;
const MAX_NAME = 1024;
const MAX_RANK = 64;
const MAX_SITES = 1_000_000;

const MANIFEST_KEYS = new Set(['format', 'formatVersion', 'kilnVersion', 'name', 'inputs', 'outputs', 'weights', 'batch', 'backends', 'kernels', 'sections']);

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_]*$/;

function bad(msg: string): never {
  throw new KilnError(`artifact manifest: ${msg}`);
}

function str(where: string, x: unknown, max = MAX_NAME): string {
  if (typeof x !== 'string' || x.length === 0 || x.length > max) bad(`${where} must be a non-empty string of at most ${max} characters, got ${JSON.stringify(x)?.slice(0, 80)}`);
  return x;
}

function nat(where: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) bad(`${where} must be a non-negative integer, got ${JSON.stringify(x)?.slice(0, 80)}`);
  return x;
}

function keys(where: string, x: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(x)) if (!allowed.includes(k)) bad(`${where} has an unknown field ${JSON.stringify(k)}`);
}

/** Parses `N`, `2*N`, `N+3`, `2*N+3` over the batch symbol into [a, b]; undefined when not one. */
export function parseDimExpr(expr: string, symbol: string): [number, number] | undefined {
  const m = /^(?:([0-9]+)\*)?([A-Za-z_][A-Za-z0-9_]*)(?:([+-])([0-9]+))?$/.exec(expr);
  if (!m || m[2] !== symbol) return undefined;
  const a = m[1] === undefined ? 1 : Number(m[1]);
  const b = m[4] === undefined ? 0 : (m[3] === '-' ? -1 : 1) * Number(m[4]);
  return Number.isSafeInteger(a) && Number.isSafeInteger(b) ? [a, b] : undefined;
}

export function formatDimExpr(a: number, b: number, symbol: string): string {
  const head = a === 1 ? symbol : `${a}*${symbol}`;
  return b === 0 ? head : `${head}${b > 0 ? '+' : '-'}${Math.abs(b)}`;
}

function tensorSpecs(where: string, x: unknown, symbol: string | undefined, allowSymbols: boolean): TensorSpec[] {
  if (!Array.isArray(x) || x.length > MAX_TENSORS) bad(`${where} must be an array of at most ${MAX_TENSORS} tensor specs`);
  const seen = new Set<string>();
  return x.map((t, i) => {
    const w = `${where}[${i}]`;
    if (!isRecord(t)) bad(`${w} must be {name, dtype, shape}`);
    keys(w, t, ['name', 'dtype', 'shape']);
    const name = str(`${w}.name`, t.name);
    if (seen.has(name)) bad(`${where} has the name ${JSON.stringify(name)} twice`);
    seen.add(name);
    if (!isDType(t.dtype)) bad(`${w}.dtype must be one of float32, float64, int32, bool, got ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || t.shape.length > MAX_RANK) bad(`${w}.shape must be an array of at most ${MAX_RANK} dimensions`);
    const shape = t.shape.map((d, j) => {
      if (typeof d === 'string') {
        if (!allowSymbols || symbol === undefined) bad(`${w}.shape[${j}] is the symbol ${JSON.stringify(d)} but ${allowSymbols ? 'the artifact has no batch symbol' : 'stored tensors have fixed shapes'}`);
        if (parseDimExpr(d, symbol) === undefined) bad(`${w}.shape[${j}] ${JSON.stringify(d)} is not a dimension over the batch symbol ${symbol}`);
        return d;
      }
      return nat(`${w}.shape[${j}]`, d);
    });
    return { name, dtype: t.dtype, shape };
  });
}

function batchInfo(x: unknown): BatchInfo {
  if (!isRecord(x)) bad('batch must be {symbol, example, sites}');
  keys('batch', x, ['symbol', 'example', 'sites']);
  const symbol = str('batch.symbol', x.symbol, 64);
  if (!SYMBOL.test(symbol)) bad(`batch.symbol ${JSON.stringify(symbol)} must be an identifier`);
  const example = nat('batch.example', x.example);
  if (!Array.isArray(x.sites) || x.sites.length > MAX_SITES) bad(`batch.sites must be an array of at most ${MAX_SITES} sites`);
  const sites = x.sites.map((s, i): BatchSite => {
    if (!Array.isArray(s) || s.length !== 4) bad(`batch.sites[${i}] must be [offset, length, a, b]`);
    const [off, len, a, b] = s as unknown[];
    nat(`batch.sites[${i}] offset`, off);
    nat(`batch.sites[${i}] length`, len);
    if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b)) bad(`batch.sites[${i}] coefficients must be finite numbers`);
    return [off as number, len as number, a, b];
  });
  return { symbol, example, sites };
}

function sections(x: unknown): SectionEntry[] {
  if (!Array.isArray(x) || x.length > SECTION_NAMES.length) bad(`sections must be an array of at most ${SECTION_NAMES.length} entries`);
  const seen = new Set<string>();
  return x.map((s, i) => {
    const w = `sections[${i}]`;
    if (!isRecord(s)) bad(`${w} must be {name, offset, size, sha256}`);
    keys(w, s, ['name', 'offset', 'size', 'sha256']);
    if (typeof s.name !== 'string' || !(SECTION_NAMES as readonly string[]).includes(s.name)) bad(`${w}.name ${JSON.stringify(s.name)} is not a known section (${SECTION_NAMES.join(', ')})`);
    if (seen.has(s.name)) bad(`section ${s.name} appears twice`);
    seen.add(s.name);
    if (typeof s.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.sha256)) bad(`${w}.sha256 must be 64 lowercase hex digits`);
    return { name: s.name as SectionName, offset: nat(`${w}.offset`, s.offset), size: nat(`${w}.size`, s.size), sha256: s.sha256 };
  });
}

/** Validates a parsed manifest against the schema of format version 1; throws a KilnError naming the field. */
export function checkManifest(x: unknown): Manifest {
  if (!isRecord(x)) bad('must be a JSON object');
  for (const k of Object.keys(x)) if (!MANIFEST_KEYS.has(k)) bad(`unknown field ${JSON.stringify(k)}`);
  if (x.format !== 'kiln-artifact') bad(`format must be "kiln-artifact", got ${JSON.stringify(x.format)}`);
  if (x.formatVersion !== ARTIFACT_FORMAT_VERSION) bad(`formatVersion ${JSON.stringify(x.formatVersion)} does not match the container's version ${ARTIFACT_FORMAT_VERSION}`);
  const kilnVersion = str('kilnVersion', x.kilnVersion, 64);
  const name = str('name', x.name);
  const batch = x.batch === undefined ? undefined : batchInfo(x.batch);
  const inputs = tensorSpecs('inputs', x.inputs, batch?.symbol, true);
  const outputs = tensorSpecs('outputs', x.outputs, batch?.symbol, true);
  const weights = tensorSpecs('weights', x.weights, undefined, false);
  if (!Array.isArray(x.backends) || x.backends.some((b) => !(BACKENDS as readonly unknown[]).includes(b)) || new Set(x.backends).size !== x.backends.length) {
    bad(`backends must be distinct names among ${BACKENDS.join(', ')}`);
  }
  if (!isRecord(x.kernels)) bad('kernels must be an object of counts per backend');
  keys('kernels', x.kernels, BACKENDS);
  const kernels: Partial<Record<Backend, number>> = {};
  for (const [k, v] of Object.entries(x.kernels)) kernels[k as Backend] = nat(`kernels.${k}`, v);
  const secs = sections(x.sections);
  for (const need of ['ir', 'weights'] as const) if (!secs.some((s) => s.name === need)) bad(`the required section ${need} is missing`);
  const backends = x.backends as Backend[];
  if (backends.includes('wasm') !== secs.some((s) => s.name === 'wasm')) bad('backends lists wasm exactly when a wasm section is present');
  if (backends.includes('webgpu') !== secs.some((s) => s.name === 'wgsl')) bad('backends lists webgpu exactly when a wgsl section is present');
  const base = { format: 'kiln-artifact' as const, formatVersion: ARTIFACT_FORMAT_VERSION, kilnVersion, name, inputs, outputs, weights };
  return { ...base, ...(batch ? { batch } : {}), backends, kernels, sections: secs };
}
