"""sluice produce / consume / topics against a real `sluice broker`.

Each test starts its own broker on a free loopback port (conftest `broker`).
The same round trips as test_11, but through sluice's own client commands,
plus the usage errors (exit 2) and runtime errors (exit 1, one line).
"""
import json
import os
import subprocess
import time

import pytest

from conftest import SLUICE, run


def sluice(*args, input=None, check=True, timeout=60):
    return run([SLUICE, *args], input=input, check=check, timeout=timeout)


def produce(broker, topic, lines, *extra):
    data = "".join(line + "\n" for line in lines)
    return sluice("produce", "-b", broker.addr, "-t", topic, *extra, input=data)


def consume(broker, topic, *extra):
    return sluice("consume", "-b", broker.addr, "-t", topic, "-e", *extra)


def test_seq_42_round_trip_prints_produced_and_reads_back(broker):
    p = produce(broker, "foo", [str(i) for i in range(1, 43)])
    assert p.stderr.strip() == "Produced 42 messages."
    c = consume(broker, "foo", "-o", "beginning")
    assert c.stdout.split("\n")[:-1] == [str(i) for i in range(1, 43)]
    assert c.stderr == ""


def test_json_lines_are_byte_identical_after_round_trip(broker):
    lines = [json.dumps({"event_type": "purchase_sword", "n": i, "text": "é ✓ \"q\" \\ tab\t"},
                        ensure_ascii=False) for i in range(100)]
    produce(broker, "events", lines)
    c = run([SLUICE, "consume", "-b", broker.addr, "-t", "events", "-e"], input=None)
    assert c.stdout == "".join(l + "\n" for l in lines)


def test_bootstrap_from_environment(broker):
    env = dict(os.environ, SLUICE_BOOTSTRAP=broker.addr)
    p = run([SLUICE, "produce", "-t", "envt"], input="a\nb\n", env=env)
    assert "Produced 2 messages." in p.stderr
    c = run([SLUICE, "consume", "-t", "envt", "-e"], env=env)
    assert c.stdout == "a\nb\n"


def test_keys_partitions_offsets_in_format(broker):
    sluice("topics", "-b", broker.addr, "--create", "--topic", "kv", "--partitions", "4")
    lines = [f"user{i % 5}:v{i}" for i in range(40)]
    produce(broker, "kv", lines, "-K", ":")
    c = consume(broker, "kv", "-f", "%k|%s|%p|%o\\n")
    rows = [r.split("|") for r in c.stdout.splitlines()]
    assert len(rows) == 40
    assert sorted(r[1] for r in rows) == sorted(f"v{i}" for i in range(40))
    part_of_key = {}
    for key, value, part, off in rows:
        assert value == "v" + str(int(value[1:]))
        assert key == f"user{int(value[1:]) % 5}"
        assert part_of_key.setdefault(key, part) == part, "a key landed in two partitions"
    # offsets are dense per partition and increasing in reading order
    per_part = {}
    for key, value, part, off in rows:
        per_part.setdefault(part, []).append(int(off))
    for offs in per_part.values():
        assert offs == list(range(len(offs)))


def test_fixed_key_and_explicit_partition(broker):
    sluice("topics", "-b", broker.addr, "--create", "--topic", "pp", "--partitions", "3")
    produce(broker, "pp", ["a", "b"], "-k", "K", "-p", "2")
    c = consume(broker, "pp", "-f", "%p %k %s\\n")
    assert c.stdout == "2 K a\n2 K b\n"
    c = consume(broker, "pp", "-p", "2", "-f", "%o:%s\\n")
    assert c.stdout == "0:a\n1:b\n"
    c = consume(broker, "pp", "-p", "0")
    assert c.stdout == ""


def test_offset_and_count(broker):
    produce(broker, "oc", [f"m{i}" for i in range(10)])
    assert consume(broker, "oc", "-o", "7").stdout == "m7\nm8\nm9\n"
    assert consume(broker, "oc", "-o", "end").stdout == ""
    c = sluice("consume", "-b", broker.addr, "-t", "oc", "-c", "3")
    assert c.stdout == "m0\nm1\nm2\n"
    assert consume(broker, "oc", "-c", "4", "-o", "5").stdout == "m5\nm6\nm7\nm8\n"


