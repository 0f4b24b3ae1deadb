"""sluice extract from NDJSON files (--input): the reference flows of the
course's Spark jobs, schemas, corrupt records, modes. Outputs are read back
with DuckDB (tests/node/extract_query.mjs)."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import NODE_DIR, SLUICE, run


def duck(*sql):
    """Run queries in DuckDB; one dict per query (columns, rows) or error."""
    p = subprocess.run(["node", str(NODE_DIR / "extract_query.mjs"), *sql], capture_output=True,
                       text=True, timeout=120, cwd=NODE_DIR)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def rows(sql):
    r = duck(sql)[0]
    assert "error" not in r, r["error"]
    return r["rows"]


def columns(path):
    r = duck(f"select * from read_parquet('{path}/*.parquet') limit 0")[0]
    assert "error" not in r, r["error"]
    return {c["name"]: c["type"] for c in r["columns"]}


def flask_event(event_type, host, **extra):
    """An event exactly as the reference Flask app logs it: the event, then
    request.headers merged in, dumped by json.dumps."""
    ev = {"event_type": event_type, **extra}
    ev.update({"Host": host, "User-Agent": "ApacheBench/2.3", "Accept": "*/*"})
    return json.dumps(ev)


def reference_events(knife=False):
    """10 requests each of default and purchase_sword, from user1 and user2."""
    lines = []
    for host in ("user1.comcast.com", "user2.att.com"):
        for et in ("default", "purchase_sword"):
            lines += [flask_event(et, host)] * 10
        if knife:
            lines += [flask_event("purchase_knife", host, description="very sharp knife")] * 5
    return "\n".join(lines) + "\n"


def extract(*args, input=None, check=True):
    return run([SLUICE, "extract", "--no-progress", *map(str, args)], input=input, check=check)


def test_extract_reference_purchases_table_from_file(tmp_path):
    src = tmp_path / "events.ndjson"
    src.write_text(reference_events())
    out = tmp_path / "lake" / "purchases"
    p = extract("--input", src, "-o", out, "--where", "event_type = 'purchase_sword'")
    assert "read 40 records: 20 written, 20 filtered out, 0 corrupt" in p.stdout
    assert "table 'purchases': 20 rows" in p.stdout
    assert (out / "_SUCCESS").exists()
    r = rows(f"select count(*) as n, count(*) filter (where Host = 'user1.comcast.com') as u1 "
             f"from read_parquet('{out}/*.parquet')")
    assert r == [{"n": 20, "u1": 10}]
    cols = columns(out)
    assert list(cols) == ["Accept", "Host", "User-Agent", "event_type", "timestamp"]
    ts = rows(f"select timestamp from read_parquet('{out}/*.parquet') limit 1")[0]["timestamp"]
    assert len(ts) == 23 and ts[4] == "-" and ts[10] == " " and ts[19] == "."


def test_extract_where_matches_columns_case_insensitively(tmp_path):
    src = tmp_path / "events.ndjson"
    src.write_text(reference_events())
    out = tmp_path / "u1"
    p = extract("--input", src, "-o", out, "--where",
                "host = 'user1.comcast.com' AND EVENT_TYPE IN ('default', 'purchase_sword')")
    assert "20 written" in p.stdout


def test_extract_split_by_event_type_gives_each_table_its_schema(tmp_path):
    src = tmp_path / "events.ndjson"
    src.write_text(reference_events(knife=True))
    out = tmp_path / "lake"
    p = extract("--input", src, "-o", out, "--split-by", "event_type")
    assert "read 50 records: 50 written" in p.stdout
    tables = sorted(d.name for d in out.iterdir() if d.is_dir())
    assert tables == ["default", "purchase_knife", "purchase_sword"]
    for t in tables:
        assert (out / t / "_SUCCESS").exists()
        assert ("description" in columns(out / t)) == (t == "purchase_knife")
    r = rows(f"select count(*) as n, min(description) as d "
             f"from read_parquet('{out}/purchase_knife/*.parquet')")
    assert r == [{"n": 10, "d": "very sharp knife"}]


def test_extract_set_munges_like_the_reference_job(tmp_path):
    src = tmp_path / "events.ndjson"
    src.write_text(reference_events())
    out = tmp_path / "munged"
    extract("--input", src, "-o", out, "--set", "Host=moe", "--set", "Cache-Control=no-cache")
    r = rows(f"select distinct Host, \"Cache-Control\" as cc from read_parquet('{out}/*.parquet')")
    assert r == [{"Host": "moe", "cc": "no-cache"}]


def test_extract_corrupt_records_go_to_corrupt_table_with_reasons(tmp_path):
    src = tmp_path / "mixed.ndjson"
    src.write_bytes(b'{"event_type":"default"}\n'
                    b'not json at all\n'
                    b'[1,2,3]\n'
                    b'{"event_type":"default",}\n'
                    b'\n'
                    b'"just a string"\n'
                    b'{"bad_utf8":"\xff"}\n'
                    b'{"event_type":"purchase_sword"}')  # no final newline
    out = tmp_path / "t"
    p = extract("--input", src, "-o", out)
    assert "read 7 records: 2 written, 0 filtered out, 5 corrupt" in p.stdout
    assert "table '_corrupt': 5 rows" in p.stdout
    r = rows(f"select _partition, _offset, raw, error from read_parquet('{out}/_corrupt/*.parquet') "
             f"order by _offset")
    assert [x["_offset"] for x in r] == [2, 3, 4, 6, 7]
    assert r[0]["raw"] == "not json at all" and "invalid JSON at byte 0" in r[0]["error"]
    assert r[1]["error"] == "record is not a JSON object"
    assert "byte 24" in r[2]["error"]
    assert "UTF-8" in r[4]["error"] and r[4]["raw"] == '{"bad_utf8":"\ufffd"}'
    assert rows(f"select count(*) as n from read_parquet('{out}/*.parquet')") == [{"n": 2}]


def test_extract_input_is_one_record_per_line(tmp_path):
    src = tmp_path / "lines.ndjson"
    src.write_bytes(b'{"a":1}\r\n'           # CRLF
                    b'  {"a":2}\n'            # leading blanks
                    b'{"a":3} {"a":4}\n'      # two values on a line
                    b'{"a":\n5}\n'            # one value spread over two lines
                    b'{"a":6}   \n')          # trailing blanks
    out = tmp_path / "t"
    p = extract("--input", src, "-o", out)
    assert "read 6 records: 3 written, 0 filtered out, 3 corrupt" in p.stdout
    assert rows(f"select a from read_parquet('{out}/*.parquet') order by a") == [
        {"a": 1}, {"a": 2}, {"a": 6}]
    r = rows(f"select _offset, raw from read_parquet('{out}/_corrupt/*.parquet') order by _offset")
    assert r == [{"_offset": 3, "raw": '{"a":3} {"a":4}'}, {"_offset": 4, "raw": '{"a":'},
                 {"_offset": 5, "raw": "5}"}]


def test_extract_file_line_numbers_hold_across_parallel_slices(tmp_path):
    # a file is cut into one slice per worker: offsets of every slice are
    # still the records' line numbers in the whole file
    src = tmp_path / "big.ndjson"
    lines = [json.dumps({"n": i}) for i in range(1, 20001)]
    lines[14999] = "not json"  # line 15000, in the second half
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "t"
    p = extract("--meta", "--threads", "3", "--input", src, "-o", out)
    assert "read 20000 records: 19999 written, 0 filtered out, 1 corrupt" in p.stdout
    assert rows(f"select count(*) as bad from read_parquet('{out}/*.parquet') where _offset != n") == [{"bad": 0}]
    assert rows(f"select _offset from read_parquet('{out}/_corrupt/*.parquet')") == [{"_offset": 15000}]


@pytest.mark.parametrize("threads", [1, 2])
def test_extract_large_file_keeps_every_row_in_row_groups_on_any_thread_count(tmp_path, threads):
    # Workers unmap the parsed middle of their slices early; unmapping the
    # file at the end must not take back those addresses, which the tables
    # written afterwards may have been given (one thread crashed on that).
    src = tmp_path / "big.ndjson"
    with open(src, "w") as f:
        for i in range(300_000):
            f.write(json.dumps({"n": i, "event_type": "purchase_sword", "Host": "user1.comcast.com",
                                "price": i / 4}) + "\n")
    out = tmp_path / "t"
    p = extract("--threads", threads, "--input", src, "-o", out)
    assert "read 300000 records: 300000 written" in p.stdout
    assert rows(f"select count(*) as c, sum(n) as s, sum(price) as p "
                f"from read_parquet('{out}/*.parquet')") == [
        {"c": 300_000, "s": 299_999 * 300_000 // 2, "p": 299_999 * 300_000 / 8}]
    # parts are written in row groups of DuckDB's size, not one per part
    groups = {}
    for g in rows(f"select distinct file_name as f, row_group_id as g, row_group_num_rows as n "
                  f"from parquet_metadata('{out}/*.parquet') order by f, g"):
        groups.setdefault(g["f"], []).append(g["n"])
    assert sum(n for ns in groups.values() for n in ns) == 300_000
    assert all(ns[:-1] == [131_072] * (len(ns) - 1) for ns in groups.values()), groups
    assert max(len(ns) for ns in groups.values()) >= 2, groups


def test_extract_streamed_parts_take_a_late_type_change(tmp_path):
    # A batch run streams each table to its part while the schema holds; a
    # column that turns from int64 to string after many streamed rows makes
    # it read those rows back and write the part again, as text.
    src = tmp_path / "late.ndjson"
    with open(src, "w") as f:
        for i in range(100_000):
            n = f"s{i}" if i >= 90_000 and i % 2 else i
            f.write(json.dumps({"event_type": "purchase_sword", "n": n, "i": i}) + "\n")
    out = tmp_path / "t"
    p = extract("--threads", 2, "--input", src, "-o", out)
    assert "read 100000 records: 100000 written" in p.stdout
    assert columns(out)["n"] == "VARCHAR"
    assert rows(f"select count(*) as c, sum(i) as s, count(distinct n) as d, "
                f"sum(case when n = cast(i as varchar) then 1 else 0 end) as same "
                f"from read_parquet('{out}/*.parquet')") == [
        {"c": 100_000, "s": 99_999 * 100_000 // 2, "d": 100_000, "same": 95_000}]


@pytest.mark.parametrize("threads", [1, 2])
def test_extract_spilled_parts_all_take_the_final_schema(tmp_path, threads):
    # --mem-max 1 spills a part every few thousand rows; `n` turns from
    # int64 to string and `late` appears only after most of them. Every part
    # is written again with the final schema, so a reader that takes the
    # schema of one file (DuckDB without union_by_name, Spark without
    # mergeSchema) reads the table whole, with every value as if buffered.
    src = tmp_path / "spill.ndjson"
    with open(src, "w") as f:
        for i in range(60_000):
            row = {"event_type": "e", "n": f"s{i}" if i >= 50_000 else i, "i": i,
                   "pad": f"{i:040d}"}
            if i >= 55_000:
                row["late"] = True
            f.write(json.dumps(row) + "\n")
    out = tmp_path / "t"
    p = extract("--threads", threads, "--mem-max", 1, "--input", src, "-o", out)
    assert "read 60000 records: 60000 written" in p.stdout
    parts = sorted(out.glob("*.parquet"))
    assert len(parts) > 4, "expected several spilled parts"
    want = {"event_type": "VARCHAR", "i": "BIGINT", "late": "BOOLEAN", "n": "VARCHAR",
            "pad": "VARCHAR", "timestamp": "VARCHAR"}
    for part in parts:
        r = duck(f"select * from read_parquet('{part}') limit 0")[0]
        assert {c["name"]: c["type"] for c in r["columns"]} == want, part
    assert rows(f"select count(*) as c, sum(i) as s, count(late) as l, "
                f"sum(case when n = cast(i as varchar) then 1 else 0 end) as same, "
                f"sum(case when n = 's' || cast(i as varchar) then 1 else 0 end) as text "
                f"from read_parquet('{out}/*.parquet')") == [
        {"c": 60_000, "s": 59_999 * 60_000 // 2, "l": 5_000, "same": 50_000, "text": 10_000}]
    assert not list(out.glob("*.tmp"))


def test_extract_split_into_more_tables_than_stream_at_once(tmp_path):
    # One worker streams at most 16 tables at once; the others buffer.
    src = tmp_path / "many.ndjson"
    with open(src, "w") as f:
        for i in range(20 * 17_000):
            f.write(json.dumps({"event_type": f"t{i % 20}", "i": i}) + "\n")
    out = tmp_path / "lake"
    p = extract("--threads", 1, "--split-by", "event_type", "--input", src, "-o", out)
    assert "read 340000 records: 340000 written" in p.stdout
    assert rows(f"select count(distinct event_type) as t, count(*) as c, sum(i) as s "
                f"from read_parquet('{out}/*/*.parquet')") == [
        {"t": 20, "c": 340_000, "s": 339_999 * 340_000 // 2}]


def test_extract_refuses_an_output_inside_a_table(tmp_path):
    # A table inside a split output (or another table) would be swapped in
    # and out under its own lock, inside a directory the outer table's
    # commits replace: refused before any work, and nothing changes.
    src = tmp_path / "e.ndjson"
    src.write_text(reference_events())
    lake = tmp_path / "lake"
    extract("--split-by", "event_type", "--input", src, "-o", lake / "ev")
    before = sorted(str(p.relative_to(lake)) for p in lake.rglob("*"))
    for out in (lake / "ev" / "default", lake / "ev" / "default" / "deeper"):
        p = extract("--mode", "overwrite", "--input", src, "-o", out, check=False)
        assert p.returncode == 2
        assert "is inside the table" in p.stderr and "ev" in p.stderr
    assert sorted(str(p.relative_to(lake)) for p in lake.rglob("*")) == before


def test_extract_widens_conflicting_types(tmp_path):
    src = tmp_path / "w.ndjson"
    src.write_text('{"a":1,"b":1,"c":true,"d":1}\n'
                   '{"a":2.5,"b":"two","c":3,"d":2}\n'
                   '{"a":3,"b":null,"c":false}\n')
    out = tmp_path / "w"
    extract("--input", src, "-o", out)
    cols = columns(out)
    assert cols["a"] == "DOUBLE" and cols["b"] == "VARCHAR" and cols["c"] == "VARCHAR"
    assert cols["d"] == "BIGINT"
    r = rows(f"select a, b, c, d from read_parquet('{out}/*.parquet')")
    assert r == [{"a": 1.0, "b": "1", "c": "true", "d": 1},
                 {"a": 2.5, "b": "two", "c": "3", "d": 2},
                 {"a": 3.0, "b": None, "c": "false", "d": None}]


def test_extract_flattens_nested_objects_and_keeps_arrays_as_json(tmp_path):
    src = tmp_path / "n.ndjson"
    src.write_text('{"event_type":"x","user":{"id":7,"geo":{"country":"NZ","lat":-41.3}},'
                   '"tags":["a","b"],"empty":{}}\n')
    out = tmp_path / "n"
    extract("--input", src, "-o", out)
    cols = columns(out)
    assert cols["user_id"] == "BIGINT" and cols["user_geo_country"] == "VARCHAR"
    assert cols["user_geo_lat"] == "DOUBLE" and cols["tags"] == "VARCHAR"
    assert "empty" not in cols and "user" not in cols
    r = rows(f"select user_id, user_geo_country, tags from read_parquet('{out}/*.parquet')")
    assert r == [{"user_id": 7, "user_geo_country": "NZ", "tags": '["a","b"]'}]


def test_extract_modes_error_append_overwrite(tmp_path):
    src = tmp_path / "e.ndjson"
    src.write_text(reference_events())
    out = tmp_path / "t"
    extract("--input", src, "-o", out)
    first = set(out.glob("*.parquet"))
    p = extract("--input", src, "-o", out, check=False)
    assert p.returncode == 1 and "already exists" in p.stderr and p.stderr.count("\n") == 1
    extract("--input", src, "-o", out, "--mode", "append")
    assert rows(f"select count(*) as n from read_parquet('{out}/*.parquet')") == [{"n": 80}]
    appended = set(out.glob("*.parquet"))
    assert first < appended  # the old parts are kept, new ones added (how many: the workers')
    extract("--input", src, "-o", out, "--mode", "overwrite", "--where", "event_type = 'default'")
    assert rows(f"select count(*) as n from read_parquet('{out}/*.parquet')") == [{"n": 20}]
    assert not (set(out.glob("*.parquet")) & appended)  # every old part is gone
    assert not list(tmp_path.glob(".t.v-*"))  # no leftover versions


def test_extract_reads_stdin_and_adds_meta_columns(tmp_path):
    out = tmp_path / "m"
    p = extract("--input", "-", "-o", out, "--meta", input='{"a":1}\n{"a":2}\n')
    assert "read 2 records" in p.stdout
    cols = columns(out)
    assert list(cols)[:3] == ["_partition", "_offset", "_ts"]
    assert cols["_ts"].startswith("TIMESTAMP")
    r = rows(f"select _partition, _offset, a from read_parquet('{out}/*.parquet') order by a")
    assert r == [{"_partition": 0, "_offset": 1, "a": 1}, {"_partition": 0, "_offset": 2, "a": 2}]


@pytest.mark.parametrize("expr", ["event_type =", "event_type = 'x", "(a = 1", "a = = 1",
                                  "a IN 1", "5", "a LIKE 1"])
def test_extract_bad_where_is_a_usage_error_before_any_work(tmp_path, expr):
    out = tmp_path / "never"
    p = extract("--input", "/nonexistent.ndjson", "-o", out, "--where", expr, check=False)
    assert p.returncode == 2
    assert "bad --where expression at column" in p.stderr
    assert not out.exists()


def test_extract_usage_errors_exit_2(tmp_path):
    assert extract("-o", tmp_path / "x", check=False).returncode == 2
    assert extract("--input", "-", check=False).returncode == 2
    assert extract("--input", "-", "-o", tmp_path / "x", "--mode", "bogus",
                   check=False).returncode == 2
    assert extract("--input", "-", "-o", tmp_path / "x", "--set", "novalue",
                   check=False).returncode == 2
    p = extract("--input", "/nonexistent.ndjson", "-o", tmp_path / "x", check=False)
    assert p.returncode == 1 and "cannot open '/nonexistent.ndjson'" in p.stderr


def test_extract_is_quiet_off_a_terminal_and_draws_progress_on_one(tmp_path):
    src = tmp_path / "e.ndjson"
    src.write_text(reference_events())
    p = run([SLUICE, "extract", "--input", str(src), "-o", str(tmp_path / "a")])
    assert p.stderr == ""  # stderr is a pipe here: no progress bar
    # on a terminal (script(1) gives the command a pty) the bar is drawn
    p = run(["script", "-qec", f"{SLUICE} extract --input {src} -o {tmp_path / 'b'}", "/dev/null"])
    assert "extract: 40 records" in p.stdout and "100%" in p.stdout
