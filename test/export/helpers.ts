// Shared pieces for the export tests: a small seeded MLP (weights captured by closure, named through a
// state dict), and a raw container writer that hashes with node:crypto, independent of src/format.
import { createHash } from 'node:crypto';
import '../../src/codegen/cpu_ref.js';
import { tensor } from '../../src/frontend/convert.js';
import type { Tensor } from '../../src/frontend/tensor.js';
import { matmul } from '../../src/frontend/ops/linalg.js';
import { softmax } from '../../src/frontend/ops/nn_functional.js';
import { binary, unary } from '../../src/frontend/ops/elementwise.js';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values in [-1, 1) rounded to f32, never 0. */
export function values(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.fround(2 * r() - 1) || 0.125);
}

export function randTensor(shape: number[], seed: number): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const flat = values(n, seed);
  const build = (dim: number, off: number): unknown => (dim === shape.length ? flat[off] : Array.from({ length: shape[dim] }, (_, i) => build(dim + 1, off * shape[dim] + i)));
  return tensor(build(0, 0) as number[]);
}

/** A module-like MLP (stateDict + call), duck-typed the way exportArtifact recognizes modules. */
export class TinyMlp {
  readonly w1 = randTensor([6, 5], 11);
  readonly b1 = randTensor([5], 12);
  readonly w2 = randTensor([5, 3], 13);
  stateDict(): Record<string, Tensor> {
    return { 'fc1.weight': this.w1, 'fc1.bias': this.b1, 'fc2.weight': this.w2 };
  }
  forward(x: Tensor): Tensor {
    const h = unary('relu', binary('add', matmul(x, this.w1), this.b1));
    return softmax(matmul(h, this.w2), { axis: -1 });
  }
  call(x: Tensor): Tensor {
    return this.forward(x);
  }
}

/** The container layout written by hand: magic, version, manifest length and hash, manifest, 8-aligned sections. */
export function rawContainer(manifest: Record<string, unknown>, sections: { name: string; bytes: Uint8Array }[], version = 1): Uint8Array {
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const align = (n: number) => Math.ceil(n / 8) * 8;
  let m = new Uint8Array(0);
  for (let round = 0; round < 5; round++) {
    let at = align(48 + m.length);
    const entries = sections.map((s) => {
      const e = { name: s.name, offset: at, size: s.bytes.length, sha256: sha(s.bytes) };
      at = align(at + s.bytes.length);
      return e;
    });
    m = new TextEncoder().encode(JSON.stringify({ ...manifest, sections: entries }));
  }
  const entries = (JSON.parse(new TextDecoder().decode(m)) as { sections: { offset: number; size: number }[] }).sections;
  const last = entries[entries.length - 1];
  const out = new Uint8Array(last ? last.offset + last.size : align(48 + m.length));
  out.set([0x89, 0x4b, 0x49, 0x4c, 0x4e, 0x0d, 0x0a, 0x1a]);
  const v = new DataView(out.buffer);
  v.setUint32(8, version, true);
  v.setUint32(12, m.length, true);
  out.set(Buffer.from(sha(m), 'hex'), 16);
  out.set(m, 48);
  sections.forEach((s, i) => out.set(s.bytes, entries[i].offset));
  return out;
}

/** The manifest and sections of an artifact, read without src/format (so tests can rewrite them). */
export function splitContainer(bytes: Uint8Array): { manifest: Record<string, unknown>; sections: { name: string; bytes: Uint8Array }[] } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = v.getUint32(12, true);
  const manifest = JSON.parse(new TextDecoder().decode(bytes.subarray(48, 48 + m))) as Record<string, unknown>;
  const sections = (manifest.sections as { name: string; offset: number; size: number }[]).map((s) => ({ name: s.name, bytes: bytes.slice(s.offset, s.offset + s.size) }));
  delete manifest.sections;
  return { manifest, sections };
}
