"""Parquet interop: DuckDB and hyparquet read the files sluice writes with the
same values and types, and sluice reads the files DuckDB writes (every type,
every codec, data page v2) with the same values as DuckDB itself.

sluice's side: tests/tools/pq_gen (writes a random event table and prints the
rows it wrote) and `sluice parquet [--rows]`. The peers' side:
tests/node/parquet_duckdb.mjs and tests/node/parquet_hyparquet.mjs.
"""
import json
import math
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLUICE = os.environ.get("SLUICE", str(ROOT / "build" / "sluice"))
BUILD = Path(os.environ.get("SLUICE_BUILD", str(ROOT / "build")))
NODE_DIR = ROOT / "tests" / "node"
PQ_GEN = str(BUILD / "pq_gen")

# What sluice's writer promises each peer will see, by pq_gen column.
DUCKDB_TYPES = {
    "event_type": "VARCHAR", "Host": "VARCHAR", "User-Agent": "VARCHAR", "n": "BIGINT",
    "id": "BIGINT", "price": "DOUBLE", "flag": "BOOLEAN", "ts": "TIMESTAMP WITH TIME ZONE",
    "ts_ms": "TIMESTAMP WITH TIME ZONE", "nothing": "VARCHAR", "nothing_i": "BIGINT",
    "text": "VARCHAR",
}
TS_UNIT = {"ts": "us", "ts_ms": "ms"}


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def node(script, *args):
    p = run(["node", str(NODE_DIR / script), *map(str, args)], cwd=NODE_DIR)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def gen(path, *args):
    p = run([PQ_GEN, str(path), *map(str, args)])
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def sluice_rows(path):
    p = run([SLUICE, "parquet", "--rows", str(path)])
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def sluice_schema(path):
    """[(name, type, unit)] from `sluice parquet FILE`."""
    p = run([SLUICE, "parquet", str(path)])
    assert p.returncode == 0, p.stderr
    cols = []
    for m in re.finditer(r"^  \d+ (.+?): (\w+)(?:\((\w+))?", p.stdout, re.M):
        cols.append((m.group(1), m.group(2), m.group(3)))
    return cols, p.stdout


