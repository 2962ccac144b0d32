// loadArtifact: bytes, a file path (Node, through format/files.ts so browser bundles never pull in fs)
// or a URL (fetch) to a validated Artifact.
import { KilnError } from '../ir/error.js';
import { Artifact } from './artifact.js';
import type { LoadOptions } from './artifact.js';
import { readFileBytes } from '../format/files.js';

export type ArtifactSource = Uint8Array | ArrayBuffer | string | URL;

async function readSource(source: ArtifactSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  const isUrl = source instanceof URL || /^(https?|blob|data):/i.test(source);
  if (isUrl) {
    if (typeof fetch !== 'function') throw new KilnError(`loadArtifact: cannot fetch ${String(source)} (no fetch here)`);
    const res = await fetch(source);
    if (!res.ok) throw new KilnError(`loadArtifact: fetching ${String(source)} failed with HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  if (typeof source !== 'string') throw new KilnError(`loadArtifact: expected bytes, a path or a URL, got ${source === null ? 'null' : typeof source}`);
  return readFileBytes('loadArtifact', source);
}

/** Loads and validates an artifact; a malformed, truncated or tampered file is a KilnError saying what is wrong. */
export async function loadArtifact(source: ArtifactSource, options: LoadOptions = {}): Promise<Artifact> {
  const bytes = await readSource(source);
  try {
    const art = new Artifact(bytes, options);
    return options.backend === 'webgpu' ? await art.initWebGPU() : await art.initWasm();
  } catch (e) {
    if (e instanceof KilnError) throw e;
    // Validation is meant to catch everything; anything else still leaves as the library's error.
    throw new KilnError(`loadArtifact: malformed artifact (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** The synchronous form, for bytes already in memory. */
export function loadArtifactSync(bytes: Uint8Array, options: LoadOptions = {}): Artifact {
  if (options?.backend === 'webgpu') throw new KilnError("loadArtifactSync: backend 'webgpu' needs the asynchronous loadArtifact (acquiring a GPU is asynchronous)");
  try {
    return new Artifact(bytes, options).initWasmSync();
  } catch (e) {
    if (e instanceof KilnError) throw e;
    throw new KilnError(`loadArtifact: malformed artifact (${e instanceof Error ? e.message : String(e)})`);
  }
}
