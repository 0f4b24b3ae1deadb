// parquet_bench.mjs: DuckDB's side of bench/parquet/run, on one thread.
//   node parquet_bench.mjs FILE ROWS [codec]
// Generates the same event table as tests/tools/pq_bench.c with SQL, writes it
// with COPY TO parquet, then scans it touching every column. Prints
//   write ROWS SECONDS BYTES cpu=S
//   read ROWS SECONDS cpu=S      (cpu: the process's CPU time, all threads)
import { statSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [file, rowsArg, codec = 'snappy'] = process.argv.slice(2);
const rows = Number(rowsArg);
const inst = await DuckDBInstance.create(':memory:');
const conn = await inst.connect();
await conn.run('SET threads=1');
await conn.run("SET preserve_insertion_order=true");

const uas = Array.from({ length: 20 }, (_, k) => `'Mozilla/5.0 (X11; Linux x86_64; agent ${k}) Gecko/20100101'`);
const remotes = "'user-' || (i % 5000)";
const sql = `SELECT
  ['default', 'purchase_sword', 'purchase_knife', 'join_guild'][((i * 2654435761) % 4) + 1] AS event_type,
  ['localhost:5000', 'user1.comcast.com', 'user2.att.com'][((i * 7919) % 3) + 1] AS "Host",
  [${uas.join(', ')}][((i * 31) % 20) + 1] AS "User-Agent",
  CASE WHEN i % 10 = 0 THEN NULL ELSE ['*/*', 'text/html,application/xhtml+xml', 'application/json'][((i * 13) % 3) + 1] END AS "Accept",
  make_timestamp(1700000000000000 + i * 1000 + (i * 7) % 1000) AS "timestamp",
  ((i * 2654435761) % 100000)::BIGINT AS user_id,
  (i // 50)::BIGINT AS session_id,
  CASE WHEN i % 5 = 0 THEN NULL ELSE ((i * 37) % 10000) / 100.0 END::DOUBLE AS price,
  i % 3 = 0 AS is_new,
  CASE WHEN i % 7 = 0 THEN NULL ELSE ${remotes} END AS remote_user
FROM range(${rows}) r(i)`;

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
let t0 = performance.now(), c0 = cpu();
await conn.run(`COPY (${sql}) TO '${file}' (FORMAT parquet, COMPRESSION ${codec})`);
let t = (performance.now() - t0) / 1000, c = cpu() - c0;
console.log(`write ${rows} ${t.toFixed(3)} ${statSync(file).size} cpu=${c.toFixed(3)}`);

t0 = performance.now();
c0 = cpu();
const res = await conn.runAndReadAll(`SELECT count(*), sum(strlen(event_type)), sum(strlen("Host")),
  sum(strlen("User-Agent")), sum(strlen("Accept")), sum(epoch_us("timestamp")), sum(user_id),
  sum(session_id), sum(price), sum(is_new::INT), sum(strlen(remote_user))
  FROM read_parquet('${file}')`);
t = (performance.now() - t0) / 1000;
c = cpu() - c0;
const n = res.getRowsJson()[0][0];
console.log(`read ${n} ${t.toFixed(3)} cpu=${c.toFixed(3)}`);
