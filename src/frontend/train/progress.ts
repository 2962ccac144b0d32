// A terminal progress bar for training: batch count, metrics, throughput and ETA, redrawn in place
// on a TTY and printed as one line per update interval when output is a file or a pipe.
import { KilnError } from '../../ir/error.js';
import { numberArg, show } from '../args.js';

export interface ProgressOptions {
  total: number;
  label?: string;
  /** Where to write (default process.stdout); anything with write(). */
  stream?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Samples per step, for the samples/s figure. */
  unitsPerStep?: number;
  /** Non-TTY output prints a line every this many steps (default: about 10 lines per bar). */
  printEvery?: number;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  return `${m}:${String(sec).padStart(2, '0')}`;
}

function fmtNumber(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(4);
}

export class ProgressBar {
  private done = 0;
  private readonly start = performance.now();
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly printEvery: number;
  private lastLine = '';
  private lastPrinted = -1;

  constructor(private readonly options: ProgressOptions) {
    if (options === null || typeof options !== 'object') throw new KilnError(`ProgressBar: expected options {total, ...}, got ${show(options)}`);
    numberArg('ProgressBar', 'total', options.total, { integer: true, min: 0 });
    if (options.printEvery !== undefined) numberArg('ProgressBar', 'printEvery', options.printEvery, { integer: true, positive: true });
    this.stream = options.stream ?? (typeof process !== 'undefined' ? process.stdout : { write: (s: string) => console.log(s) });
    this.printEvery = options.printEvery ?? Math.max(1, Math.ceil(options.total / 10));
  }

  /** Renders the bar for `done` steps with the given metrics (e.g. {loss: 0.31}). */
  render(done: number, metrics: Record<string, number> = {}): string {
    const { total, label = '', unitsPerStep = 1 } = this.options;
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = (total - done) / rate;
    const width = 24;
    const filled = Math.round((width * done) / Math.max(1, total));
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const m = Object.entries(metrics).map(([k, v]) => `${k} ${fmtNumber(v)}`).join('  ');
    const speed = `${(rate * unitsPerStep).toFixed(0)} samples/s`;
    return `${label}${label ? ' ' : ''}${bar} ${done}/${total}  ${m}  ${speed}  ${fmtTime(elapsed)}<${fmtTime(eta)}`;
  }

  update(done: number, metrics: Record<string, number> = {}): void {
    this.done = done;
    const line = this.render(done, metrics);
    this.lastLine = line;
    if (this.stream.isTTY) this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 160) - 1)}\x1b[K`);
    else if ((done % this.printEvery === 0 || done === this.options.total) && done !== this.lastPrinted) {
      this.lastPrinted = done;
      this.stream.write(line + '\n');
    }
  }

  /** Ends the bar (a newline on a TTY); returns the last line. */
  finish(metrics?: Record<string, number>): string {
    if (metrics) this.update(this.done, metrics);
    if (this.stream.isTTY) this.stream.write('\n');
    return this.lastLine;
  }
}
