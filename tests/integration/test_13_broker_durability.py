"""Durability of `sluice broker`: a restart on the same data directory keeps
every message, and a kill -9 in the middle of an acks=all produce loses no
acknowledged message, duplicates none and keeps their order -- under the
default flush policy (interval=1000: acknowledged once written, fdatasync'ed
within a second) and under --flush always (fdatasync before the ack). Under
the default, an idle broker fdatasyncs the segment about a second after the
append, and not before acknowledging it. Under --flush always the fdatasync
runs beside the event loop, and no answer that promises durability (a
produce, or the retry of one still being synced) leaves before it returns.
"""
import contextlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, SLUICE, Server, free_port, run, wait_port
from test_11_broker_clients import api_versions

BUILD = Path(os.environ.get("SLUICE_BUILD", str(ROOT / "build")))


@pytest.fixture(params=[[], ["--flush", "always"]], ids=["flush-default", "flush-always"])
def kbroker(request, tmp_path):
    """A broker under the default flush policy, then under --flush always."""
    port = free_port()
    srv = Server(["broker", "--listen", f"127.0.0.1:{port}", "--data",
                  str(tmp_path / "broker-data")] + request.param, port,
                 tmp_path / "broker.log")
    srv.start()
    yield srv
    srv.stop()


def consume_all(addr, topic, fmt="%s\\n", *extra):
    return run([SLUICE, "consume", "-b", addr, "-t", topic, "-e", "-f", fmt, *extra]).stdout


def test_restart_keeps_every_message(broker):
    run([SLUICE, "topics", "-b", broker.addr, "--create", "--topic", "multi", "--partitions", "3"])
    lines = [f"k{i % 11}:value {i}" for i in range(3000)]
    run([SLUICE, "produce", "-b", broker.addr, "-t", "multi", "-K", ":"],
        input="".join(l + "\n" for l in lines))
    run([SLUICE, "produce", "-b", broker.addr, "-t", "single"],
        input="".join(f"s{i}\n" for i in range(500)))
    before = consume_all(broker.addr, "multi", "%p %o %k %s\\n")
    assert len(before.splitlines()) == 3000

    assert broker.stop() == 0, "broker did not exit cleanly on SIGTERM"
    broker.start()
    assert consume_all(broker.addr, "multi", "%p %o %k %s\\n") == before
    assert consume_all(broker.addr, "single") == "".join(f"s{i}\n" for i in range(500))

    # appends continue at the right offsets after the restart
    run([SLUICE, "produce", "-b", broker.addr, "-t", "single"], input="after\n")
    tail = consume_all(broker.addr, "single", "%o %s\\n", "-o", "499")
    assert tail == "499 s499\n500 after\n"


def test_kill9_after_acks_all_produce_keeps_every_message(kbroker):
    broker = kbroker
    run([SLUICE, "produce", "-b", broker.addr, "-t", "k9", "--acks", "all"],
        input="".join(f"m{i}\n" for i in range(2000)))
    broker.kill9()
    broker.start()
    assert consume_all(broker.addr, "k9") == "".join(f"m{i}\n" for i in range(2000))


def parse_acks(out):
    acked, nacked = {}, set()
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if parts[0] == "ACK":
            assert int(parts[1]) not in acked, f"id {parts[1]} acknowledged twice"
            acked[int(parts[1])] = int(parts[2])
        elif parts[0] == "NACK":
            nacked.add(int(parts[1]))
    return acked, nacked


