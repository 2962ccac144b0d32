// Finding the user's line of code from a JS stack, for errors ("item() at model.ts:12:9") and op locs.
// Frames inside Kiln itself (this src/ or dist/ folder), node internals and node_modules are skipped.

// This file lives in <root>/frontend/, so one level up is the library's own source folder.
const LIB_DIR = decodeURIComponent(new URL('../', import.meta.url).pathname);

function isLibraryFrame(line: string): boolean {
  return line.includes(LIB_DIR) || line.includes('node:internal') || line.includes('/node_modules/') || line.includes('(native)');
}

/** `file:line:col` of the innermost user frame calling into Kiln, or undefined when none is found. */
export function userSourceLine(): string | undefined {
  const stack = new Error().stack;
  if (!stack) return undefined;
  for (const raw of stack.split('\n').slice(1)) {
    const line = raw.trim();
    if (!line.startsWith('at ') || isLibraryFrame(line)) continue;
    // "at fn (file:///a/b.ts:3:7)" or "at file:///a/b.ts:3:7"
    const m = /\(?((?:file:\/\/)?[^()\s]+:\d+:\d+)\)?$/.exec(line);
    if (m) return m[1].replace(/^file:\/\//, '');
  }
  return undefined;
}

/** Whether ops record their user source line (`KILN_LOC=1`); off by default since reading stacks is slow. */
export function locEnabled(): boolean {
  return typeof process !== 'undefined' && process.env?.KILN_LOC === '1';
}
