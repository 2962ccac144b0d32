// A small CSV reader for numeric tables (UCI digits, Iris): numbers only, optional header line.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { KilnError } from '../../ir/error.js';

export interface CsvTable {
  header: string[] | null;
  rows: number[][];
}

/** Parses comma-separated numbers; a first line that is not all numbers is taken as the header. */
export function parseCsv(text: string, options: { header?: boolean } = {}): CsvTable {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  let header: string[] | null = null;
  const first = lines[0]?.split(',').map((s) => s.trim()) ?? [];
  const firstIsNumeric = first.every((s) => s !== '' && !Number.isNaN(Number(s)));
  if (options.header ?? !firstIsNumeric) {
    header = first;
    lines.shift();
  }
  const rows = lines.map((line, i) => {
    const cells = line.split(',');
    return cells.map((cell, j) => {
      const v = Number(cell.trim());
      if (cell.trim() === '' || Number.isNaN(v)) throw new KilnError(`parseCsv: row ${i + 1}, column ${j + 1}: '${cell}' is not a number`);
      return v;
    });
  });
  const width = rows[0]?.length ?? 0;
  rows.forEach((r, i) => {
    if (r.length !== width) throw new KilnError(`parseCsv: row ${i + 1} has ${r.length} columns, row 1 has ${width}`);
  });
  return { header, rows };
}

export function readCsv(path: string, options: { header?: boolean } = {}): CsvTable {
  let bytes: Buffer = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return parseCsv(bytes.toString('utf8'), options);
}