def test_kill9_mid_produce_loses_no_acknowledged_message(kbroker):
    broker = kbroker
    idempotent = 22 in api_versions(broker.addr)  # InitProducerId
    n = 20000
    args = [str(BUILD / "rdkafka_acked_producer"), "-b", broker.addr, "-t", "crash",
            "-n", str(n), "-r", "4000", "-a", "all", "-T", "20000"]
    if idempotent:
        args.append("-i")
    else:
        args += ["-X", "max.in.flight.requests.per.connection=1"]
    prod = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)  # about 8000 messages in
    broker.kill9()
    time.sleep(0.5)
    broker.start()
    out, err = prod.communicate(timeout=120)
    assert prod.returncode == 0, err
    acked, nacked = parse_acks(out)
    assert len(acked) + len(nacked) >= n, "a message got no delivery report"
    assert len(acked) > n // 4, f"only {len(acked)} of {n} acknowledged:\n{err[-2000:]}"
    assert min(acked) == 0

    log = consume_all(broker.addr, "crash", "%o %s\\n").splitlines()
    at = {}
    order = []
    for line in log:
        off, value = line.split(" ", 1)
        i = int(value[3:])  # "id-%08d"
        order.append(i)
        if i in acked:
            assert i not in at, f"acknowledged message {i} stored twice (offsets {at[i]}, {off})"
            at[i] = int(off)
    missing = sorted(set(acked) - set(at))
    assert not missing, f"{len(missing)} acknowledged messages lost, first {missing[:10]}"
    for i, off in acked.items():
        assert at[i] == off, f"message {i} acknowledged at offset {off} but stored at {at[i]}"
    acked_order = [i for i in order if i in acked]
    assert acked_order == sorted(acked_order), "acknowledged messages out of order"


