// `kiln convert`: packs a dataset into one shard file (src/format/shard.ts) that ShardDataset streams.
// Sources: IDX images + labels (MNIST layout, gzip or not) or a numeric CSV with a label column.
import type { CliIO } from './io.js';
import { UsageError, parse } from './io.js';
import { KilnError } from '../ir/error.js';

export const CONVERT_USAGE = `kiln convert --images <images.idx[.gz]> --labels <labels.idx[.gz]> --out <data.kshard> [--raw]
kiln convert --csv <table.csv> --label <column name or index> --out <data.kshard>
  IDX images are stored as uint8 and read back as float32 / 255 (--raw: as 0..255); labels as int32.
  CSV rows become float32 features and an int32 label.`;

export async function convertCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse(argv, {
    images: { type: 'string' },
    labels: { type: 'string' },
    csv: { type: 'string' },
    label: { type: 'string' },
    out: { type: 'string', short: 'o' },
    raw: { type: 'boolean' },
  }, 'convert');
  if (typeof values.out !== 'string') throw new UsageError('kiln convert: needs --out');
  const { writeShard } = await import('../frontend/data/shard.js');
  if (typeof values.images === 'string' || typeof values.labels === 'string') {
    if (typeof values.images !== 'string' || typeof values.labels !== 'string') throw new UsageError('kiln convert: --images and --labels go together');
    const { readIdx } = await import('../frontend/data/idx.js');
    const images = readIdx(values.images);
    const labels = readIdx(values.labels);
    const n = images.shape[0];
    if (labels.shape[0] !== n || labels.shape.length !== 1) throw new KilnError(`kiln convert: ${n} images but labels of shape [${labels.shape.join(',')}]`);
    const header = writeShard(values.out, n, [
      { field: { name: 'image', dtype: 'uint8', shape: images.shape.slice(1), ...(values.raw ? {} : { scale: 1 / 255 }) }, data: images.data },
      { field: { name: 'label', dtype: 'int32', shape: [] }, data: Int32Array.from(labels.data) },
    ]);
    io.out(`wrote ${values.out}: ${n} samples, image uint8[${images.shape.slice(1).join(',')}] + label i32, ${header.recordBytes} bytes per record`);
    return 0;
  }
  if (typeof values.csv === 'string') {
    const { readCsv } = await import('../frontend/data/csv.js');
    const table = readCsv(values.csv);
    const width = table.rows[0]?.length ?? 0;
    const spec = typeof values.label === 'string' ? values.label : String(width - 1);
    const col = table.header?.indexOf(spec) ?? -1;
    const labelCol = col >= 0 ? col : /^[0-9]+$/.test(spec) ? Number(spec) : -1;
    if (labelCol < 0 || labelCol >= width) throw new KilnError(`kiln convert: label column ${spec} is not a column of ${values.csv} (${table.header ? table.header.join(', ') : `${width} columns`})`);
    const n = table.rows.length;
    const features = new Float32Array(n * (width - 1));
    const labels = new Int32Array(n);
    table.rows.forEach((r, i) => {
      let k = 0;
      r.forEach((v, j) => {
        if (j === labelCol) {
          if (!Number.isInteger(v)) throw new KilnError(`kiln convert: row ${i + 1}: label ${v} is not an integer`);
          labels[i] = v;
        } else features[i * (width - 1) + k++] = v;
      });
    });
    writeShard(values.out, n, [
      { field: { name: 'features', dtype: 'float32', shape: [width - 1] }, data: features },
      { field: { name: 'label', dtype: 'int32', shape: [] }, data: labels },
    ]);
    io.out(`wrote ${values.out}: ${n} samples, features f32[${width - 1}] + label i32`);
    return 0;
  }
  throw new UsageError('kiln convert: give --images/--labels or --csv');
}
