// extract_reader.mjs: a concurrent reader for the overwrite-atomicity test of
// sluice extract. Counts the rows of a table directory in DuckDB over and
// over for SECONDS and prints one JSON line: {"counts":{N:times},"errors":[...]}.
//
//   node extract_reader.mjs DIR SECONDS
//
// Each query lists the directory and reads every file it found, so a
// non-atomic overwrite would show up as a count that is neither the old nor
// the new table's.
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, seconds] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const counts = {};
const errors = [];
const end = Date.now() + Number(seconds) * 1000;
while (Date.now() < end) {
  try {
    const r = await conn.runAndReadAll(`select count(*)::INTEGER as n from read_parquet('${dir}/*.parquet')`);
    const n = r.getRowObjectsJS()[0].n;
    counts[n] = (counts[n] || 0) + 1;
  } catch (e) {
    errors.push(String(e.message || e).slice(0, 200));
  }
}
console.log(JSON.stringify({ counts, errors }));