@contextlib.contextmanager
def broker_under_strace(tmp_path, *extra):
    """A broker run under `strace -f` tracing its fdatasyncs; yields (port,
    trace file). Stops the broker with SIGTERM at the end."""
    port = free_port()
    trace = tmp_path / "strace.txt"
    log = open(tmp_path / "broker.log", "wb")
    tracer = subprocess.Popen(["strace", "-f", "-ttt", "-T", "-y", "-e", "trace=fdatasync",
                               "-o", str(trace), SLUICE, "broker", "--listen",
                               f"127.0.0.1:{port}", "--data", str(tmp_path / "data"), *extra],
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_port(port, proc=tracer)
        yield port, trace
    finally:
        children = Path(f"/proc/{tracer.pid}/task/{tracer.pid}/children")
        pids = children.read_text().split() if children.exists() else []
        for pid in pids:
            os.kill(int(pid), signal.SIGTERM)
        try:
            tracer.wait(20)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()
        log.close()


def segment_syncs(text, topic):
    """When each successful fdatasync of the topic's first segment returned,
    from a trace: finished in one line (start + duration), or resumed after
    another thread's line."""
    done, pending = [], set()
    seg = re.compile(rf"fdatasync\(\d+<[^>]*/{topic}/0/0+\.log>")
    ok = re.compile(r"= 0 <(\d+\.\d+)>$")
    for line in text.splitlines():
        m = re.match(r"(\d+) +(\d+\.\d+) (.*)$", line)
        if not m:
            continue
        pid, t, call = m.group(1), float(m.group(2)), m.group(3)
        if seg.match(call) and call.endswith("<unfinished ...>"):
            pending.add(pid)
        elif seg.match(call) and ok.search(call):
            done.append(t + float(ok.search(call).group(1)))
        elif call.startswith("<... fdatasync resumed>") and pid in pending:
            pending.discard(pid)
            if ok.search(call):
                done.append(t)
    return done


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
def test_default_flush_syncs_an_idle_broker_a_second_after_the_append(tmp_path):
    """Under the default flush policy the produce is acknowledged without an
    fdatasync, and the idle broker fdatasyncs the segment ~1 s later (its
    timer), not only at the next append or at shutdown."""
    with broker_under_strace(tmp_path) as (port, trace):
        run([SLUICE, "topics", "-b", f"127.0.0.1:{port}", "--create", "--topic", "idle"])
        time.sleep(0.2)
        start = time.time()
        run([SLUICE, "produce", "-b", f"127.0.0.1:{port}", "-t", "idle", "--acks", "all"],
            input="one\n")
        acked = time.time()
        time.sleep(2.0)  # idle: only the flush timer can wake the broker
        text = trace.read_text()
    syncs = segment_syncs(text, "idle")
    assert syncs, f"the idle broker never fdatasynced the segment:\n{text}"
    # the append happened in [start, acked]; its sync is due 1000 ms later
    assert syncs[0] >= start + 0.9, f"fdatasync {syncs[0] - start:.3f} s after the produce " \
                                    "began: too early for interval=1000"
    assert syncs[0] <= acked + 1.5, f"fdatasync {syncs[0] - acked:.3f} s after the ack"


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
def test_flush_always_answers_a_produce_only_after_its_fdatasync_returned(tmp_path):
    """Under --flush always the fdatasync runs on the log's sync thread while
    the event loop goes on serving; the acks=-1 answer still leaves only
    after the fdatasync that covers its batch has returned, and answers on
    one connection keep their request order around it."""
    from test_10_broker_protocol import make_batch, metadata_v1, recv_frame, request, kstr
    answered, sent = [], []
    with broker_under_strace(tmp_path, "--flush", "always") as (port, trace):
        run([SLUICE, "topics", "-b", f"127.0.0.1:{port}", "--create", "--topic", "sync"])
        batch = make_batch([b"x" * 100] * 50)
        body = kstr(None) + struct.pack(">hii", -1, 30000, 1) + kstr("sync")
        body += struct.pack(">ii", 1, 0) + struct.pack(">i", len(batch)) + batch
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            for round_ in range(5):
                corr = 10 * round_
                sent.append(time.time())
                s.sendall(request(0, 7, corr + 1, body) + metadata_v1(corr + 2, ["sync"])
                          + request(0, 7, corr + 3, body) + metadata_v1(corr + 4, ["sync"]))
                for want in range(corr + 1, corr + 5):
                    frame = recv_frame(s)
                    assert struct.unpack_from(">i", frame)[0] == want, \
                        "answers out of request order"
                    if want % 2 == 1:  # a Produce: no error, the next offsets
                        answered.append((round_, time.time()))
                        pos = 4 + 4
                        (nl,) = struct.unpack_from(">h", frame, pos)
                        _, ec, base = struct.unpack_from(">ihq", frame, pos + 2 + nl + 4)
                        assert (ec, base) == (0, 50 * (2 * round_ + (want - corr) // 2))
        text = trace.read_text()
    done = segment_syncs(text, "sync")
    assert done, f"the segment was never fdatasynced:\n{text}"
    for round_, t in answered:
        assert any(sent[round_] <= d <= t for d in done), \
            f"a produce of round {round_} was answered with no fdatasync returned since " \
            f"its request was sent:\n{text}"


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
def test_flush_always_answers_a_duplicate_only_after_the_original_is_synced(tmp_path):
    """An idempotent producer's retry that arrives on another connection
    while the original batch waits for its fdatasync is answered with the
    original offset, and not before that fdatasync has returned: the
    answer promises the batch is durable."""
    from test_20_groups_idempotent import Client, batch
    rounds, sent, answered = 5, [], []
    with broker_under_strace(tmp_path, "--flush", "always") as (port, trace):
        addr = f"127.0.0.1:{port}"
        run([SLUICE, "topics", "-b", addr, "--create", "--topic", "dup"])
        first, retry = Client(addr), Client(addr)
        pid, epoch = first.init_producer_id()
        for k in range(rounds):
            records = batch([b"v%d" % k], pid, epoch, k)
            sent.append(time.time())
            first.send_produce("dup", 0, records)
            retry.send_produce("dup", 0, records)
            got_retry = retry.read_produce()
            t_retry = time.time()
            answered.append((t_retry, got_retry, first.read_produce()))
        first.close()
        retry.close()
        text = trace.read_text()
    done = segment_syncs(text, "dup")
    for k, (t_retry, got_retry, got_first) in enumerate(answered):
        assert got_first == (0, k)
        assert got_retry == (0, k), "the retry must get the original's offset"
        assert any(sent[k] <= d <= t_retry for d in done), \
            f"the retry of round {k} was answered before the original's fdatasync returned"
