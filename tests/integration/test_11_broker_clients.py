"""Real Kafka clients, unchanged and with default settings, against
`sluice broker`: kcat, a librdkafka C program, kafka-python (exactly as the
week-12 Flask app uses it), confluent-kafka-python and kafkajs.

Each test starts its own broker on a free loopback port (conftest `broker`).
"""
import json
import os
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import NODE_DIR, ROOT, SLUICE, run

BUILD = Path(os.environ.get("SLUICE_BUILD", str(ROOT / "build")))


def api_versions(addr):
    """{api_key: (min, max)} from a raw ApiVersions v0 request."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        body = struct.pack(">hhih", 18, 0, 1, 4) + b"test"
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
        data = s.recv(size, socket.MSG_WAITALL)
    _corr, err, n = struct.unpack(">ihi", data[:10])
    assert err == 0
    return {k: (lo, hi) for k, lo, hi in
            (struct.unpack(">hhh", data[10 + 6 * i:16 + 6 * i]) for i in range(n))}


def has_groups(addr):
    keys = api_versions(addr)
    return all(k in keys for k in (10, 11, 12, 13, 14))  # FindCoordinator..SyncGroup


def kcat(*args, input=None, check=True):
    return run(["kcat", *args], input=input, check=check, timeout=60)


def kcat_consume(broker, topic, *extra):
    return kcat("-C", "-b", broker.addr, "-t", topic, "-o", "beginning", "-e", "-q", *extra)


def log_bytes(broker, topic):
    """Bytes of the broker's files that belong to a topic (any layout that
    names the directory after the topic)."""
    total = 0
    for path in Path(broker.data).rglob("*"):
        if path.is_file() and topic in str(path.relative_to(broker.data)):
            total += path.stat().st_size
    return total


# --------------------------------------------------------------------- kcat

def test_kcat_seq_42_round_trip(broker):
    kcat("-P", "-b", broker.addr, "-t", "foo", input="".join(f"{i}\n" for i in range(1, 43)))
    out = kcat("-C", "-b", broker.addr, "-t", "foo", "-o", "beginning", "-e").stdout
    assert out.splitlines() == [str(i) for i in range(1, 43)]


def test_kcat_100_json_lines_byte_identical(broker):
    lines = [json.dumps({"event_type": "purchase_sword", "Host": "localhost:5000",
                         "User-Agent": "curl/7.47.0", "n": i, "s": "é \"x\" \\ ✓"},
                        ensure_ascii=False) for i in range(100)]
    data = "".join(l + "\n" for l in lines).encode()
    kcat("-P", "-b", broker.addr, "-t", "json", input=data)
    p = subprocess.run(["kcat", "-C", "-b", broker.addr, "-t", "json", "-o", "beginning", "-e",
                        "-q"], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == data


def test_kcat_keys_and_metadata_list(broker):
    kcat("-P", "-b", broker.addr, "-t", "keyed", "-K", ":", input="a:1\nb:2\na:3\n")
    out = kcat_consume(broker, "keyed", "-f", "%k=%s@%o\n").stdout
    assert out == "a=1@0\nb=2@1\na=3@2\n"
    meta = kcat("-L", "-b", broker.addr, "-t", "keyed").stdout
    assert 'topic "keyed" with 1 partitions' in meta


# ------------------------------------------------------------- librdkafka C

def roundtrip(broker, topic, *args):
    return run([str(BUILD / "rdkafka_roundtrip"), "-b", broker.addr, "-t", topic, *args],
               timeout=120)


def test_librdkafka_c_producer_and_consumer(broker):
    p = roundtrip(broker, "c-roundtrip", "-n", "5000", "-s", "200")
    assert p.stdout.startswith("ok produced=5000 consumed=5000")


def test_librdkafka_c_acks_1_and_large_messages(broker):
    p = roundtrip(broker, "c-large", "-n", "50", "-s", "300000", "-a", "1")
    assert p.stdout.startswith("ok produced=50 consumed=50")


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_librdkafka_compressed_batches_read_back_intact(broker, codec):
    n, size = 4000, 1000
    p = roundtrip(broker, f"z-{codec}", "-n", str(n), "-s", str(size), "-z", codec)
    assert p.stdout.startswith(f"ok produced={n} consumed={n}")
    # The values are repetitive text: if the batches were stored compressed,
    # as Kafka stores them, the log is far smaller than the raw values.
    stored = log_bytes(broker, f"z-{codec}")
    if codec == "lz4" and 10 not in api_versions(broker.addr) and stored >= n * size / 4:
        # rdkafka_feature.c: feature LZ4 needs FindCoordinator v0 in the
        # broker's ApiVersions; without it librdkafka 2.0.2 sends lz4 batches
        # uncompressed ("Disabling feature LZ4" with -d feature).
        pytest.xfail("librdkafka sends lz4 uncompressed until the broker advertises "
                     "FindCoordinator (consumer groups: issue 4)")
    assert 0 < stored < n * size / 4, f"{stored} bytes stored for {n * size} raw: not compressed?"


def test_keyed_messages_stay_in_their_partition(broker):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": broker.addr})
    fut = admin.create_topics([NewTopic("keyed4", num_partitions=4, replication_factor=1)])
    fut["keyed4"].result(timeout=30)
    p = roundtrip(broker, "keyed4", "-n", "2000", "-s", "50", "-k", "16")
    assert p.stdout.startswith("ok produced=2000 consumed=2000 partitions=4")
    rows = kcat_consume(broker, "keyed4", "-f", "%k %p\n").stdout.splitlines()
    assert len(rows) == 2000
    part_of = {}
    for row in rows:
        key, part = row.split()
        assert part_of.setdefault(key, part) == part, f"key {key} in two partitions"
    assert len(set(part_of.values())) > 1, "16 keys all hashed to one partition"


# ------------------------------------------------------------- kafka-python

def take(consumer, n, values=True):
    """The first n messages (their values), or fewer if the consumer times out."""
    got = []
    for m in consumer:
        got.append(m.value if values else m)
        if len(got) == n:
            break
    return got


def test_kafka_python_producer_as_in_the_flask_app_and_consumer(broker):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    # week 12: producer = KafkaProducer(bootstrap_servers='kafka:29092'), no api_version
    producer = KafkaProducer(bootstrap_servers=broker.addr)
    events = [json.dumps({"event_type": "purchase_sword", "i": i}).encode() for i in range(50)]
    futures = [producer.send("events", e) for e in events]
    producer.flush()
    offsets = [f.get(timeout=10).offset for f in futures]
    assert offsets == list(range(50))
    producer.close()

    # without a group: explicit assignment
    consumer = KafkaConsumer(bootstrap_servers=broker.addr, auto_offset_reset="earliest",
                             consumer_timeout_ms=30000)
    tp = TopicPartition("events", 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    assert take(consumer, 50) == events
    consumer.close()

    # and the usual tutorial form: topic in the constructor, no group_id
    consumer = KafkaConsumer("events", bootstrap_servers=broker.addr,
                             auto_offset_reset="earliest", consumer_timeout_ms=30000)
    assert take(consumer, 50) == events
    consumer.close()


def test_kafka_python_keys_and_timestamps(broker):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    producer = KafkaProducer(bootstrap_servers=broker.addr)
    before = int(time.time() * 1000)
    producer.send("kp-keys", key=b"user-1", value=b"v1", timestamp_ms=before)
    producer.send("kp-keys", key=None, value=b"")
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=broker.addr, auto_offset_reset="earliest",
                             consumer_timeout_ms=30000)
    consumer.assign([TopicPartition("kp-keys", 0)])
    msgs = take(consumer, 2, values=False)
    consumer.close()
    assert [(m.key, m.value) for m in msgs] == [(b"user-1", b"v1"), (None, b"")]
    assert msgs[0].timestamp == before


# -------------------------------------------------------- confluent-kafka

def test_confluent_kafka_producer_and_assigned_consumer(broker):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
    producer = Producer({"bootstrap.servers": broker.addr})
    acked = []
    for i in range(300):
        producer.produce("ck", value=f"ck-{i}".encode(), key=f"k{i % 7}".encode(),
                         on_delivery=lambda err, msg: acked.append((err, msg.offset())))
    assert producer.flush(30) == 0
    assert all(err is None for err, _ in acked) and len(acked) == 300

    # confluent-kafka refuses a Consumer without group.id ("group.id must be
    # set"); with assign() and no commits the group is never joined.
    consumer = Consumer({"bootstrap.servers": broker.addr, "group.id": "unused-assign-only",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition("ck", 0, OFFSET_BEGINNING)])
    got = []
    deadline = time.time() + 30
    while len(got) < 300 and time.time() < deadline:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        assert msg.error() is None, msg.error()
        got.append((msg.key(), msg.value(), msg.offset()))
    consumer.close()
    assert got == [(f"k{i % 7}".encode(), f"ck-{i}".encode(), i) for i in range(300)]


def test_confluent_kafka_admin_create_list_delete(broker):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": broker.addr})
    admin.create_topics([NewTopic("ck-admin", num_partitions=3, replication_factor=1)])[
        "ck-admin"].result(timeout=30)
    md = admin.list_topics(timeout=10)
    assert len(md.topics["ck-admin"].partitions) == 3
    admin.delete_topics(["ck-admin"])["ck-admin"].result(timeout=30)
    assert "ck-admin" not in admin.list_topics(timeout=10).topics


# ------------------------------------------------------------------ kafkajs

def node(*args, check=True):
    return run(["node", str(NODE_DIR / "kafka_roundtrip.mjs"), *args], timeout=120, check=check)


def test_kafkajs_producer_and_admin_offsets(broker):
    out = node("produce", broker.addr, "kjs", "25").stdout
    assert json.loads(out) == [{"partition": 0, "offset": "25", "high": "25", "low": "0"}]
    vals = kcat_consume(broker, "kjs", "-f", "%k=%s\n").stdout.splitlines()
    assert vals == [f"k{i % 3}=kjs-{i}" for i in range(25)]


def test_kafkajs_admin_creates_and_alters_topic_configs(broker):
    out = node("configs", broker.addr, "kjs-conf").stdout
    assert json.loads(out) == {"retention.ms": "3600000", "segment.ms": "60000"}


def test_kafkajs_gzip_producer(broker):
    node("produce", broker.addr, "kjs-gz", "40", "gzip")
    vals = kcat_consume(broker, "kjs-gz").stdout.splitlines()
    assert vals == [f"kjs-{i}" for i in range(40)]


def test_kafkajs_group_consumer(broker):
    if not has_groups(broker.addr):
        pytest.xfail("consumer groups: issue 4")
    kcat("-P", "-b", broker.addr, "-t", "kjs-g", input="".join(f"g{i}\n" for i in range(30)))
    out = node("consume", broker.addr, "kjs-g", "30", "kjs-group").stdout
    assert json.loads(out) == [f"g{i}" for i in range(30)]
