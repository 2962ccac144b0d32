// The artifact container: one file = fixed header + manifest JSON + sections. Every byte is accounted
// for (the header hashes the manifest, the manifest hashes each section, padding must be zero, the file
// ends where the last section does), so any truncated, flipped or appended byte is a KilnError.
//
//   0  magic  \x89 K I L N \r \n \x1a   (PNG-style: catches text-mode and 7-bit mangling)
//   8  u32le  format version
//   12 u32le  manifest byte length M (at most MAX_MANIFEST_BYTES)
//   16 32 B   SHA-256 of the manifest bytes
//   48 M B    manifest JSON (UTF-8)
//   ...       sections, each at the next 8-aligned offset, in manifest order, zero padding between
import { KilnError } from '../ir/error.js';
import { ARTIFACT_FORMAT_VERSION } from './version.js';
import { sha256Hex } from './sha256.js';
import { fromUtf8, parseJson, utf8 } from './bytes.js';
import type { Manifest, SectionEntry, SectionName } from './manifest.js';
import { checkManifest } from './manifest.js';

export const MAGIC = Uint8Array.from([0x89, 0x4b, 0x49, 0x4c, 0x4e, 0x0d, 0x0a, 0x1a]);
export const HEADER_BYTES = 48;
export const MAX_MANIFEST_BYTES = 16 << 20;

const align8 = (n: number) => Math.ceil(n / 8) * 8;

function bad(msg: string): never {
  throw new KilnError(`artifact: ${msg}`);
}

/** Everything but the layout: the writer fills in sections' offsets, sizes and hashes. */
export type ManifestDraft = Omit<Manifest, 'sections' | 'format' | 'formatVersion'>;

export interface Section {
  readonly name: SectionName;
  readonly bytes: Uint8Array;
}

/** Lays out and hashes `sections` after the manifest; the result is validated by reading it back. */
export function writeContainer(draft: ManifestDraft, sections: readonly Section[]): Uint8Array {
  // Offsets depend on the manifest's length, which depends on the offsets: iterate to a fixed point
  // (digits only grow, so this settles in a couple of rounds).
  const hashes = sections.map((s) => sha256Hex(s.bytes));
  let manifestBytes: Uint8Array = new Uint8Array(0);
  let entries: SectionEntry[] = [];
  for (let round = 0; round < 8; round++) {
    let at = align8(HEADER_BYTES + manifestBytes.length);
    entries = sections.map((s, i) => {
      const e = { name: s.name, offset: at, size: s.bytes.length, sha256: hashes[i] };
      at = align8(at + s.bytes.length);
      return e;
    });
    const manifest: Manifest = { format: 'kiln-artifact', formatVersion: ARTIFACT_FORMAT_VERSION, ...draft, sections: entries };
    const next = utf8(JSON.stringify(manifest));
    if (next.length === manifestBytes.length) {
      manifestBytes = next;
      break;
    }
    manifestBytes = next;
  }
  if (manifestBytes.length > MAX_MANIFEST_BYTES) bad(`the manifest would take ${manifestBytes.length} bytes, more than the ${MAX_MANIFEST_BYTES}-byte limit`);
  const last = entries[entries.length - 1];
  const total = last ? last.offset + last.size : align8(HEADER_BYTES + manifestBytes.length);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  const v = new DataView(out.buffer);
  v.setUint32(8, ARTIFACT_FORMAT_VERSION, true);
  v.setUint32(12, manifestBytes.length, true);
  const mh = sha256Hex(manifestBytes);
  for (let i = 0; i < 32; i++) out[16 + i] = parseInt(mh.slice(2 * i, 2 * i + 2), 16);
  out.set(manifestBytes, HEADER_BYTES);
  sections.forEach((s, i) => out.set(s.bytes, entries[i].offset));
  readContainer(out); // the writer's own output must pass the reader's checks
  return out;
}

export interface Container {
  readonly manifest: Manifest;
  readonly sections: Partial<Record<SectionName, Uint8Array>>;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function checkZeros(bytes: Uint8Array, from: number, to: number, what: string): void {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) bad(`byte ${i} (padding ${what}) is ${bytes[i]}, expected 0: the file was modified`);
}

/** Reads the container: magic, version, manifest hash and schema, section layout and hashes. */
export function readContainer(bytes: Uint8Array): Container {
  if (!(bytes instanceof Uint8Array)) bad(`expected the file's bytes (a Uint8Array), got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length < HEADER_BYTES) {
    if (bytes.length >= 1 && MAGIC.subarray(0, Math.min(8, bytes.length)).every((b, i) => bytes[i] === b)) bad(`truncated: ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
    bad(`not a Kiln artifact (${bytes.length} bytes, too short for the header)`);
  }
  if (!MAGIC.every((b, i) => bytes[i] === b)) bad('not a Kiln artifact (the magic bytes \\x89KILN\\r\\n\\x1a are missing)');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = v.getUint32(8, true);
  if (version !== ARTIFACT_FORMAT_VERSION) {
    bad(`format version ${version} is not supported: this runtime reads version ${ARTIFACT_FORMAT_VERSION}${version > ARTIFACT_FORMAT_VERSION ? ' (the file is newer: upgrade kiln)' : ''}`);
  }
  const m = v.getUint32(12, true);
  if (m > MAX_MANIFEST_BYTES) bad(`the header declares a ${m}-byte manifest, more than the ${MAX_MANIFEST_BYTES}-byte limit`);
  if (HEADER_BYTES + m > bytes.length) bad(`truncated: the header declares a ${m}-byte manifest but only ${bytes.length - HEADER_BYTES} bytes follow`);
  const manifestBytes = bytes.subarray(HEADER_BYTES, HEADER_BYTES + m);
  const want = hex(bytes.subarray(16, 48));
  if (sha256Hex(manifestBytes) !== want) bad('the manifest does not match its SHA-256 in the header: the file was modified or corrupted');
  const manifest = checkManifest(parseJson('artifact manifest', fromUtf8('artifact manifest', manifestBytes)));
  let at = align8(HEADER_BYTES + m);
  checkZeros(bytes, HEADER_BYTES + m, Math.min(at, bytes.length), 'after the manifest');
  const sections: Partial<Record<SectionName, Uint8Array>> = {};
  manifest.sections.forEach((s, i) => {
    if (s.offset !== at) bad(`section ${s.name} declares offset ${s.offset}, but the layout puts it at ${at}`);
    if (s.size > bytes.length - s.offset) bad(`truncated: section ${s.name} declares ${s.size} bytes at offset ${s.offset}, but the file has ${bytes.length} bytes`);
    const body = bytes.subarray(s.offset, s.offset + s.size);
    if (sha256Hex(body) !== s.sha256) bad(`section ${s.name} does not match its SHA-256: the file was modified or corrupted`);
    sections[s.name] = body;
    const end = s.offset + s.size;
    at = align8(end);
    // Padding only between sections: the file ends where the last one does (checked below).
    if (i < manifest.sections.length - 1) checkZeros(bytes, end, Math.min(at, bytes.length), `after section ${s.name}`);
  });
  const lastEnd = manifest.sections.length ? manifest.sections[manifest.sections.length - 1].offset + manifest.sections[manifest.sections.length - 1].size : align8(HEADER_BYTES + m);
  if (bytes.length !== lastEnd) bad(`the file has ${bytes.length} bytes but its sections end at ${lastEnd} (${bytes.length > lastEnd ? 'bytes were appended' : 'truncated'})`);
  return { manifest, sections };
}
