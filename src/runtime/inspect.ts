// inspectArtifact: what a file holds (signature, sections and their sizes, kernels per backend),
// after the same validation loading does, plus a plain-text rendering for `kiln inspect`.
import { SHORT_NAME } from '../ir/dtype.js';
import { sizeOf } from '../ir/shape.js';
import { BYTES } from '../ir/dtype.js';
import { readContainer } from '../format/container.js';
import type { Backend, BatchInfo, TensorSpec } from '../format/manifest.js';

export interface ArtifactInfo {
  readonly name: string;
  readonly kilnVersion: string;
  readonly formatVersion: number;
  readonly bytes: number;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly weights: { readonly count: number; readonly elements: number; readonly bytes: number };
  readonly batch?: Omit<BatchInfo, 'sites'> & { readonly sites: number };
  readonly backends: readonly Backend[];
  readonly kernels: Partial<Record<Backend, number>>;
  readonly sections: readonly { readonly name: string; readonly offset: number; readonly size: number; readonly sha256: string }[];
}

export function inspectArtifact(bytes: Uint8Array): ArtifactInfo {
  const { manifest: m } = readContainer(bytes);
  let elements = 0;
  let wbytes = 0;
  for (const w of m.weights) {
    const n = sizeOf(w.shape as number[]);
    elements += n;
    wbytes += n * BYTES[w.dtype];
  }
  return {
    name: m.name,
    kilnVersion: m.kilnVersion,
    formatVersion: m.formatVersion,
    bytes: bytes.length,
    inputs: m.inputs,
    outputs: m.outputs,
    weights: { count: m.weights.length, elements, bytes: wbytes },
    ...(m.batch ? { batch: { symbol: m.batch.symbol, example: m.batch.example, sites: m.batch.sites.length } } : {}),
    backends: m.backends,
    kernels: m.kernels,
    sections: m.sections.map((s) => ({ name: s.name, offset: s.offset, size: s.size, sha256: s.sha256 })),
  };
}

function human(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

const spec = (s: TensorSpec) => `${s.name}: ${SHORT_NAME[s.dtype]}[${s.shape.join(',')}]`;

/** The report `kiln inspect` prints. */
export function formatArtifactInfo(info: ArtifactInfo): string {
  const lines = [
    `artifact ${info.name} (format ${info.formatVersion}, kiln ${info.kilnVersion}, ${human(info.bytes)})`,
    `  inputs:  ${info.inputs.map(spec).join(', ') || '(none)'}`,
    `  outputs: ${info.outputs.map(spec).join(', ') || '(none)'}`,
    `  weights: ${info.weights.count} tensors, ${info.weights.elements} values, ${human(info.weights.bytes)}`,
  ];
  if (info.batch) lines.push(`  batch:   symbol ${info.batch.symbol}, example ${info.batch.example}, ${info.batch.sites} sites in the IR`);
  lines.push(`  backends: ${info.backends.map((b) => `${b} (${info.kernels[b] ?? '?'} kernels)`).join(', ')}`);
  lines.push('  sections:');
  for (const s of info.sections) lines.push(`    ${s.name.padEnd(10)} ${human(s.size).padStart(11)}  at ${s.offset}  sha256 ${s.sha256.slice(0, 16)}…`);
  return lines.join('\n');
}
