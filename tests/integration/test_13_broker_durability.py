"""Durability of `sluice broker`: a restart on the same data directory keeps
every message, and a kill -9 in the middle of an acks=all produce loses no
acknowledged message, duplicates none and keeps their order.
"""
import os
import subprocess
import time
from pathlib import Path

from conftest import ROOT, SLUICE, run
from test_11_broker_clients import api_versions

BUILD = Path(os.environ.get("SLUICE_BUILD", str(ROOT / "build")))


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


def test_kill9_after_acks_all_produce_keeps_every_message(broker):
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


def test_kill9_mid_produce_loses_no_acknowledged_message(broker):
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
