"""sluice sql against DuckDB: the same queries over the same Parquet files
must give the same rows. The files are written by DuckDB (sql_duckdb.mjs gen)
and, in the second half, by `sluice extract` (read by DuckDB too)."""
import json
import re

import pytest

from conftest import NODE_DIR, SLUICE, run

# (sluice query, DuckDB query or None when the text is the same, ordered?)
# Timestamps and dates are text in sluice ('YYYY-MM-DD HH:MM:SS.mmm'); DuckDB
# gets strftime() where it would return a TIMESTAMP. SQLite's LIKE ignores
# ASCII case, so patterns use the data's case.
TS = "strftime({}, '%Y-%m-%d %H:%M:%S.%g')"
QUERIES = [
    ("select count(*) from events", None, True),
    ("select id, host, price, qty, note from events where id = 1234", None, True),
    ("select count(*) from events where price > 50.5", None, True),
    ("select count(*) from events where price <= 10 and qty >= 4", None, True),
    ("select event_type, count(*) as n, sum(qty) as q from events group by event_type order by event_type", None, True),
    ("select host, avg(price) as p, min(price) as lo, max(price) as hi, sum(price) as s from events group by host order by host", None, True),
    ("select id, price from events order by price desc nulls last, id limit 7", None, True),
    ("select id, price from events order by price nulls first, id limit 7", None, True),
    ("select count(*) from events where price is null", None, True),
    ("select count(*) from events where note is not null and ok is null", None, True),
    ("select count(*) from events where host like 'user3%'", None, True),
    ("select count(*), count(note) from events where note like '%1_'", None, True),
    ("select count(distinct note), count(distinct host), count(distinct price) from events", None, True),
    ("select min(ts), max(ts) from events", f"select {TS.format('min(ts)')}, {TS.format('max(ts)')} from events", True),
    ("select count(*) from events where ts >= '2026-11-02 00:00:00' and ts < '2026-11-03'", None, True),
    ("select ok, count(*) from events group by ok order by ok nulls first", None, True),
    ("select ok, count(*) from events where ok = true group by ok", None, True),
    ("select e.id, u.name, u.country from events e join users u on e.user_id = u.user_id where e.id < 60 order by e.id", None, True),
    ("select u.country, count(*) from events e left join users u on e.user_id = u.user_id group by u.country order by u.country nulls first", None, True),
    ("select day, count(*) from events where day between '2026-03-01' and '2026-03-05' group by day order by day",
     "select strftime(day, '%Y-%m-%d'), count(*) from events where day between '2026-03-01' and '2026-03-05' group by day order by day", True),
    ("select sum(price), avg(qty), total(price) from events where event_type = 'default'",
     "select sum(price), avg(qty), coalesce(sum(price), 0) from events where event_type = 'default'", True),
    ("select count(*) from events where id > 4990 or id < 3", None, True),
    ("select host, count(*) from events where event_type in ('join_guild', 'default') and price > 90 group by host having count(*) > 10 order by 2 desc, 1", None, True),
    ("select id from events where note = 'note 3' and qty = 5", None, False),
    ("select id, price from events where price = 3.7", None, False),
    ("select id from events where price > 99.8", None, False),
    ("select id, ts from events where id in (5, 17, 4999) order by id",
     f"select id, {TS.format('ts')} from events where id in (5, 17, 4999) order by id", True),
    ("select upper(substr(host, 1, 5)) as h, count(*) from events group by h order by h", None, True),
    ("select max(id) from events where qty < 0", None, True),
    ("select count(*) from purchases where host = 'user1.comcast.com'", None, True),
]


def norm(v):
    if isinstance(v, float):
        return float(f"{v:.12g}")
    if isinstance(v, bool):
        return int(v)
    return v


def norm_rows(rows, ordered):
    rows = [tuple(norm(v) for v in r) for r in rows]
    return rows if ordered else sorted(rows, key=repr)


def duckdb_results(tmp_path, views, queries):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"views": views, "queries": queries}))
    out = run(["node", str(NODE_DIR / "sql_duckdb.mjs"), "query", str(spec)], timeout=300).stdout
    return json.loads(out)["results"]


