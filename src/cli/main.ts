// The `kiln` command line: one table of commands, each a function of (argv, io) so tests drive them
// in-process. Commands load their heavy parts lazily: `kiln run` and `kiln inspect` need the runtime only.
import { KilnError } from '../ir/error.js';
import type { CliIO } from './io.js';
import { UsageError, consoleIO } from './io.js';
import { KILN_VERSION } from '../format/version.js';

interface Command {
  readonly summary: string;
  readonly usage: () => Promise<string>;
  readonly run: (argv: string[], io: CliIO) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  run: {
    summary: 'run an artifact on .npy/.json inputs',
    usage: async () => (await import('./run.js')).RUN_USAGE,
    run: async (a, io) => (await import('./run.js')).runCommand(a, io),
  },
  inspect: {
    summary: 'signature, sections and kernels of an artifact',
    usage: async () => (await import('./inspect.js')).INSPECT_USAGE,
    run: async (a, io) => (await import('./inspect.js')).inspectCommand(a, io),
  },
  export: {
    summary: 'export a function or model described by a module file',
    usage: async () => (await import('./export.js')).EXPORT_USAGE,
    run: async (a, io) => (await import('./export.js')).exportCommand(a, io),
  },
  train: {
    summary: 'train a declarative network (net.json) with a solver (solver.json)',
    usage: async () => (await import('./train.js')).TRAIN_USAGE,
    run: async (a, io) => (await import('./train.js')).trainCommand(a, io),
  },
  bench: {
    summary: 'time a function eagerly and under jit (kernels, bytes, compile time)',
    usage: async () => (await import('./bench.js')).BENCH_USAGE,
    run: async (a, io) => (await import('./bench.js')).benchCommand(a, io),
  },
  viz: {
    summary: "a function's IR before and after fusion as an HTML graph",
    usage: async () => (await import('./viz.js')).VIZ_USAGE,
    run: async (a, io) => (await import('./viz.js')).vizCommand(a, io),
  },
  report: {
    summary: 'training dashboard (loss/accuracy/lr curves) from jsonlLogger logs',
    usage: async () => (await import('./report.js')).REPORT_USAGE,
    run: async (a, io) => (await import('./report.js')).reportCommand(a, io),
  },
  convert: {
    summary: 'pack IDX or CSV data into a streamable shard file',
    usage: async () => (await import('./convert.js')).CONVERT_USAGE,
    run: async (a, io) => (await import('./convert.js')).convertCommand(a, io),
  },
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [`kiln ${KILN_VERSION}`, '', 'usage: kiln <command> [options]', '', ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`), '', 'kiln <command> --help for a command\'s options'].join('\n');
}

/** Runs one CLI invocation; returns the exit code (0 ok, 1 a KilnError, 2 a usage error). */
export async function main(argv: string[], io: CliIO = consoleIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(overview());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    io.out(KILN_VERSION);
    return 0;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    io.err(`kiln: unknown command '${name}'\n\n${overview()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(await cmd.usage());
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n\nusage: ${await cmd.usage()}`);
      return 2;
    }
    if (e instanceof KilnError) {
      io.err(`kiln ${name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
