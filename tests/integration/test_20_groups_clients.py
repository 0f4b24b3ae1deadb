"""Consumer groups on `sluice broker` with every client in scope, unchanged:
kcat -G (librdkafka's balanced consumer), kafka-python KafkaConsumer with a
group_id, confluent-kafka Consumer with group.id, kafkajs consumer groups,
and `sluice consume -G` / `sluice groups`.

Each test starts its own broker (conftest `broker`).
"""
import json
import subprocess
import time

import pytest

from conftest import NODE_DIR, SLUICE, run


def produce(broker, topic, values, partitions=1):
    if partitions > 1:
        run([SLUICE, "topics", "-b", broker.addr, "--create", "--topic", topic,
             "--partitions", str(partitions), "--if-not-exists"])
    run([SLUICE, "produce", "-b", broker.addr, "-t", topic], input="".join(v + "\n" for v in values))


def groups_out(broker, *extra):
    return run([SLUICE, "groups", "-b", broker.addr, *extra]).stdout


def committed(broker, group):
    """{(topic, partition): committed offset} from `sluice groups -g`."""
    out = groups_out(broker, "-g", group)
    res = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and f[1].isdigit() and f[2].isdigit():
            res[(f[0], int(f[1]))] = int(f[2])
    return res


def test_kcat_balanced_consumer_reads_everything_and_commits(broker):
    values = [f"k{i}" for i in range(40)]
    produce(broker, "kg", values, partitions=2)
    p = run(["kcat", "-b", broker.addr, "-G", "kcat-group", "-o", "beginning", "-e", "-q",
             "-X", "enable.auto.commit=true", "kg"], timeout=60)
    assert sorted(p.stdout.split()) == sorted(values)
    # kcat commits on close: the group's offsets are at the end of both partitions.
    deadline = time.time() + 10
    while time.time() < deadline and sum(committed(broker, "kcat-group").values()) != 40:
        time.sleep(0.3)
    assert sum(committed(broker, "kcat-group").values()) == 40


def test_kafka_python_consumer_with_group_id_commits_and_resumes(broker):
    from kafka import KafkaConsumer
    produce(broker, "kp", [f"p{i}" for i in range(30)])
    c = KafkaConsumer("kp", bootstrap_servers=broker.addr, group_id="kp-group",
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      consumer_timeout_ms=15000)
    got = []
    for msg in c:
        got.append(msg.value.decode())
        if len(got) == 20:
            break
    c.commit()
    c.close()
    assert got == [f"p{i}" for i in range(20)]
    c = KafkaConsumer("kp", bootstrap_servers=broker.addr, group_id="kp-group",
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      consumer_timeout_ms=5000)
    rest = [m.value.decode() for m in c]
    c.close()
    assert rest == [f"p{i}" for i in range(20, 30)]


def test_confluent_kafka_consumer_with_group_commits(broker):
    from confluent_kafka import Consumer
    produce(broker, "ck", [f"c{i}" for i in range(25)])
    conf = {"bootstrap.servers": broker.addr, "group.id": "ck-group",
            "auto.offset.reset": "earliest", "enable.auto.commit": False}
    c = Consumer(conf)
    c.subscribe(["ck"])
    got = []
    deadline = time.time() + 30
    while len(got) < 25 and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got.append(m.value().decode())
    c.commit(asynchronous=False)
    offsets = c.committed(c.assignment(), timeout=10)
    c.close()
    assert got == [f"c{i}" for i in range(25)]
    assert [(o.partition, o.offset) for o in offsets] == [(0, 25)]


def test_kafkajs_consumer_group_reads_commits_and_lists(broker):
    produce(broker, "kj", [f"j{i}" for i in range(30)])
    p = run(["node", str(NODE_DIR / "groups_consume.mjs"), broker.addr, "kj", "kj-group", "30"],
            timeout=120)
    assert json.loads(p.stdout) == [f"j{i}" for i in range(30)]
    p = run(["node", str(NODE_DIR / "groups_consume.mjs"), "describe", broker.addr, "kj-group"],
            timeout=60)
    d = json.loads(p.stdout)
    assert {"groupId": "kj-group", "protocolType": "consumer"} in d["groups"]
    parts = [pp for t in d["topics"] if t["topic"] == "kj" for pp in t["partitions"]]
    assert parts and parts[0]["offset"] == "30"


def test_sluice_consume_G_commits_what_it_printed_and_groups_shows_lag(broker):
    produce(broker, "sg", [f"s{i}" for i in range(100)], partitions=4)
    first = run([SLUICE, "consume", "-b", broker.addr, "-t", "sg", "-G", "sg-group", "-c", "50"],
                timeout=60).stdout.split()
    assert len(first) == 50
    offs = committed(broker, "sg-group")
    assert sum(offs.values()) == 50
    out = groups_out(broker)
    assert "GROUP sg-group" in out and "STATE Empty" in out
    rows = [l.split() for l in out.splitlines() if l.split()[:1] == ["sg"]]
    assert rows, out
    for _topic, _part, cur, end, lag, _owner in rows:
        assert int(lag) == int(end) - int(cur)  # only partitions with a commit are listed
    assert sum(int(r[2]) for r in rows) == 50
    rest = run([SLUICE, "consume", "-b", broker.addr, "-t", "sg", "-G", "sg-group", "-e"],
               timeout=60).stdout.split()
    assert len(rest) == 50
    assert sorted(first + rest, key=lambda v: int(v[1:])) == [f"s{i}" for i in range(100)]
    assert groups_out(broker, "--list").split() == ["sg-group"]


def test_sluice_groups_shows_members_and_assignments_of_a_live_group(broker):
    produce(broker, "lg", [f"l{i}" for i in range(10)], partitions=2)
    proc = subprocess.Popen([SLUICE, "consume", "-b", broker.addr, "-t", "lg", "-G", "live"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        out = ""
        while time.time() < deadline:
            out = groups_out(broker, "-g", "live")
            if "STATE Stable" in out and "lg:0,lg:1" in out:
                break
            time.sleep(0.3)
        assert "STATE Stable" in out and "MEMBERS 1" in out, out
        assert "ASSIGNMENT lg:0,lg:1" in out, out
        assert "PROTOCOL range" in out, out
    finally:
        proc.terminate()
        proc.wait(10)
