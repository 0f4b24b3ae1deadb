// extract_bench.mjs: the DuckDB side of bench/extract/run, the reference
// command of issue 7 on the same NDJSON file sluice extract reads:
//   COPY (SELECT * FROM read_json_auto(SRC)) TO DST (snappy, DuckDB's default)
// DuckDB uses all its default threads. Prints "duckdb <rows> <wall s> <cpu s>"
// (cpu: this process's user+system time for the COPY), then checks the row count.
//
//   node extract_bench.mjs SRC.ndjson DST.parquet
import { DuckDBInstance } from '@duckdb/node-api';

const [src, dst] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const conn = await inst.connect();
const c0 = process.cpuUsage();
const t0 = performance.now();
await conn.run(`COPY (SELECT * FROM read_json_auto('${src}')) TO '${dst}' (FORMAT parquet)`);
const wall = (performance.now() - t0) / 1000;
const c = process.cpuUsage(c0);
const r = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${dst}')`);
const n = r.getRowObjectsJS()[0].n;
console.log(`duckdb ${n} ${wall.toFixed(3)} ${((c.user + c.system) / 1e6).toFixed(3)}`);