def same_float(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    return a == b or (math.isnan(a) and math.isnan(b))


def to_us(v, unit):
    return v * 1000 if unit == "ms" else v // 1000 if unit == "ns" else v


CASES = [
    ("none", []), ("snappy", []), ("gzip", []), ("zstd", []),
    ("snappy", ["--row-group-rows", "700", "--page-rows", "97"]),
    ("zstd", ["--no-dict", "--page-rows", "1000"]),
    ("snappy", ["--long", "--rows", "300"]),
    ("snappy", ["--rows", "0"]),
]


@pytest.mark.parametrize("codec,extra", CASES, ids=[f"{c}{''.join(e)}" for c, e in CASES])
def test_duckdb_and_hyparquet_read_sluice_files_identically(tmp_path, codec, extra):
    path = tmp_path / f"t.{codec}.parquet"
    args = ["--codec", codec, "--seed", len(extra) + 7]
    if "--rows" not in extra:
        args += ["--rows", 5000]
    want = gen(path, *args, *extra)
    names = list(DUCKDB_TYPES)

    # sluice reads its own file back
    assert sluice_rows(path) == want

    duck = node("parquet_duckdb.mjs", "read", path)
    assert [c["name"] for c in duck["columns"]] == names
    assert {c["name"]: c["type"] for c in duck["columns"]} == DUCKDB_TYPES
    assert len(duck["rows"]) == len(want)
    for i, (row, exp) in enumerate(zip(duck["rows"], want)):
        for name, got in zip(names, row):
            e = exp[name]
            if e is None or got is None:
                assert got is None and e is None, (i, name, got, e)
            elif DUCKDB_TYPES[name] in ("BIGINT",):
                assert int(got) == e, (i, name)
            elif name in TS_UNIT:
                assert int(got) == to_us(e, TS_UNIT[name]), (i, name)
            elif DUCKDB_TYPES[name] == "DOUBLE":
                assert same_float(got, e), (i, name, got, e)
            else:
                assert got == e, (i, name)

    hyp = node("parquet_hyparquet.mjs", path)
    cols = {c["name"]: c for c in hyp["columns"]}
    assert cols["event_type"]["converted"] == "UTF8" and cols["event_type"]["logical"] == "STRING"
    assert cols["ts"]["converted"] == "TIMESTAMP_MICROS" and cols["ts"]["logical"] == "TIMESTAMP"
    assert cols["ts_ms"]["converted"] == "TIMESTAMP_MILLIS"
    assert cols["n"]["type"] == "INT64" and cols["flag"]["type"] == "BOOLEAN"
    assert len(hyp["rows"]) == len(want)
    for i, (row, exp) in enumerate(zip(hyp["rows"], want)):
        for name, got in zip(names, row):
            e = exp[name]
            if e is None or got is None:
                assert got is None and e is None, (i, name, got, e)
            elif name in ("n", "id", "nothing_i"):
                assert int(got) == e, (i, name)
            elif name in TS_UNIT:
                assert got == to_us(e, TS_UNIT[name]) // 1000, (i, name, got, e)
            elif name == "price":
                assert same_float(got, e), (i, name)
            else:
                assert got == e, (i, name)


@pytest.mark.parametrize("codec", ["none", "snappy"])
def test_hyparquet_reads_sluice_default_codecs_without_plugins(tmp_path, codec):
    path = tmp_path / "t.parquet"
    want = gen(path, "--codec", codec, "--rows", 500)
    p = run(["node", str(NODE_DIR / "parquet_hyparquet.mjs"), str(path), "--no-compressors"],
            cwd=NODE_DIR)
    assert p.returncode == 0, p.stderr
    assert len(json.loads(p.stdout)["rows"]) == len(want)


def test_duckdb_filters_agree_with_sluice_statistics(tmp_path):
    """Wrong min/max or null_count make DuckDB skip row groups it needs."""
    path = tmp_path / "t.parquet"
    want = gen(path, "--rows", 6000, "--row-group-rows", 1000, "--seed", 3)
    checks = [
        ("SELECT count(*) FROM t WHERE id > 4321", sum(r["id"] > 4321 for r in want)),
        ("SELECT count(*) FROM t WHERE n IS NULL", sum(r["n"] is None for r in want)),
        ("SELECT count(*) FROM t WHERE event_type = 'join_guild'",
         sum(r["event_type"] == "join_guild" for r in want)),
        ("SELECT count(*) FROM t WHERE \"User-Agent\" >= 'quote'",
         sum(r["User-Agent"] is not None and r["User-Agent"].encode() >= b"quote" for r in want)),
        ("SELECT count(*) FROM t WHERE price < -4000",
         sum(r["price"] is not None and r["price"] < -4000 for r in want)),
        ("SELECT count(*) FROM t WHERE nothing IS NOT NULL", 0),
    ]
    for sql, n in checks:
        got = node("parquet_duckdb.mjs", "query", path, sql)
        assert int(got[0][0]) == n, sql


@pytest.fixture(scope="module")
def duckdb_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("duckdb")
    return node("parquet_duckdb.mjs", "gen", d)


def test_sluice_reads_duckdb_files_identically(duckdb_files):
    names = [Path(f).name for f in duckdb_files]
    for want in ("uncompressed", "snappy", "gzip", "zstd", "v2_zstd"):
        assert f"duckdb_{want}.parquet" in names
    for f in duckdb_files:
        cols, text = sluice_schema(f)
        duck = node("parquet_duckdb.mjs", "read", f)
        assert [c[0] for c in cols] == [c["name"] for c in duck["columns"]], f
        ours = sluice_rows(f)
        assert len(ours) == len(duck["rows"]), f
        decimal = {c["name"] for c in duck["columns"] if c["type"].startswith("DECIMAL")}
        for i, (mine, row) in enumerate(zip(ours, duck["rows"])):
            for (name, typ, unit), got in zip(cols, row):
                v = mine[name]
                if name in decimal and v is not None and got is not None:
                    # sluice scales the unscaled integer itself: allow rounding
                    assert math.isclose(v, got, rel_tol=1e-12, abs_tol=1e-9), (f, i, name)
                    continue
                if v is None or got is None:
                    assert v is None and got is None, (f, i, name, v, got)
                elif typ == "timestamp":
                    assert to_us(v, unit) == int(got), (f, i, name)
                elif typ in ("int64", "date"):
                    assert v == int(got), (f, i, name)
                elif typ == "double":
                    assert same_float(v, got), (f, i, name, v, got)
                else:
                    assert v == got, (f, i, name)


def test_sluice_parquet_describes_duckdb_v2_file(duckdb_files):
    f = next(x for x in duckdb_files if x.endswith("duckdb_v2_zstd.parquet"))
    cols, text = sluice_schema(f)
    types = {n: t for n, t, _ in cols}
    assert types["i32"] == "int64" and types["f32"] == "double" and types["dt"] == "date"
    assert types["dec"] == "double" and types["tstz"] == "timestamp"
    assert types["i8"] == "int64" and types["u32"] == "int64" and types["dec38"] == "double"
    assert types["ts_ns"] == "timestamp" and types["ts_ms"] == "timestamp"
    assert "ZSTD" in text and "created_by: DuckDB" in text
    assert "rows: 30000" in text


def test_sluice_parquet_fails_cleanly_on_a_truncated_file(tmp_path):
    path = tmp_path / "cut.parquet"
    gen(path, "--rows", 100)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    p = run([SLUICE, "parquet", str(path)])
    assert p.returncode == 1
    assert "cut.parquet" in p.stderr and "not a parquet file" in p.stderr
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(data[:-12] + b"\xff\xff\xff\x7f" + data[-8:])
    p = run([SLUICE, "parquet", "--rows", str(bad)])
    assert p.returncode == 1 and "bad.parquet" in p.stderr
    p = run([SLUICE, "parquet"])
    assert p.returncode == 2


def test_sluice_parquet_describes_its_own_file(tmp_path):
    path = tmp_path / "t.zstd.parquet"
    want = gen(path, "--codec", "zstd", "--rows", 3000, "--row-group-rows", 1000)
    cols, text = sluice_schema(path)
    assert [c[0] for c in cols] == list(DUCKDB_TYPES)
    assert ("ts_ms", "timestamp", "ms") in cols and ("flag", "bool", None) in cols
    assert "rows: 3000" in text and "row groups: 3" in text
    assert "created_by: sluice version" in text
    assert 'metadata sluice.schema: {"columns":[{"name":"event_type","type":"string"' in text
    assert "metadata generator: pq_gen" in text
    chunk = re.search(r"^  event_type: (\w+), 1000 values, (\d+) bytes \((\d+) uncompressed\) "
                      r"at (\d+), encodings ([A-Z_ ]+), dictionary, nulls (\d+), "
                      r'min "(\w+)", max "(\w+)"$', text, re.M)
    assert chunk, text
    assert chunk.group(1) == "ZSTD" and "RLE_DICTIONARY" in chunk.group(5)
    first = want[:1000]
    assert int(chunk.group(6)) == sum(r["event_type"] is None for r in first)
    present = sorted(r["event_type"] for r in first if r["event_type"] is not None)
    assert (chunk.group(7), chunk.group(8)) == (present[0], present[-1])
    assert re.search(r"^  nothing_i: ZSTD, 1000 values, .* nulls 1000$", text, re.M)


def test_writer_memory_is_bounded_by_the_row_group(tmp_path):
    """10x the rows (about 9 row groups instead of one) must not need 10x the memory."""
    bench = str(BUILD / "pq_bench")

    def maxrss(rows):
        p = run([bench, "write", str(tmp_path / f"m{rows}.parquet"), str(rows)])
        assert p.returncode == 0, p.stderr
        return int(re.search(r"maxrss_mb=(\d+)", p.stdout).group(1))

    small, big = maxrss(800_000), maxrss(8_000_000)
    assert big < small * 2 + 16, (small, big)
