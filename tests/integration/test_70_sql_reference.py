"""sluice sql and sluice ls: the week-12 reference queries, describe(), the
output modes, the shell, errors. Tables are written by DuckDB
(tests/node/sql_duckdb.mjs gen) and, for one test, by `sluice extract`."""
import csv
import io
import json
import math
import os
import pty
import select
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pytest

from conftest import NODE_DIR, SLUICE, run


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    d = tmp_path_factory.mktemp("sql") / "lake"
    run(["node", str(NODE_DIR / "sql_duckdb.mjs"), "gen", str(d)], timeout=120)
    return d


def sql(lake, *args, input=None, check=True):
    return run([SLUICE, "sql", "--lake", str(lake), *args], input=input, check=check)


def json_rows(p):
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def test_reference_query_finds_the_hosts_rows(lake):
    rows = json_rows(sql(lake, "--json", "select * from purchases where host='user1.comcast.com'"))
    assert len(rows) == 13
    assert {r["Host"] for r in rows} == {"user1.comcast.com"}
    assert list(rows[0]) == ["Accept", "Host", "User-Agent", "event_type", "timestamp"]


def test_identifiers_are_case_insensitive_so_host_finds_Host(lake):
    a = json_rows(sql(lake, "--json", "select HOST, count(*) n from PURCHASES group by host order by 1"))
    assert a == [{"Host": "user1.comcast.com", "n": 13}, {"Host": "user2.att.com", "n": 7}]


def test_describe_text_columns_gives_count_unique_top_freq(lake):
    rows = {r["summary"]: r for r in json_rows(sql(lake, "--json", "describe purchases"))}
    assert list(rows) == ["count", "unique", "top", "freq"]
    assert rows["count"]["Host"] == 20
    assert rows["unique"]["Host"] == 2
    assert rows["top"]["Host"] == "user1.comcast.com"
    assert rows["freq"]["Host"] == 13
    assert rows["top"]["User-Agent"] == "curl/7.47.0" and rows["freq"]["User-Agent"] == 16
    assert rows["unique"]["timestamp"] == 20


def test_describe_of_the_reference_query_like_topandas_describe(lake):
    rows = {r["summary"]: r for r in json_rows(
        sql(lake, "--json", "describe select * from purchases where host='user1.comcast.com'"))}
    assert rows["count"]["Host"] == 13 and rows["unique"]["Host"] == 1


def linear_quantile(xs, q):
    xs = sorted(xs)
    h = (len(xs) - 1) * q
    lo, hi = math.floor(h), math.ceil(h)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def test_describe_numeric_columns_matches_pandas_formulas(lake):
    rows = {r["summary"]: r for r in json_rows(sql(lake, "--json", "describe select id, price, qty from events"))}
    ids = list(range(5000))
    prices = [((i * 37) % 1000) / 10.0 for i in ids if i % 11 != 0]
    for col, xs in (("id", ids), ("price", prices)):
        assert rows["count"][col] == len(xs)
        assert rows["mean"][col] == pytest.approx(statistics.fmean(xs), rel=1e-12)
        assert rows["std"][col] == pytest.approx(statistics.stdev(xs), rel=1e-12)
        assert rows["min"][col] == min(xs) and rows["max"][col] == max(xs)
        for name, q in (("25%", 0.25), ("50%", 0.5), ("75%", 0.75)):
            assert rows[name][col] == pytest.approx(linear_quantile(xs, q), rel=1e-12)
    assert list(rows) == ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]


def test_table_output_truncates_wide_cells_like_spark_show(lake):
    out = sql(lake, "select \"User-Agent\", timestamp from purchases limit 1").stdout
    assert out.splitlines() == [
        "+---------------+--------------------+",
        "|User-Agent     |timestamp           |",
        "+---------------+--------------------+",
        "|ApacheBench/2.3|2018-04-02 18:09:...|",  # 17 characters + "..."
        "+---------------+--------------------+",
    ]
    wide = sql(lake, "--truncate", "0", "select timestamp from purchases limit 1").stdout
    assert "2018-04-02 18:09:29.000" in wide


def test_csv_and_markdown_output(lake):
    p = sql(lake, "--csv", "select host, count(*) as n from purchases group by host order by host")
    assert list(csv.reader(io.StringIO(p.stdout))) == [
        ["Host", "n"], ["user1.comcast.com", "13"], ["user2.att.com", "7"]]
    md = sql(lake, "--markdown", "select host, count(*) as n from purchases group by host order by host")
    assert md.stdout.splitlines() == [
        "| Host              |   n |", "| ----------------- | --: |",
        "| user1.comcast.com |  13 |", "| user2.att.com     |   7 |"]


def test_query_is_read_from_stdin_when_not_a_terminal(lake):
    p = sql(lake, "--json", input="select count(*) as n\nfrom purchases;\nselect 2 as two;\n")
    assert json_rows(p) == [{"n": 20}, {"two": 2}]


