// `kiln inspect artifact.kiln`: signature, section sizes, kernels per backend (after full validation).
import type { CliIO } from './io.js';
import { UsageError, parse, readBytes } from './io.js';
import { formatArtifactInfo, inspectArtifact } from '../runtime/inspect.js';
import { loadArtifactSync } from '../runtime/load.js';

export const INSPECT_USAGE = `kiln inspect <artifact.kiln> [--ir] [--json]
  Prints the signature, the size of each section and the kernels per backend; --ir adds the IR text,
  --json prints the same facts as JSON.`;

export async function inspectCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, { ir: { type: 'boolean' }, json: { type: 'boolean' } }, 'inspect');
  if (positionals.length !== 1) throw new UsageError('kiln inspect: needs exactly one artifact');
  const bytes = readBytes(positionals[0]);
  const info = inspectArtifact(bytes);
  // Loading too checks what inspection alone does not: the IR parses and matches the signature.
  const art = loadArtifactSync(bytes);
  if (values.json) io.out(JSON.stringify(info, null, 2));
  else io.out(formatArtifactInfo(info));
  if (values.ir) io.out(art.ir);
  return 0;
}
