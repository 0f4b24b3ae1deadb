"""Committed offsets on `sluice broker` are durable: consume 50 of 100 and
commit, restart the consumer, it gets exactly the other 50; commits survive
a graceful broker restart and a kill -9 right after they were acknowledged;
a torn tail of the group file is cut on restart without losing the commits
before it.
"""
import time

from conftest import SLUICE, run

GROUP_FILE = "__sluice_groups.log"


def produce(broker, topic, n, partitions=1):
    run([SLUICE, "topics", "-b", broker.addr, "--create", "--topic", topic,
         "--partitions", str(partitions), "--if-not-exists"])
    run([SLUICE, "produce", "-b", broker.addr, "-t", topic],
        input="".join(f"m{i}\n" for i in range(n)))


def consume_group(broker, topic, group, *extra):
    return run([SLUICE, "consume", "-b", broker.addr, "-t", topic, "-G", group, *extra],
               timeout=60).stdout.split()


def committed_kafka_python(broker, topic, group, partitions=1):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=broker.addr, group_id=group, enable_auto_commit=False)
    try:
        return [c.committed(TopicPartition(topic, p)) for p in range(partitions)]
    finally:
        c.close()


def test_consume_50_of_100_commit_restart_gets_exactly_the_other_50(broker):
    produce(broker, "half", 100, partitions=3)
    first = consume_group(broker, "half", "halves", "-c", "50")
    second = consume_group(broker, "half", "halves", "-e")
    assert len(first) == 50 and len(second) == 50
    assert sorted(first + second, key=lambda v: int(v[1:])) == [f"m{i}" for i in range(100)]


def test_confluent_commit_survives_graceful_restart_and_kill9(broker):
    from confluent_kafka import Consumer, TopicPartition
    produce(broker, "dur", 100)
    conf = {"bootstrap.servers": broker.addr, "group.id": "dur-group",
            "enable.auto.commit": False}
    c = Consumer(conf)
    c.commit(offsets=[TopicPartition("dur", 0, 42)], asynchronous=False)
    c.close()
    broker.stop()
    broker.start()
    assert committed_kafka_python(broker, "dur", "dur-group") == [42]

    c = Consumer(conf)
    c.commit(offsets=[TopicPartition("dur", 0, 77)], asynchronous=False)  # acknowledged...
    broker.kill9()                                                       # ...then kill -9
    c.close()
    broker.start()
    assert committed_kafka_python(broker, "dur", "dur-group") == [77]
    # A group consumer resumes exactly there.
    rest = consume_group(broker, "dur", "dur-group", "-e")
    assert rest == [f"m{i}" for i in range(77, 100)]


def test_kafka_python_commits_then_kill9_many_times(broker):
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata
    produce(broker, "many", 10)
    for round_ in range(3):
        c = KafkaConsumer(bootstrap_servers=broker.addr, group_id="many-group",
                          enable_auto_commit=False)
        tp = TopicPartition("many", 0)
        c.commit({tp: OffsetAndMetadata(round_ + 3, "meta-%d" % round_)})
        broker.kill9()
        c.close()
        broker.start()
        assert committed_kafka_python(broker, "many", "many-group") == [round_ + 3]


def test_torn_group_file_tail_is_cut_and_earlier_commits_kept(broker):
    from confluent_kafka import Consumer, TopicPartition
    produce(broker, "torn", 5)
    c = Consumer({"bootstrap.servers": broker.addr, "group.id": "torn-group"})
    c.commit(offsets=[TopicPartition("torn", 0, 4)], asynchronous=False)
    c.close()
    broker.kill9()
    with open(broker.data / GROUP_FILE, "ab") as f:
        f.write(b"\x00\x00\x00\x40garbage-that-is-not-a-record")
    broker.start()
    assert committed_kafka_python(broker, "torn", "torn-group") == [4]
    assert "cutting" in broker.output()
    # The file is usable again: a new commit lands and survives another kill.
    c = Consumer({"bootstrap.servers": broker.addr, "group.id": "torn-group"})
    c.commit(offsets=[TopicPartition("torn", 0, 5)], asynchronous=False)
    c.close()
    broker.kill9()
    broker.start()
    assert committed_kafka_python(broker, "torn", "torn-group") == [5]