def test_table_option_registers_a_file_or_a_directory(lake, tmp_path):
    f = lake / "purchases" / "part-00000-a.snappy.parquet"
    p = run([SLUICE, "sql", "--lake", str(tmp_path / "none"), "--json", "--table", f"p={f}",
             "--table", f"q={lake / 'purchases'}", "select (select count(*) from p) a, (select count(*) from q) b"],
            check=False)
    assert p.returncode == 1 and "no such lake" in p.stderr  # an explicit --lake must exist
    os.mkdir(tmp_path / "empty")
    p = run([SLUICE, "sql", "--lake", str(tmp_path / "empty"), "--json", "--table", f"p={f}",
             "--table", f"q={lake / 'purchases'}", "select (select count(*) from p) a, (select count(*) from q) b"])
    assert json_rows(p) == [{"a": 12, "b": 20}]


def test_default_lake_is_dot_lake(lake):
    p = subprocess.run([SLUICE, "sql", "--json", "select count(*) n from users"],
                       cwd=lake.parent, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json_rows(p) == [{"n": 40}]


def test_sql_error_exits_1_with_sqlites_message_on_one_line(lake):
    p = sql(lake, "selec * from purchases", check=False)
    assert p.returncode == 1
    assert p.stderr == 'sluice sql: near "selec": syntax error\n'
    assert p.stdout == ""


def test_unknown_table_names_the_tables_that_exist(lake):
    p = sql(lake, "select * from purchase", check=False)
    assert p.returncode == 1
    assert p.stderr == "sluice sql: no such table: purchase (tables: events, purchases, users)\n"


def test_corrupt_parquet_file_is_named_in_the_error(lake, tmp_path):
    t = tmp_path / "lake" / "broken"
    shutil.copytree(lake / "purchases", t)
    bad = t / "part-00002-bad.snappy.parquet"
    data = (lake / "purchases" / "part-00000-a.snappy.parquet").read_bytes()
    bad.write_bytes(data[:40] + data[-4:])  # PAR1 ... PAR1 with no real footer
    p = run([SLUICE, "sql", "--lake", str(tmp_path / "lake"), "select count(*) from broken"], check=False)
    assert p.returncode == 1
    assert str(bad) in p.stderr and len(p.stderr.splitlines()) == 1


def test_row_groups_are_pruned_by_statistics(lake):
    p = run([SLUICE, "--log-level", "debug", "sql", "--lake", str(lake), "--json",
             "select count(*) n from events where id >= 4600"])
    assert json_rows(p) == [{"n": 400}]
    line = [l for l in p.stderr.splitlines() if "sql: scan" in l][0]
    assert "pruned 3" in line and "read 1 row groups" in line, line


def test_only_the_used_columns_are_read(lake):
    p = run([SLUICE, "--log-level", "debug", "sql", "--lake", str(lake), "--json",
             "select max(price) m from events where host = 'user3.example.com'"])
    assert json_rows(p) == [{"m": 99.9}]
    assert "2 columns" in [l for l in p.stderr.splitlines() if "sql: scan" in l][0]


def test_ls_shows_sizes_rows_and_the_tables_total(lake):
    out = run([SLUICE, "ls", str(lake / "purchases")]).stdout.splitlines()
    assert out[0] == "Found 3 items"
    rows = {Path(l.split()[-1]).name: l.split() for l in out[1:4]}
    assert rows["_SUCCESS"][0] == "-rw-r--r--" and rows["_SUCCESS"][4] == "-"
    assert rows["part-00000-a.snappy.parquet"][4] == "12"
    assert rows["part-00001-a.snappy.parquet"][4] == "8"
    size = (lake / "purchases" / "part-00000-a.snappy.parquet").stat().st_size
    assert rows["part-00000-a.snappy.parquet"][1] == str(size)
    assert out[4].startswith("total: 20 rows in 2 Parquet files")
    top = run([SLUICE, "ls", str(lake)]).stdout.splitlines()
    assert top[0] == "Found 3 items"
    assert top[1].startswith("d") and top[1].split()[4] == "5000" and top[1].endswith("events")
    p = run([SLUICE, "ls", str(lake / "nope")], check=False)
    assert p.returncode == 1 and "no such file or directory" in p.stderr


def test_tables_written_by_sluice_extract_read_back(tmp_path):
    nd = tmp_path / "ev.ndjson"
    nd.write_text("".join(json.dumps({"event_type": "purchase_sword", "Host": f"user{i % 2}.comcast.com",
                                      "n": i}) + "\n" for i in range(100)))
    run([SLUICE, "extract", "--input", str(nd), "-o", str(tmp_path / "lake" / "purchases")])
    p = run([SLUICE, "sql", "--lake", str(tmp_path / "lake"), "--json",
             "select host, count(*) c, sum(n) s from purchases where host='user1.comcast.com' group by 1"])
    assert json_rows(p) == [{"Host": "user1.comcast.com", "c": 50, "s": sum(range(1, 100, 2))}]


def test_extracts_corrupt_table_is_a_lake_table(tmp_path):
    nd = tmp_path / "ev.ndjson"
    nd.write_text('{"event_type": "default", "Host": "a"}\nnot json at all\n[1, 2]\n')
    run([SLUICE, "extract", "--input", str(nd), "-o", str(tmp_path / "lake"),
         "--split-by", "event_type"])
    p = run([SLUICE, "sql", "--lake", str(tmp_path / "lake"), "--json",
             "select count(*) c from _corrupt"])
    assert json_rows(p) == [{"c": 2}]
    p = run([SLUICE, "sql", "--lake", str(tmp_path / "lake"), ".tables"])
    assert "_corrupt" in p.stdout and "default" in p.stdout


def shell_session(lake, lines, timeout=20):
    """Drive the interactive shell on a pseudo-terminal; return its output."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["HOME"] = str(lake.parent)
        os.execv(SLUICE, [SLUICE, "sql", "--lake", str(lake)])
    out = b""
    deadline = time.time() + timeout

    def read_until(token):
        nonlocal out
        while token not in out and time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return
    read_until(b"sluice> ")
    for line in lines:
        out = out.replace(b"> ", b">_")  # wait for the next prompt, not this one
        os.write(fd, line.encode() + b"\r")
        read_until(b"> ")
    os.write(fd, b".quit\r")
    read_until(b"\xff")  # until EOF
    os.waitpid(pid, 0)
    return out.decode(errors="replace")


def test_shell_runs_multi_line_statements_and_dot_commands(lake):
    out = shell_session(lake, [".tables", "select count(*) as n", "from purchases;", ".mode csv",
                               "select 40 + 2 as x;", "describe users;", ".schema users"])
    assert "events, purchases, users" in out
    assert "|20|" in out and "(1 row)" in out
    assert "x\r\n42" in out
    assert "summary,user_id,name,country" in out
    assert '"country" TEXT' in out
    hist = (lake.parent / ".sluice_history").read_text().replace("\\040", " ")  # libedit's format
    assert "select count(*) as n from purchases;\n" in hist


def test_ctrl_c_stops_the_statement_not_the_shell(lake):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["HOME"] = str(lake.parent)
        os.execv(SLUICE, [SLUICE, "sql", "--lake", str(lake)])
    out = b""

    def read_for(seconds, token=None):
        nonlocal out
        deadline = time.time() + seconds
        while time.time() < deadline and (token is None or token not in out):
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return
    read_for(10, b"sluice> ")
    os.write(fd, b"with recursive c(x) as (select 1 union all select x + 1 from c) "
                 b"select count(*) from c where x < 0;\r")
    read_for(1.0)
    os.write(fd, b"\x03")
    read_for(10, b"interrupted")
    os.write(fd, b"select 6 * 7 as answer;\r")
    read_for(10, b"42")
    os.write(fd, b".quit\r")
    read_for(5, b"\xff")
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert "error: interrupted" in text
    assert "42" in text
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_damaged_files_fail_cleanly_naming_the_file(lake, tmp_path):
    """Truncated and bit-flipped copies of a part file: every query either
    answers or fails with exit 1 and one line naming the file; never a crash."""
    import random
    src = (lake / "events" / "part-00000.parquet").read_bytes()
    rnd = random.Random(8)
    for k in range(40):
        data = bytearray(src)
        if k < 10:
            data = data[: rnd.randrange(len(data))]
        else:
            for _ in range(rnd.randrange(1, 20)):
                data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)
        t = tmp_path / f"l{k}" / "t"
        t.mkdir(parents=True)
        (t / "part-0.parquet").write_bytes(bytes(data))
        for q in ("select count(*), sum(price), max(note) from t where id > 100",
                  "select * from t where host = 'user3.example.com' limit 5",
                  "select host, count(*) from t group by host"):
            p = run([SLUICE, "sql", "--lake", str(t.parent), "--csv", q], check=False)
            assert p.returncode in (0, 1), (k, q, p.returncode, p.stderr)
            if p.returncode == 1:
                assert len(p.stderr.splitlines()) == 1 and "part-0.parquet" in p.stderr, (k, q, p.stderr)


def test_an_unreadable_table_does_not_hide_the_others(lake, tmp_path):
    shutil.copytree(lake / "users", tmp_path / "lake" / "users")
    bad = tmp_path / "lake" / "junk" / "part-0.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PAR1" + b"\0" * 100 + b"PAR1")
    ok = run([SLUICE, "sql", "--lake", str(tmp_path / "lake"), "--json", "select count(*) n from users"])
    assert json_rows(ok) == [{"n": 40}]
    p = run([SLUICE, "sql", "--lake", str(tmp_path / "lake"), "select * from junk"], check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("sluice sql: cannot read table 'junk': ") and str(bad) in p.stderr
    assert len(p.stderr.splitlines()) == 1


def test_dot_commands_work_in_scripts_and_one_shot(lake):
    p = sql(lake, input=".mode json\nselect count(*) as n from users;\n.tables\nselect 'last' as s")
    assert p.stdout.splitlines() == ['{"n":40}', "events, purchases, users", '{"s":"last"}']
    assert '"country" TEXT' in sql(lake, ".schema users").stdout
    bad = sql(lake, ".nope", check=False)
    assert bad.returncode == 1 and bad.stderr == "sluice sql: unknown command '.nope' (see .help)\n"
