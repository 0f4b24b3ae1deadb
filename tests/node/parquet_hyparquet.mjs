// parquet_hyparquet.mjs: hyparquet (an independent JavaScript reader) reads a
// Parquet file: node parquet_hyparquet.mjs FILE [--no-compressors]
//   -> JSON {columns:[{name,type,converted,logical}], rows:[[...]]}
// BigInts as decimal strings, Dates as epoch milliseconds, NaN as "NaN".
import { readFileSync } from 'node:fs';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const [file, flag] = process.argv.slice(2);
const buf = readFileSync(file);
const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
const meta = parquetMetadata(ab);
const schema = parquetSchema(meta);
const columns = schema.children.map((c) => ({
  name: c.element.name,
  type: c.element.type,
  converted: c.element.converted_type ?? null,
  logical: c.element.logical_type?.type ?? null,
}));
const opts = { file: ab };
if (flag !== '--no-compressors') opts.compressors = compressors;
const rows = await parquetReadObjects(opts);
const norm = (v) => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
};
process.stdout.write(JSON.stringify({
  columns,
  rows: rows.map((r) => columns.map((c) => norm(r[c.name]))),
}));
