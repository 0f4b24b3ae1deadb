// extract_query.mjs: run SQL queries in DuckDB and print the results as JSON,
// for the extract integration tests (tests/integration/test_50_extract_*.py).
//
//   node extract_query.mjs "SQL" ["SQL" ...]
//
// Prints one JSON line per query: {"columns":[{"name","type"}],"rows":[{...}]}
// (BIGINT as JSON numbers when exact, else strings; timestamps as ISO text),
// or {"error":"..."} when a query fails (exit status stays 0 so callers can
// inspect the error, e.g. a file that vanished during an overwrite).
import { DuckDBInstance } from '@duckdb/node-api';

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
for (const sql of process.argv.slice(2)) {
  try {
    const reader = await conn.runAndReadAll(sql);
    const names = reader.columnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    const rows = reader.getRowObjectsJS();
    const out = { columns: names.map((n, i) => ({ name: n, type: types[i] })), rows };
    console.log(JSON.stringify(out, (k, v) => (typeof v === 'bigint'
      ? (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString())
      : v)));
  } catch (e) {
    console.log(JSON.stringify({ error: String(e.message || e) }));
  }
}
