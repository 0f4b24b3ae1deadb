// parquet_duckdb.mjs: DuckDB's side of the Parquet interop tests and bench.
//   node parquet_duckdb.mjs read FILE      -> JSON {columns:[{name,type}], rows:[[...]]}
//        every value normalised: integers and timestamps (epoch microseconds)
//        and dates (days) as decimal strings, decimals as doubles
//   node parquet_duckdb.mjs gen DIR        -> writes DuckDB files of every type and
//        codec (and data page v2) into DIR, prints their names as JSON
//   node parquet_duckdb.mjs query FILE SQL -> JSON rows of SQL over t (= the file)
import { DuckDBInstance } from '@duckdb/node-api';

const [cmd, ...args] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const conn = await inst.connect();
await conn.run('SET threads=1');

const q = (s) => `'${s.replace(/'/g, "''")}'`;

async function read(file) {
  const desc = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${q(file)})`);
  const cols = desc.getRowObjectsJson().map((r) => ({ name: r.column_name, type: r.column_type }));
  const sel = cols.map(({ name, type }) => {
    const id = `"${name.replace(/"/g, '""')}"`;
    if (type.startsWith('TIMESTAMP_NS')) return `epoch_ns(${id}) // 1000`;
    if (type.startsWith('TIMESTAMP')) return `epoch_us(${id})`;
    if (type === 'DATE') return `datediff('day', DATE '1970-01-01', ${id})::BIGINT`;
    if (type === 'TIME') return `datediff('microsecond', TIME '00:00:00', ${id})::BIGINT`;
    if (type.startsWith('DECIMAL')) return `${id}::DOUBLE`;
    return id;
  });
  const res = await conn.runAndReadAll(`SELECT ${sel.join(', ') || '1'} FROM read_parquet(${q(file)})`);
  process.stdout.write(JSON.stringify({ columns: cols, rows: res.getRowsJson() }));
}

async function gen(dir) {
  await conn.run(`CREATE TABLE t AS SELECT
      i::BIGINT AS i64,
      CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 2654435761) % 1000003 - 500000 END::BIGINT AS i64n,
      (i % 1000 - 500)::INTEGER AS i32,
      (i % 100)::SMALLINT AS i16,
      CASE WHEN i % 5 = 0 THEN NULL ELSE (i / 7.0)::FLOAT END AS f32,
      CASE WHEN i % 3 = 0 THEN NULL ELSE i * 1.5 - 1000 END::DOUBLE AS f64,
      CASE WHEN i % 4 = 0 THEN NULL ELSE i % 2 = 0 END AS b,
      CASE WHEN i % 6 = 0 THEN NULL ELSE ['default', 'purchase_sword', 'join_guild', 'héllo'][i % 4 + 1] END AS s_low,
      CASE WHEN i % 9 = 0 THEN NULL WHEN i % 9 = 1 THEN '' ELSE 'user-' || i || '-' || repeat('x', i % 50) END AS s_high,
      TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(i * 1234567) AS ts,
      CASE WHEN i % 8 = 0 THEN NULL ELSE TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_milliseconds(i * 1000) END AS tstz,
      DATE '2020-01-01' + (i % 2000)::INTEGER AS dt,
      (i % 100000 / 100.0)::DECIMAL(10,2) AS dec,
      NULL::VARCHAR AS all_null,
      (i % 200 - 100)::TINYINT AS i8,
      (i * 3)::UINTEGER AS u32,
      (i * 1000003)::UBIGINT AS u64,
      CASE WHEN i % 11 = 0 THEN NULL ELSE ('blob-' || i)::BLOB END AS bin,
      TIME '00:00:00' + to_microseconds(i * 2000003) AS tm,
      (TIMESTAMP '2023-06-01 12:00:00' + to_milliseconds(i * 777))::TIMESTAMP_MS AS ts_ms,
      (TIMESTAMP '2023-06-01 12:00:00' + to_microseconds(i * 777))::TIMESTAMP_NS AS ts_ns,
      (i * 12345.6789)::DECIMAL(38,4) AS dec38,
      (i * 100000000000)::HUGEINT AS huge
    FROM range(30000) r(i)`);
  const files = [];
  const variants = [
    ['uncompressed', "COMPRESSION uncompressed"],
    ['snappy', "COMPRESSION snappy"],
    ['gzip', "COMPRESSION gzip"],
    ['zstd', "COMPRESSION zstd"],
    ['v2_zstd', "COMPRESSION zstd, PARQUET_VERSION v2"],
    ['v2_snappy', "COMPRESSION snappy, PARQUET_VERSION v2"],
    ['lz4', "COMPRESSION lz4"],
    ['small_groups', "COMPRESSION snappy, ROW_GROUP_SIZE 2048"],
  ];
  for (const [name, opts] of variants) {
    const path = `${dir}/duckdb_${name}.parquet`;
    await conn.run(`COPY t TO ${q(path)} (FORMAT parquet, ${opts})`);
    files.push(path);
  }
  const empty = `${dir}/duckdb_empty.parquet`;
  await conn.run(`COPY (SELECT * FROM t WHERE false) TO ${q(empty)} (FORMAT parquet)`);
  files.push(empty);
  process.stdout.write(JSON.stringify(files));
}

async function query(file, sql) {
  await conn.run(`CREATE VIEW t AS SELECT * FROM read_parquet(${q(file)})`);
  const res = await conn.runAndReadAll(sql);
  process.stdout.write(JSON.stringify(res.getRowsJson()));
}

if (cmd === 'read') await read(args[0]);
else if (cmd === 'gen') await gen(args[0]);
else if (cmd === 'query') await query(args[0], args[1]);
else {
  console.error('usage: parquet_duckdb.mjs read FILE | gen DIR | query FILE SQL');
  process.exit(2);
}
