// Diagnostic logging by channel: KILN_LOG=jit (or "jit,nans", "all") turns channels on from the
// environment; setLog() does it from code. Lines go to stderr (console.error) unless a sink is set,
// so logs never mix with a program's own stdout.
import { KilnError } from '../ir/error.js';
import { fnArg, show } from './args.js';

const envLog = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.KILN_LOG;

let channels = parse(envLog);
let sink: (line: string) => void = (line) => console.error(line);

function parse(spec: string | undefined | null): Set<string> {
  return new Set((spec ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}

/** Turns channels on: `setLog('jit')`, `setLog(['jit'])`; `setLog(null)` turns all off. Returns the previous setting. */
export function setLog(spec: string | readonly string[] | null): string[] {
  if (spec !== null && spec !== undefined && typeof spec !== 'string' && !(Array.isArray(spec) && spec.every((c) => typeof c === 'string'))) {
    throw new KilnError(`setLog: expected a string or a list of channels, got ${show(spec)}`);
  }
  const prev = [...channels];
  channels = Array.isArray(spec) ? new Set(spec) : parse(spec as string | null);
  return prev;
}

/** Where log lines go (tests capture them); returns the previous sink. */
export function setLogSink(fn: (line: string) => void): (line: string) => void {
  fnArg('setLogSink', null, fn);
  const prev = sink;
  sink = fn;
  return prev;
}

export function logEnabled(channel: string): boolean {
  return channels.has(channel) || channels.has('all');
}

/** Writes `[kiln:channel] message` when the channel is on. */
export function log(channel: string, message: string): void {
  if (logEnabled(channel)) sink(`[kiln:${channel}] ${message}`);
}
