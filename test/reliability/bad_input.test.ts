// Bad input cannot hurt: every export of src/index.ts appears in a table of wrong calls (a new export
// without a case fails here), and each wrong call raises a KilnError naming the op and the values.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/index.js';
import type { Case, Entry } from './bad_input_table.js';
import { OPS_CASES } from './bad_input_ops.js';
import { API_CASES } from './bad_input_api.js';

const TABLE: Record<string, Entry> = { ...OPS_CASES, ...API_CASES };

async function raised(c: Case): Promise<unknown> {
  try {
    const r = c.call();
    if (r && typeof (r as Promise<unknown>).then === 'function') await r;
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('bad input', () => {
  it('every export of src/index.ts has bad-input cases (or says why it takes none)', async () => {
    const exports = Object.keys(await import('../../src/index.js'));
    const missing = exports.filter((k) => !(k in TABLE));
    expect(missing, `exports without a bad-input case: ${missing.join(', ')}`).toEqual([]);
    const stale = Object.keys(TABLE).filter((k) => !exports.includes(k));
    expect(stale, `cases for names that are not exported: ${stale.join(', ')}`).toEqual([]);
    for (const [name, entry] of Object.entries(TABLE)) {
      if (Array.isArray(entry)) expect(entry.length, name).toBeGreaterThan(0);
    }
  });

  for (const [name, entry] of Object.entries(TABLE)) {
    if (!Array.isArray(entry)) continue;
    it(`${name}`, async () => {
      for (const c of entry) {
        const e = await raised(c);
        const where = `${name}: ${c.call.toString().replace(/\s+/g, ' ').slice(0, 120)}`;
        expect(e, `${where}: did not throw`).toBeDefined();
        expect(e instanceof KilnError, `${where}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`).toBe(true);
        expect((e as Error).message, where).toMatch(c.msg);
      }
    });
  }
});
