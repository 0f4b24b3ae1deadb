"""sluice extract --follow: new events show up at each commit, and a kill -9
at any moment followed by a restart loses no record and writes none twice
(parts and `_offsets` are committed together, atomically)."""
import json
import random
import signal
import subprocess
import threading
import time

from conftest import NODE_DIR, SLUICE, run


def duck(sql):
    p = subprocess.run(["node", str(NODE_DIR / "extract_query.mjs"), sql], capture_output=True,
                       text=True, timeout=120, cwd=NODE_DIR)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout.splitlines()[0])
    assert "error" not in r, r["error"]
    return r["rows"]


def produce(broker, topic, seqs):
    lines = "".join(json.dumps({"event_type": "purchase_sword" if s % 2 else "default",
                                "Host": "user1.comcast.com", "User-Agent": "ApacheBench/2.3",
                                "Accept": "*/*", "seq": s}) + "\n" for s in seqs)
    run(["kcat", "-P", "-b", broker.addr, "-t", topic], input=lines)


def committed(out):
    """Records covered by the committed _offsets (0 before the first commit)."""
    try:
        return sum(json.loads((out / "_offsets").read_text())["next_offsets"].values())
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def wait_committed(out, n, proc=None, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if committed(out) >= n:
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"extract exited {proc.returncode}: {proc.stderr.read()}")
        time.sleep(0.05)
    raise AssertionError(f"only {committed(out)} of {n} records committed after {timeout}s")


def follow(broker, out, *extra):
    return subprocess.Popen([SLUICE, "extract", "--no-progress", "-b", broker.addr, "-t", "events",
                             "-o", str(out), "--follow", "--meta", "--commit-interval", "300ms",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_exactly_once(out, total):
    r = duck(f"select count(*) as n, count(distinct seq) as s, count(distinct (_partition, _offset)) "
             f"as o, min(seq) as lo, max(seq) as hi from read_parquet('{out}/*.parquet')")[0]
    assert r == {"n": total, "s": total, "o": total, "lo": 0, "hi": total - 1}, r


def test_extract_follow_picks_up_new_events_and_stops_cleanly(broker, tmp_path):
    run([SLUICE, "topics", "-b", broker.addr, "--create", "--topic", "events", "--partitions", "2"])
    produce(broker, "events", range(0, 40))
    out = tmp_path / "lake" / "events"
    proc = follow(broker, out)
    wait_committed(out, 40, proc)
    produce(broker, "events", range(40, 70))
    wait_committed(out, 70, proc)
    check_exactly_once(out, 70)
    assert (out / "_SUCCESS").exists()
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "read 70 records" in stdout


def test_extract_follow_kill9_and_restart_loses_and_duplicates_nothing(broker, tmp_path):
    run([SLUICE, "topics", "-b", broker.addr, "--create", "--topic", "events", "--partitions", "3"])
    out = tmp_path / "lake" / "events"
    stop = threading.Event()
    produced = [0]

    def producer():
        s = 0
        while not stop.is_set():
            produce(broker, "events", range(s, s + 50))
            s += 50
            produced[0] = s
            time.sleep(0.05)

    t = threading.Thread(target=producer)
    t.start()
    rnd = random.Random(7)
    progress = []
    try:
        for _ in range(5):
            proc = follow(broker, out, "--commit-interval", "100rows")
            time.sleep(0.4 + rnd.random() * 0.8)  # kill at an arbitrary moment
            proc.kill()
            proc.wait()
            progress.append(committed(out))
    finally:
        stop.set()
        t.join()
    total = produced[0]
    # each run committed something before it was killed
    assert progress == sorted(progress) and progress[0] > 0 and progress[-1] > progress[0], progress
    proc = follow(broker, out)
    wait_committed(out, total, proc, timeout=60)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    check_exactly_once(out, total)
    assert not list((tmp_path / "lake").glob(".events.v-*"))