def sluice_rows(lake, q):
    p = run([SLUICE, "sql", "--lake", str(lake), "--json", q])
    return [list(json.loads(line).values()) for line in p.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def duck_lake(tmp_path_factory):
    d = tmp_path_factory.mktemp("sqlduck") / "lake"
    run(["node", str(NODE_DIR / "sql_duckdb.mjs"), "gen", str(d)], timeout=120)
    return d


def test_twenty_queries_equal_duckdb_on_duckdb_written_files(duck_lake, tmp_path):
    views = {t: str(duck_lake / t) for t in ("events", "users", "purchases")}
    duck = duckdb_results(tmp_path, views, [d or s for s, d, _ in QUERIES])
    assert len(QUERIES) >= 20
    failures = []
    for (q, _, ordered), want in zip(QUERIES, duck):
        assert "error" not in want, (q, want)
        got = sluice_rows(duck_lake, q)
        if norm_rows(got, ordered) != norm_rows(want["rows"], ordered):
            failures.append(f"{q}\n  sluice: {got[:5]}\n  duckdb: {want['rows'][:5]}")
    assert not failures, "\n".join(failures)


# The same kind of data written by `sluice extract` from NDJSON (extract adds
# a text `timestamp` column, so queries here leave ts and day out).
def event(i):
    e = {"id": i, "user_id": i % 50, "host": f"user{i % 7}.example.com",
         "event_type": ["purchase_sword", "purchase_knife", "default", "join_guild"][i % 4],
         "qty": (i * 13) % 9, "ok": None if i % 13 == 0 else i % 3 == 0}
    if i % 11:
        e["price"] = ((i * 37) % 1000) / 10.0 + 0.25  # never a whole number: stays a double
    if i % 5:
        e["note"] = f"note {i % 17}"
    return e


SLUICE_QUERIES = [(s, d, o) for s, d, o in QUERIES
                  if not re.search(r"\b(ts|day|purchases)\b", s) and "price = 3.7" not in s]


def test_queries_equal_duckdb_on_sluice_written_files(tmp_path):
    lake = tmp_path / "lake"
    for name, rows in (("events", [event(i) for i in range(3000)]),
                       ("users", [{"user_id": i, "name": f"name{i}", "country": ["us", "fr", None][i % 3]}
                                  for i in range(40)])):
        nd = tmp_path / f"{name}.ndjson"
        nd.write_text("".join(json.dumps(r) + "\n" for r in rows))
        run([SLUICE, "extract", "--input", str(nd), "-o", str(lake / name)])
    views = {t: str(lake / t) for t in ("events", "users")}
    duck = duckdb_results(tmp_path, views, [d or s for s, d, _ in SLUICE_QUERIES])
    assert len(SLUICE_QUERIES) >= 20
    failures = []
    for (q, _, ordered), want in zip(SLUICE_QUERIES, duck):
        assert "error" not in want, (q, want)
        got = sluice_rows(lake, q)
        if norm_rows(got, ordered) != norm_rows(want["rows"], ordered):
            failures.append(f"{q}\n  sluice: {got[:5]}\n  duckdb: {want['rows'][:5]}")
    assert not failures, "\n".join(failures)


# Aggregate push-down must give exactly what SQLite alone gives (--no-pushdown),
# including types (integer sum vs real), NULL groups, names and order.
PUSHDOWN = [
    "select count(*) from events",
    "select count(*), count(price), count(note) from events where price > 1000",
    "select sum(qty), sum(price), total(qty), avg(qty), min(note), max(note) from events",
    "select note, count(*) from events group by note",
    "select Note as n, count(*) as c from events group by n order by c desc, n limit 5 offset 1",
    "select host, event_type, sum(qty) s from events where id between 100 and 3000 group by 1, 2 order by s desc, 1, 2 limit 10",
    "select e.host, max(e.price) from events e where 50 < e.price and e.note is not null group by e.host",
    "select ok, count(*), min(ts), max(ts), min(day) from events group by ok",
    "select event_type, avg(price) from events where ok = true and price != 3.7 group by event_type having count(*) > 100 and max(qty) >= 8",
    "select \"host\", count(*) from events where note is null group by \"host\" order by count(*) desc, 1",
    "select day, count(*) from events where day >= '2026-10-01' group by day",
    "select count(*), sum(price) from events where price = null",
    "select qty, count(*) from events where price >= 99.5 group by qty",
    "select count(*) from events where host = 'user3.example.com' and qty <> 4",
    "select host, count(*) from events where note is null group by host order by count(*) desc",  # ties
    "select qty, count(*) c from events group by qty order by c",
    "select max(id), min(id) from events where note = 'note 3'",
    "select user_id % 3 as m, count(*) from events group by m",  # declined: an expression
    "select count(distinct host) from events",                    # declined
    "select host, count(*) from events where qty = '4' group by host",  # declined: text vs integer
    "select sum(host) from events",                                # declined: sum over text
    # filtered projections, streamed without SQLite's row machinery
    "select * from events where price > 90 and note is not null",
    "select id, ts, day, ok from events where ts >= '2026-11-03' limit 20",
    "select host as h, id from events where id between 10 and 20",
    "select * from events limit 5 offset 2498",
    "select e.* from events e where e.ok = false limit 3, 4",
    "select id from events where host = 'nope'",
    "select id, note from events where note = 'it''s'",            # declined: quote in literal
    "select id from events where id > 10 order by id desc limit 3",  # declined: ORDER BY
]


def test_aggregate_pushdown_equals_sqlite_alone(duck_lake):
    pushed = 0
    for q in PUSHDOWN:
        a = run([SLUICE, "--log-level", "debug", "sql", "--lake", str(duck_lake), "--json", q])
        b = run([SLUICE, "sql", "--lake", str(duck_lake), "--json", "--no-pushdown", q])
        assert a.stdout == b.stdout, q
        pushed += "pushed down" in a.stderr
    assert pushed >= 20


MIXED = [
    ("select count(*), count(only_a), count(only_b), sum(price) from mixed", True),
    ("select host, count(*), max(only_b), min(only_a) from mixed group by host order by host", True),
    ("select only_a, count(*) from mixed group by only_a order by only_a nulls first", True),
    ("select only_b, sum(price) from mixed where id > 2500 group by only_b order by only_b nulls first", True),
    ("select id, only_a, only_b from mixed where id in (1, 2999, 3000, 4999) order by id", True),
    ("select count(*) from mixed where only_b is null", True),
    ("select count(*) from mixed where only_a = 'a1' or only_b = 3", True),
    ("select * from mixed where id > 2990 and id < 3010", True),
    ("select id, only_b from mixed where only_b >= 5", False),
]


def test_part_files_of_different_schemas_read_by_name(tmp_path):
    lake = tmp_path / "lake"
    run(["node", str(NODE_DIR / "sql_duckdb.mjs"), "gen-mixed", str(lake)], timeout=120)
    duck = duckdb_results(tmp_path, {"mixed": str(lake / "mixed")}, [q for q, _ in MIXED])
    for (q, ordered), want in zip(MIXED, duck):
        got = sluice_rows(lake, q)
        assert norm_rows(got, ordered) == norm_rows(want["rows"], ordered), q
        b = run([SLUICE, "sql", "--lake", str(lake), "--json", "--no-pushdown", q])
        assert b.stdout == run([SLUICE, "sql", "--lake", str(lake), "--json", q]).stdout, q


def test_threaded_scans_equal_sqlite_alone_on_a_larger_table(tmp_path):
    """2.5 M rows: projections streamed through the scanner thread
    (sql_vtab.c) with a LIMIT that stops it early, and filtered aggregates,
    through several chunks and row groups."""
    lake = tmp_path / "lake"
    run(["node", str(NODE_DIR / "sql_duckdb.mjs"), "bench", str(lake), "2500000"], timeout=300)
    for q in ("select count(*), avg(price), max(ts), min(host) from big where host = 'user7.example.com'",
              "select event_type, count(*), sum(qty), total(price) from big where qty >= 8 group by event_type",
              "select id, host, ts from big where user_id < 100",
              "select * from big where price > 900 limit 3 offset 20000"):
        a = run([SLUICE, "--log-level", "debug", "sql", "--lake", str(lake), "--csv", q], timeout=300)
        b = run([SLUICE, "sql", "--lake", str(lake), "--csv", "--no-pushdown", q], timeout=300)
        assert a.stdout == b.stdout, q
        assert "pushed down" in a.stderr, q
