"""sluice extract from a topic over the Kafka protocol (the course's
"spark from kafka" jobs): events produced with kcat into `sluice broker`,
shaped exactly as the reference Flask app logs them; outputs read back with
DuckDB (tests/node/extract_query.mjs)."""
import json
import subprocess

from conftest import NODE_DIR, SLUICE, run


def duck(sql):
    p = subprocess.run(["node", str(NODE_DIR / "extract_query.mjs"), sql], capture_output=True,
                       text=True, timeout=120, cwd=NODE_DIR)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout.splitlines()[0])
    assert "error" not in r, r["error"]
    return r


def flask_event(event_type, host, **extra):
    ev = {"event_type": event_type, **extra}
    ev.update({"Host": host, "User-Agent": "ApacheBench/2.3", "Accept": "*/*"})
    return json.dumps(ev)


def produce(broker, topic, lines):
    run(["kcat", "-P", "-b", broker.addr, "-t", topic], input="".join(l + "\n" for l in lines))


def reference_lines(knife=False):
    lines = []
    for host in ("user1.comcast.com", "user2.att.com"):
        for et in ("default", "purchase_sword"):
            lines += [flask_event(et, host)] * 10
        if knife:
            lines += [flask_event("purchase_knife", host, description="very sharp knife")] * 5
    return lines


def extract(broker, *args, check=True):
    return run([SLUICE, "extract", "--no-progress", "-b", broker.addr, *map(str, args)],
               check=check)


def test_extract_reference_purchases_from_topic(broker, tmp_path):
    run([SLUICE, "topics", "-b", broker.addr, "--create", "--topic", "events",
         "--partitions", "3"])
    produce(broker, "events", reference_lines())
    out = tmp_path / "lake" / "purchases"
    p = extract(broker, "-t", "events", "-o", out, "--where", "event_type = 'purchase_sword'",
                "--meta")
    assert "read 40 records: 20 written, 20 filtered out, 0 corrupt" in p.stdout
    r = duck(f"select count(*) as n, count(*) filter (where Host = 'user1.comcast.com') as u1, "
             f"count(distinct (_partition, _offset)) as d, min(timestamp) as ts "
             f"from read_parquet('{out}/*.parquet')")["rows"][0]
    assert (r["n"], r["u1"], r["d"]) == (20, 10, 20)
    assert len(r["ts"]) == 23  # YYYY-MM-DD HH:MM:SS.mmm, the Kafka timestamp
    offsets = json.loads((out / "_offsets").read_text())
    assert offsets["topic"] == "events"
    assert sum(offsets["next_offsets"].values()) == 40


def test_extract_split_by_event_type_from_topic(broker, tmp_path):
    produce(broker, "events", reference_lines(knife=True))
    out = tmp_path / "lake"
    p = extract(broker, "-t", "events", "-o", out, "--split-by", "event_type")
    assert "read 50 records: 50 written" in p.stdout
    tables = sorted(d.name for d in out.iterdir() if d.is_dir())
    assert tables == ["default", "purchase_knife", "purchase_sword"]
    for t in tables:
        cols = [c["name"] for c in duck(f"select * from read_parquet('{out}/{t}/*.parquet') "
                                        f"limit 0")["columns"]]
        assert ("description" in cols) == (t == "purchase_knife"), (t, cols)


def test_extract_corrupt_topic_records_keep_partition_and_offset(broker, tmp_path):
    produce(broker, "mixed", ['{"event_type":"default"}', "oops{", '"x"', '{"event_type":"a"}'])
    out = tmp_path / "t"
    p = extract(broker, "-t", "mixed", "-o", out)
    assert "read 4 records: 2 written, 0 filtered out, 2 corrupt" in p.stdout
    r = duck(f"select _partition, _offset, raw, error from read_parquet('{out}/_corrupt/*.parquet') "
             f"order by _offset")["rows"]
    assert [(x["_partition"], x["_offset"], x["raw"]) for x in r] == [(0, 1, "oops{"), (0, 2, '"x"')]
    assert r[1]["error"] == "record is not a JSON object"


def test_extract_reads_only_up_to_the_watermark_seen_at_start(broker, tmp_path):
    produce(broker, "events", [flask_event("default", "h")] * 5)
    out = tmp_path / "t"
    extract(broker, "-t", "events", "-o", out)
    produce(broker, "events", [flask_event("default", "h")] * 3)
    p = extract(broker, "-t", "events", "-o", out, "--mode", "overwrite")
    assert "read 8 records" in p.stdout


def test_extract_missing_topic_is_a_runtime_error(broker, tmp_path):
    p = run([SLUICE, "extract", "--no-progress", "-b", broker.addr, "-t", "nope", "-o",
             str(tmp_path / "x")], check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("sluice extract: ") and p.stderr.count("\n") == 1
    assert not (tmp_path / "x").exists()