def test_count_waits_for_messages_produced_later(broker):
    produce(broker, "later", ["first"])
    p = subprocess.Popen([SLUICE, "consume", "-b", broker.addr, "-t", "later", "-c", "3"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    produce(broker, "later", ["second", "third"])
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert out == "first\nsecond\nthird\n"


def test_empty_lines_and_long_lines(broker):
    long = "x" * 200000
    produce(broker, "shapes", ["", "a", "", long])
    c = consume(broker, "shapes", "-f", "%S:%s\\n")
    assert c.stdout == f"0:\n1:a\n0:\n200000:{long}\n"


def test_last_line_without_newline_is_a_message(broker):
    p = sluice("produce", "-b", broker.addr, "-t", "nonl", input="one\ntwo")
    assert "Produced 2 messages." in p.stderr
    assert consume(broker, "nonl").stdout == "one\ntwo\n"


def test_acks_variants_all_deliver(broker):
    for acks in ["0", "1", "all", "-1"]:
        p = produce(broker, "acks", [f"{acks}-x"], "--acks", acks)
        assert "Produced 1 messages." in p.stderr
    # acks=0 gets no response, but the message still lands
    assert sorted(consume(broker, "acks").stdout.split()) == ["-1-x", "0-x", "1-x", "all-x"]


def test_compression_property_round_trip(broker):
    lines = [f"compressible line {i} " * 20 for i in range(200)]
    for codec in ["gzip", "snappy", "lz4", "zstd"]:
        produce(broker, f"z-{codec}", lines, "-X", f"compression.codec={codec}")
        assert consume(broker, f"z-{codec}").stdout.splitlines() == lines


def test_consume_into_head_stays_quiet(broker):
    produce(broker, "many", [f"line {i}" for i in range(20000)])
    p = subprocess.run(f"'{SLUICE}' consume -b {broker.addr} -t many -e | head -n 3",
                       shell=True, capture_output=True, text=True, timeout=60)
    assert p.stdout == "line 0\nline 1\nline 2\n"
    assert p.stderr == ""


def test_topics_create_describe_list_delete(broker):
    b = ["topics", "-b", broker.addr]
    c = sluice(*b, "--create", "--topic", "foo", "--partitions", "3", "--replication-factor", "1")
    assert c.stdout.strip() == "Created topic foo."
    d = sluice(*b, "--describe", "--topic", "foo").stdout.splitlines()
    assert d[0].startswith("Topic: foo\tPartitionCount: 3\tReplicationFactor: 1")
    assert len(d) == 4
    for i, line in enumerate(d[1:]):
        assert f"Partition: {i}\t" in line and "Leader:" in line and "Isr:" in line
    sluice(*b, "--create", "--topic", "bar")
    names = sluice(*b, "--list").stdout.split()
    assert "foo" in names and "bar" in names
    # create again: an error, unless --if-not-exists
    again = sluice(*b, "--create", "--topic", "foo", check=False)
    assert again.returncode == 1
    assert again.stderr.startswith("sluice topics: ") and "foo" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    sluice(*b, "--create", "--topic", "foo", "--if-not-exists")
    sluice(*b, "--delete", "--topic", "foo")
    assert "foo" not in sluice(*b, "--list").stdout.split()
    gone = sluice(*b, "--describe", "--topic", "foo", check=False)
    assert gone.returncode == 1 and "does not exist" in gone.stderr
    again = sluice(*b, "--delete", "--topic", "foo", check=False)
    assert again.returncode == 1 and "does not exist" in again.stderr
    sluice(*b, "--delete", "--topic", "foo", "--if-exists")


def test_topics_create_with_configs_as_kafka_topics_does(broker):
    b = ["topics", "-b", broker.addr]
    sluice(*b, "--create", "--topic", "kept", "--config", "retention.ms=-1",
           "--config", "segment.bytes=1048576")
    d = sluice(*b, "--describe", "--topic", "kept").stdout.splitlines()
    # kafka-topics shows the configs set for the topic, not the defaults.
    assert d[0].endswith("\tConfigs: segment.bytes=1048576,retention.ms=-1"), d[0]
    sluice(*b, "--create", "--topic", "plain")
    assert sluice(*b, "--describe", "--topic", "plain").stdout.splitlines()[0].endswith(
        "\tConfigs: ")
    for config, why in [("retention.ms=1h", "retention.ms wants an integer"),
                        ("cleanup.policy=compact", "cleanup.policy=delete"),
                        ("no.such.config=1", "unknown topic config")]:
        r = sluice(*b, "--create", "--topic", "refused", "--config", config, check=False)
        assert r.returncode == 1, r.stderr
        assert r.stderr.startswith("sluice topics: ") and why in r.stderr, r.stderr
        assert len(r.stderr.splitlines()) == 1
    assert "refused" not in sluice(*b, "--list").stdout.split()


def test_topics_bootstrap_server_synonym_as_in_kafka_topics(broker):
    sluice("topics", "--create", "--topic", "syn", "--partitions", "1", "--replication-factor",
           "1", "--if-not-exists", "--bootstrap-server", broker.addr)
    d = sluice("topics", "--describe", "--topic", "syn", "--bootstrap-server", broker.addr)
    assert "PartitionCount: 1" in d.stdout


def test_describe_does_not_create_topic(broker):
    r = sluice("topics", "-b", broker.addr, "--describe", "--topic", "ghost", check=False)
    assert r.returncode == 1
    assert "ghost" not in sluice("topics", "-b", broker.addr, "--list").stdout.split()


def test_consume_unknown_topic_is_runtime_error(broker):
    r = sluice("consume", "-b", broker.addr, "-t", "nope", "-e", check=False)
    assert r.returncode == 1
    assert r.stderr == "sluice consume: topic 'nope' does not exist\n"


def test_consume_unknown_partition_is_runtime_error(broker):
    produce(broker, "onep", ["x"])
    r = sluice("consume", "-b", broker.addr, "-t", "onep", "-p", "5", "-e", check=False)
    assert r.returncode == 1
    assert "partition 5" in r.stderr and len(r.stderr.splitlines()) == 1


@pytest.mark.parametrize("args", [
    ["produce"],                                   # no topic
    ["produce", "-t", "x", "-k", "a", "-K", ":"],  # -k with -K
    ["produce", "-t", "x", "--acks", "2"],
    ["produce", "-t", "x", "-p", "-3"],
    ["produce", "-t", "x", "extra"],
    ["produce", "-t", "x", "--bogus"],
    ["produce", "-t", "x", "-X", "no.such.prop=1"],
    ["consume"],
    ["consume", "-t", "x", "-o", "somewhere"],
    ["consume", "-t", "x", "-o", "-5"],
    ["consume", "-t", "x", "-c", "many"],
    ["consume", "-t", "x", "-f", "%q"],
    ["consume", "-t", "x", "-G", "g", "-p", "1"],   # a group assigns partitions
    ["consume", "-t", "x", "-G", "g", "-o", "5"],   # and starts at committed offsets
    ["topics"],
    ["topics", "--list", "--create", "--topic", "x"],
    ["topics", "--create"],
    ["topics", "--describe"],
    ["topics", "--create", "--topic", "x", "--partitions", "0"],
    ["topics", "--create", "--topic", "x", "--partitions", "two"],
    ["topics", "--create", "--topic", "x", "--config", "retention.ms"],
    ["topics", "--describe", "--topic", "x", "--config", "retention.ms=1"],
])
def test_usage_errors_exit_2_with_one_line(broker, args):
    r = sluice(*args[:1], "-b", broker.addr, *args[1:], input="", check=False)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"sluice {args[0]}: ")
    assert len(r.stderr.splitlines()) == 1


def test_help_exits_0():
    for cmd in ["produce", "consume", "topics"]:
        r = sluice(cmd, "--help")
        assert r.stdout.startswith(f"sluice {cmd}: ")
        assert "usage: sluice " + cmd in r.stdout


def test_runtime_errors_when_broker_is_down(broker):
    addr = broker.addr
    broker.stop()
    r = sluice("consume", "-b", addr, "-t", "x", "-e", check=False)
    assert r.returncode == 1 and r.stderr.startswith("sluice consume: ")
    assert addr in r.stderr and len(r.stderr.splitlines()) == 1
    r = sluice("topics", "-b", addr, "--list", check=False)
    assert r.returncode == 1 and r.stderr.startswith("sluice topics: ")
    r = sluice("produce", "-b", addr, "-t", "x", "-X", "message.timeout.ms=1500",
               input="a\n", check=False)
    assert r.returncode == 1
    assert r.stderr.startswith("sluice produce: 1 of 1 messages not delivered")
    assert len(r.stderr.splitlines()) == 1
    broker.start()


def test_week06_handout_spellings(broker):
    """The kafka-topics / kafka-console-* flags of the week-06 handout work as is."""
    c = sluice("topics", "--create", "--topic", "foo", "--partitions", "1",
               "--replication-factor", "1", "--if-not-exists", "--bootstrap-server", broker.addr)
    assert c.stdout == "Created topic foo.\n"
    d = sluice("topics", "--describe", "--topic", "foo", "--bootstrap-server", broker.addr)
    assert d.stdout.startswith("Topic: foo\tPartitionCount: 1\tReplicationFactor: 1")
    p = sluice("produce", "--request-required-acks", "1", "--broker-list", broker.addr,
               "--topic", "foo", input="".join(f"{i}\n" for i in range(1, 43)))
    assert p.stderr == "Produced 42 messages.\n"
    c = sluice("consume", "--bootstrap-server", broker.addr, "--topic", "foo",
               "--from-beginning", "--max-messages", "42")
    assert c.stdout.splitlines() == [str(i) for i in range(1, 43)]


def test_produce_to_missing_topic_without_auto_create_fails_fast(tmp_path):
    from conftest import Server, free_port
    port = free_port()
    srv = Server(["broker", "--listen", f"127.0.0.1:{port}", "--data", str(tmp_path / "d"),
                  "--no-auto-create"], port, tmp_path / "broker.log").start()
    try:
        t0 = time.time()
        r = sluice("produce", "-b", srv.addr, "-t", "missing", input="x\n", check=False)
        assert r.returncode == 1
        assert r.stderr.startswith("sluice produce: 1 of 1 messages not delivered: "
                                   "topic 'missing' does not exist")
        assert time.time() - t0 < 15
        sluice("topics", "-b", srv.addr, "--create", "--topic", "present")
        p = sluice("produce", "-b", srv.addr, "-t", "present", input="x\n")
        assert p.stderr == "Produced 1 messages.\n"
    finally:
        srv.stop()


def test_produce_to_missing_partition_names_it(broker):
    produce(broker, "onepart", ["a"])
    r = sluice("produce", "-b", broker.addr, "-t", "onepart", "-p", "5", input="b\n", check=False)
    assert r.returncode == 1
    assert r.stderr == ("sluice produce: 1 of 1 messages not delivered: "
                        "partition 5 of topic 'onepart' does not exist\n")
