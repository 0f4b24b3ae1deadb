// sql_duckdb.mjs: DuckDB, the peer `sluice sql` is checked and measured against.
//
//   node sql_duckdb.mjs gen DIR [ROWS]     write the test lake under DIR (see below)
//   node sql_duckdb.mjs query SPEC.json    run queries, print JSON results
//   node sql_duckdb.mjs gen-mixed DIR      write DIR/mixed/, part files of two schemas
//   node sql_duckdb.mjs bench DIR ROWS     write DIR/big/ (ROWS rows) for bench/sql
//
// gen writes, with DuckDB's own Parquet writer (snappy):
//   DIR/purchases/  the week-12 purchases table (Accept, Host, User-Agent,
//                   event_type, timestamp as text), two part files + _SUCCESS
//   DIR/events/     typed columns (BIGINT, DOUBLE, INTEGER, BOOLEAN, TIMESTAMP,
//                   DATE, VARCHAR) with NULLs, 1000-row row groups, two files
//   DIR/users/      user_id, name, country: the other side of a join
//
// query SPEC: {"views": {"name": "dir"}, "queries": ["SQL", ...]}; prints
// {"results": [{"columns": [...], "rows": [[...]]} | {"error": "..."}], "ms": [...],
//  "cpu_ms": [...]} (wall and CPU time, all threads, per query)
// with BIGINT as numbers, booleans as 0/1, dates and timestamps as text.
// With "csv": true each query runs as COPY (query) TO '/dev/null' (FORMAT csv):
// DuckDB prints its result as CSV, as `sluice sql --csv` does (benchmarks).
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';

const [cmd, arg1, arg2] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();

function plain(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'string') return v;
  return v.toString();
}

if (cmd === 'gen') {
  const dir = arg1;
  const n = Number(arg2 || 5000);
  for (const t of ['purchases', 'events', 'users']) fs.mkdirSync(`${dir}/${t}`, { recursive: true });
  const purchases = (lo, hi) => `SELECT
      '*/*' AS "Accept",
      CASE WHEN i % 3 = 0 THEN 'user2.att.com' ELSE 'user1.comcast.com' END AS "Host",
      CASE WHEN i % 5 = 0 THEN 'ApacheBench/2.3' ELSE 'curl/7.47.0' END AS "User-Agent",
      'purchase_sword' AS event_type,
      strftime(TIMESTAMP '2018-04-02 18:09:29' + INTERVAL (i * 1500) MILLISECOND, '%Y-%m-%d %H:%M:%S.%g') AS "timestamp"
    FROM range(${lo}, ${hi}) t(i)`;
  await con.run(`COPY (${purchases(0, 12)}) TO '${dir}/purchases/part-00000-a.snappy.parquet' (FORMAT parquet)`);
  await con.run(`COPY (${purchases(12, 20)}) TO '${dir}/purchases/part-00001-a.snappy.parquet' (FORMAT parquet)`);
  fs.writeFileSync(`${dir}/purchases/_SUCCESS`, '');
  const events = (lo, hi) => `SELECT i AS id, i % 50 AS user_id,
      'user' || (i % 7) || '.example.com' AS host,
      CASE i % 4 WHEN 0 THEN 'purchase_sword' WHEN 1 THEN 'purchase_knife'
                 WHEN 2 THEN 'default' ELSE 'join_guild' END AS event_type,
      CASE WHEN i % 11 = 0 THEN NULL ELSE ((i * 37) % 1000) / 10.0 END AS price,
      ((i * 13) % 9)::INTEGER AS qty,
      CASE WHEN i % 13 = 0 THEN NULL ELSE i % 3 = 0 END AS ok,
      TIMESTAMP '2026-11-01 00:00:00' + INTERVAL (i * 61001) MILLISECOND AS ts,
      DATE '2026-01-01' + (i % 300)::INTEGER AS day,
      CASE WHEN i % 5 = 0 THEN NULL ELSE 'note ' || (i % 17) END AS note
    FROM range(${lo}, ${hi}) t(i)`;
  const half = Math.floor(n / 2);
  await con.run(`COPY (${events(0, half)}) TO '${dir}/events/part-00000.parquet' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  await con.run(`COPY (${events(half, n)}) TO '${dir}/events/part-00001.parquet' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  await con.run(`COPY (SELECT i AS user_id, 'name' || i AS name,
      CASE WHEN i % 3 = 0 THEN 'us' WHEN i % 3 = 1 THEN 'fr' ELSE NULL END AS country
    FROM range(0, 40) t(i)) TO '${dir}/users/users.parquet' (FORMAT parquet)`);
} else if (cmd === 'gen-mixed') {
  // DIR/mixed/: two part files whose schemas differ (a column only in the
  // second, another only in the first): read with union-by-name semantics.
  const dir = arg1;
  fs.mkdirSync(`${dir}/mixed`, { recursive: true });
  await con.run(`COPY (SELECT i AS id, 'h' || (i % 3) AS host, (i * 0.5)::DOUBLE AS price, 'a' || (i % 4) AS only_a
    FROM range(0, 3000) t(i)) TO '${dir}/mixed/part-0.parquet' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  await con.run(`COPY (SELECT i AS id, 'h' || (i % 5) AS host, (i * 0.25)::DOUBLE AS price, (i % 7) AS only_b
    FROM range(3000, 5000) t(i)) TO '${dir}/mixed/part-1.parquet' (FORMAT parquet)`);
} else if (cmd === 'bench') {
  const dir = arg1;
  const n = Number(arg2);
  fs.mkdirSync(`${dir}/big`, { recursive: true });
  // 10 event types; host has 20 values: host = 'user7.example.com' is 5% of rows.
  await con.run(`COPY (SELECT i AS id, (hash(i) % 100000)::BIGINT AS user_id,
      'user' || (hash(i * 7) % 20) || '.example.com' AS host,
      'event_' || (i % 10) AS event_type,
      ((hash(i * 3) % 100000) / 100.0)::DOUBLE AS price,
      (hash(i * 5) % 10)::BIGINT AS qty,
      TIMESTAMP '2026-01-01' + INTERVAL (i) SECOND AS ts
    FROM range(0, ${n}) t(i)) TO '${dir}/big/part-00000.parquet' (FORMAT parquet)`);
} else if (cmd === 'query') {
  const spec = JSON.parse(fs.readFileSync(arg1, 'utf8'));
  for (const [name, dir] of Object.entries(spec.views || {}))
    await con.run(`CREATE VIEW "${name}" AS SELECT * FROM read_parquet('${dir}/**/*.parquet', union_by_name = true)`);
  const results = [], ms = [], cpu_ms = [];
  for (const q of spec.queries) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    try {
      const r = await con.runAndReadAll(spec.csv ? `COPY (${q}) TO '/dev/null' (FORMAT csv)` : q);
      const rows = r.getRows().map((row) => row.map(plain));
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const c = process.cpuUsage(c0);
      cpu_ms.push((c.user + c.system) / 1e3);
      results.push({ columns: r.columnNames(), rows });
    } catch (e) {
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      cpu_ms.push(0);
      results.push({ error: String(e.message || e) });
    }
  }
  process.stdout.write(JSON.stringify({ results, ms, cpu_ms }) + '\n');
} else {
  console.error('usage: node sql_duckdb.mjs gen DIR [ROWS] | query SPEC.json | bench DIR ROWS');
  process.exit(2);
}
