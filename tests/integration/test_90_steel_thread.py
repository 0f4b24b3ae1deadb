"""The week-12 handout end to end with the real tools: ab -> sluice collect
-> sluice broker -> (kcat watching the topic) -> sluice extract -> sluice sql;
then `sluice demo` and `sluice up` (stop, restart, nothing lost or doubled:
its extract drains to the broker's high watermark when stopped)."""
import csv
import io
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from conftest import SLUICE, Server, free_port, run, wait_port

REFERENCE_KEYS = {"event_type", "Host", "User-Agent", "Accept"}


def ab(port, path, host, n=10):
    out = run(["ab", "-n", str(n), "-H", f"Host: {host}", f"http://127.0.0.1:{port}{path}"])
    assert f"Complete requests:      {n}" in out.stdout
    assert "Failed requests:        0" in out.stdout
    assert "Non-2xx responses" not in out.stdout


def sql(lake, query, fmt="--csv"):
    out = run([SLUICE, "sql", "--lake", str(lake), fmt, query])
    if fmt == "--csv":
        return list(csv.DictReader(io.StringIO(out.stdout)))
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_week12_handout_with_real_tools(broker, tmp_path):
    # kafka-topics --create --topic events --partitions 1 --replication-factor 1 --if-not-exists
    out = run([SLUICE, "topics", "-b", broker.addr, "--create", "--topic", "events",
               "--partitions", "1", "--replication-factor", "1", "--if-not-exists"])
    assert "events" in out.stdout + out.stderr

    routes = tmp_path / "routes.json"
    routes.write_text('{"path": "/purchase_a_knife", "event_type": "purchase_knife", '
                      '"fields": {"description": "very sharp knife"}, '
                      '"reply": "Knife Purchased!\\n"}\n')
    port = free_port()
    collect = Server(["collect", "--listen", f"127.0.0.1:{port}", "-b", broker.addr,
                      "--routes", str(routes)], port, tmp_path / "collect.log").start()
    try:
        # kcat watching the topic from the beginning, as in the handout.
        watcher = subprocess.Popen(["kcat", "-C", "-b", broker.addr, "-t", "events",
                                    "-o", "beginning", "-q", "-u"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        for host in ("user1.comcast.com", "user2.att.com"):
            ab(port, "/", host)
            ab(port, "/purchase_a_sword", host)
        ab(port, "/purchase_a_knife", "user1.comcast.com", n=5)
        assert collect.stop() == 0
    finally:
        collect.kill9()

    seen = []
    deadline = time.time() + 20
    while len(seen) < 45 and time.time() < deadline:
        line = watcher.stdout.readline()
        if line.strip():
            seen.append(json.loads(line))
    watcher.kill()
    watcher.wait()
    assert len(seen) == 45
    for ev in seen:
        want = REFERENCE_KEYS | ({"description"} if ev["event_type"] == "purchase_knife" else set())
        assert set(ev) == want, ev
        assert ev["User-Agent"].startswith("ApacheBench/")
        assert ev["Accept"] == "*/*"
    assert sum(ev["event_type"] == "purchase_sword" for ev in seen) == 20

    # The kcat -e batch read agrees with the live watcher.
    batch = run(["kcat", "-C", "-b", broker.addr, "-t", "events", "-o", "beginning", "-e", "-q"])
    assert [json.loads(l) for l in batch.stdout.splitlines()] == seen

    # filtered_writes.py: the purchases table.
    lake = tmp_path / "lake"
    run([SLUICE, "extract", "-b", broker.addr, "-t", "events", "--out", str(lake / "purchases"),
         "--where", "event_type = 'purchase_sword'"])
    rows = sql(lake, "select * from purchases where host='user1.comcast.com'")
    assert len(rows) == 10
    assert {r["Host"] for r in rows} == {"user1.comcast.com"}
    assert all(r["event_type"] == "purchase_sword" for r in rows)
    assert all(len(r["timestamp"]) == len("2026-11-23 12:00:00.000") for r in rows)
    assert sql(lake, "select count(*) as n from purchases")[0]["n"] == "20"

    # "What if different event types have different schemas?": one table each.
    split = tmp_path / "split"
    run([SLUICE, "extract", "-b", broker.addr, "-t", "events", "--out", str(split),
         "--split-by", "event_type"])
    tables = sorted(p.name for p in split.iterdir() if p.is_dir())
    assert tables == ["default", "purchase_knife", "purchase_sword"]
    knife = sql(split, "select * from purchase_knife", "--json")
    assert len(knife) == 5 and all(r["description"] == "very sharp knife" for r in knife)
    for t in ("default", "purchase_sword"):
        cols = sql(split, f'select * from "{t}" limit 1', "--json")[0].keys()
        assert "description" not in cols

    # toPandas().describe()
    out = run([SLUICE, "sql", "--lake", str(lake), "describe purchases"])
    assert "count" in out.stdout and "unique" in out.stdout


def test_demo_runs_every_stage_and_cleans_up():
    t0 = time.time()
    out = run([SLUICE, "demo"], timeout=60)
    elapsed = time.time() - t0
    text = out.stdout
    for stage in ("[1] broker", "[2] collect", "[3] load", "[4] extract", "[5] extract",
                  "[6] sql", "done in"):
        assert stage in text, text
    assert text.count("user1.comcast.com|") == 10
    demo_dir = text.split("steel thread in ")[1].split()[0]
    assert not Path(demo_dir).exists()
    print(f"sluice demo took {elapsed:.2f}s")


def get(port, path, host):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


def start_up(cwd, kport, hport, log):
    proc = subprocess.Popen([SLUICE, "up", "--kafka", f"127.0.0.1:{kport}",
                             "--http", f"127.0.0.1:{hport}"], cwd=cwd,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    wait_port(hport, timeout=20, proc=proc)
    return proc


def stop_up(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0


def test_up_stops_gracefully_and_resumes_without_loss(tmp_path):
    kport, hport = free_port(), free_port()
    log = tmp_path / "up.log"
    proc = start_up(tmp_path, kport, hport, log)
    try:
        for i in range(7):
            get(hport, "/purchase_a_sword", "user1.comcast.com")
            get(hport, "/", "user2.att.com")
    except BaseException:
        proc.kill()
        raise
    stop_up(proc)
    lake = tmp_path / "lake"
    assert sql(lake, "select count(*) as n from purchase_sword")[0]["n"] == "7"

    proc = start_up(tmp_path, kport, hport, log)
    try:
        for i in range(5):
            get(hport, "/purchase_a_sword", "user2.att.com")
    except BaseException:
        proc.kill()
        raise
    stop_up(proc)
    rows = sql(lake, "select Host, count(*) as n from purchase_sword group by Host order by Host")
    assert rows == [{"Host": "user1.comcast.com", "n": "7"}, {"Host": "user2.att.com", "n": "5"}]
    assert sql(lake, "select count(*) as n from \"default\"")[0]["n"] == "7"
