"""sluice broker, the protocol layer, driven by raw sockets and real clients.

Covers the ApiVersions handshake (v0, v3 with its header-v0 quirk, the v0-format
UNSUPPORTED_VERSION answer for v4+), kafka-python's broker-version probe,
hostile frames (oversized, negative size, truncated, unknown API) that must
cost only their own connection, hundreds of concurrent connections, request
ordering on one connection, acks=0 silence, Fetch long polling, and topic
auto-creation with and without --no-auto-create.
"""
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import SLUICE, Server, free_port, run

# The first frame librdkafka 2.0.2 sends on every connection (design §2.1).
RDKAFKA_API_VERSIONS_V3 = bytes.fromhex(
    "00000024" "0012" "0003" "00000001" "0007" "72646b61666b61" "00"
    "0b" "6c696272646b61666b61" "06" "322e302e32" "00")

# What the protocol layer serves (consumer groups and InitProducerId add more rows).
ADVERTISED = {0: (0, 7), 1: (4, 11), 2: (0, 3), 3: (0, 7), 18: (0, 3), 19: (0, 4),
              20: (0, 3), 32: (0, 2), 33: (0, 1)}
NOT_SERVED = {17, 21, 23, 24, 25, 26, 28}  # SASL, DeleteRecords, transactions


def check_advertised(apis):
    for key, rng in ADVERTISED.items():
        assert apis.get(key) == rng, (key, apis.get(key))
    assert not NOT_SERVED & set(apis)
    # Every advertised range stays below the API's first flexible version
    # (design §1.5): only ApiVersions v3 is flexible.
    first_flexible = {0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4,
                      14: 4, 15: 5, 16: 3, 19: 5, 20: 4, 22: 2, 32: 4, 33: 2}
    for key, (lo, hi) in apis.items():
        assert lo <= hi
        if key != 18:
            assert hi < first_flexible[key], key


def host_port(broker):
    return ("127.0.0.1", broker.port)


def connect(broker, timeout=10):
    s = socket.create_connection(host_port(broker), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def kstr(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def request(key, version, corr, body=b"", client="pytest", flexible=False):
    hdr = struct.pack(">hhi", key, version, corr) + kstr(client)
    if flexible:
        hdr += b"\x00"
    payload = hdr + body
    return struct.pack(">i", len(payload)) + payload


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def recv_frame(s):
    (size,) = struct.unpack(">i", recv_exact(s, 4))
    return recv_exact(s, size)


def closed_by_peer(s, timeout=5):
    """True when the broker closed the connection (EOF or reset) within timeout."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def parse_api_versions(body, version):
    """Parse an ApiVersions response body (after the correlation id)."""
    (err,) = struct.unpack_from(">h", body, 0)
    pos = 2
    if version >= 3:
        n, pos = uvarint(body, pos)
        n -= 1
    else:
        (n,) = struct.unpack_from(">i", body, pos)
        pos += 4
    apis = {}
    for _ in range(n):
        k, lo, hi = struct.unpack_from(">hhh", body, pos)
        pos += 6
        if version >= 3:
            assert body[pos] == 0, "per-element tag buffer must be empty"
            pos += 1
        apis[k] = (lo, hi)
    if version >= 1:
        pos += 4  # throttle_time_ms
    if version >= 3:
        assert body[pos] == 0
        pos += 1
    return err, apis, pos


def uvarint(b, pos):
    shift = value = 0
    while True:
        c = b[pos]
        pos += 1
        value |= (c & 0x7F) << shift
        if not c & 0x80:
            return value, pos
        shift += 7


def metadata_v1(corr, topics):
    body = struct.pack(">i", len(topics)) + b"".join(kstr(t) for t in topics)
    return request(3, 1, corr, body)


def parse_metadata_v1(body):
    """Return {topic: (error_code, npartitions)} from a Metadata v1 response body."""
    pos = 0
    (nb,) = struct.unpack_from(">i", body, pos)
    pos += 4
    for _ in range(nb):
        pos += 4
        (hl,) = struct.unpack_from(">h", body, pos)
        pos += 2 + hl + 4
        (rl,) = struct.unpack_from(">h", body, pos)
        pos += 2 + max(rl, 0)
    pos += 4  # controller_id
    (nt,) = struct.unpack_from(">i", body, pos)
    pos += 4
    out = {}
    for _ in range(nt):
        (ec,) = struct.unpack_from(">h", body, pos)
        pos += 2
        (nl,) = struct.unpack_from(">h", body, pos)
        name = body[pos + 2:pos + 2 + nl].decode()
        pos += 2 + nl + 1
        (np_,) = struct.unpack_from(">i", body, pos)
        pos += 4
        for _ in range(np_):
            pos += 2 + 4 + 4
            for _ in range(2):
                (k,) = struct.unpack_from(">i", body, pos)
                pos += 4 + 4 * k
        out[name] = (ec, np_)
    return out


def fetch_v4(corr, topic, offset, max_wait_ms, min_bytes=1):
    body = struct.pack(">iiiib", -1, max_wait_ms, min_bytes, 52428800, 0)
    body += struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1)
    body += struct.pack(">iqi", 0, offset, 1048576)
    return request(1, 4, corr, body)


def parse_fetch_v4(body):
    """Return (error_code, high_watermark, records_len) of the single partition."""
    pos = 4  # throttle
    (nt,) = struct.unpack_from(">i", body, pos)
    pos += 4
    assert nt == 1
    (nl,) = struct.unpack_from(">h", body, pos)
    pos += 2 + nl + 4
    _, ec, hw, _lso = struct.unpack_from(">ihqq", body, pos)
    pos += 4 + 2 + 8 + 8
    (na,) = struct.unpack_from(">i", body, pos)
    pos += 4 + max(na, 0) * 16
    (rl,) = struct.unpack_from(">i", body, pos)
    return ec, hw, rl


def ensure_topic(broker, topic):
    with connect(broker) as s:
        s.sendall(metadata_v1(1, [topic]))
        body = recv_frame(s)[4:]
        assert parse_metadata_v1(body)[topic] == (0, 1)


@pytest.fixture
def strict_broker(tmp_path):
    """A broker started with --no-auto-create."""
    port = free_port()
    srv = Server(["broker", "--listen", f"127.0.0.1:{port}", "--data",
                  str(tmp_path / "data"), "--no-auto-create"], port, tmp_path / "broker.log")
    srv.start()
    yield srv
    srv.stop()


# ---- ApiVersions -------------------------------------------------------------

def test_api_versions_v0_lists_exactly_the_served_apis(broker):
    with connect(broker) as s:
        s.sendall(request(18, 0, 7))
        frame = recv_frame(s)
    (corr,) = struct.unpack_from(">i", frame)
    err, apis, end = parse_api_versions(frame[4:], 0)
    assert corr == 7 and err == 0
    check_advertised(apis)
    assert end == len(frame) - 4


def test_api_versions_v3_from_librdkafka_has_header_v0_and_compact_body(broker):
    with connect(broker) as s:
        s.sendall(RDKAFKA_API_VERSIONS_V3)
        frame = recv_frame(s)
    (corr,) = struct.unpack_from(">i", frame)
    assert corr == 1
    # No tag byte after the correlation id: the body starts with error_code 0.
    err, apis, end = parse_api_versions(frame[4:], 3)
    assert err == 0
    check_advertised(apis)
    assert end == len(frame) - 4


def test_api_versions_v4_gets_unsupported_version_in_v0_format(broker):
    body = b"\x0csluice-test\x061.0.0\x00"
    with connect(broker) as s:
        s.sendall(request(18, 4, 99, body, flexible=True))
        frame = recv_frame(s)
        (corr,) = struct.unpack_from(">i", frame)
        err, apis, _ = parse_api_versions(frame[4:], 0)
        assert corr == 99 and err == 35
        assert apis[18] == (0, 3)
        # The connection stays usable: the client retries with a lower version.
        s.sendall(request(18, 2, 100))
        frame = recv_frame(s)
        assert struct.unpack_from(">ih", frame) == (100, 0)


def test_kafka_python_probe_infers_2_3_0(broker):
    code = (
        "from kafka import KafkaProducer\n"
        f"p = KafkaProducer(bootstrap_servers='{broker.addr}')\n"
        "print(p.config['api_version'])\n"
        "p.close()\n")
    p = run(["/usr/bin/python3", "-c", code], timeout=60)
    assert p.stdout.strip() == "(2, 3, 0)"


# ---- Hostile input costs only its own connection -----------------------------

def assert_still_serving(broker):
    with connect(broker) as s:
        s.sendall(request(18, 0, 1))
        assert struct.unpack_from(">ih", recv_frame(s)) == (1, 0)


@pytest.mark.parametrize("size", [0x7FFFFFFF, 104857600 + 1, -1, -2147483648])
def test_frame_size_outside_limit_closes_only_that_connection(broker, size):
    with connect(broker) as bystander:
        with connect(broker) as s:
            s.sendall(struct.pack(">i", size) + b"\x00" * 16)
            assert closed_by_peer(s)
        bystander.sendall(request(18, 0, 5))
        assert struct.unpack_from(">ih", recv_frame(bystander)) == (5, 0)
    assert_still_serving(broker)


def test_truncated_request_closes_only_that_connection(broker):
    # Metadata v1 claiming 1000 topics but carrying none.
    with connect(broker) as s:
        s.sendall(request(3, 1, 1, struct.pack(">i", 1000)))
        assert closed_by_peer(s)
    # A frame too short to hold a request header.
    with connect(broker) as s:
        s.sendall(struct.pack(">i", 3) + b"\x00\x03\x00")
        assert closed_by_peer(s)
    # A string length running past the end of the frame.
    with connect(broker) as s:
        s.sendall(request(3, 1, 1, struct.pack(">ih", 1, 3000) + b"abc"))
        assert closed_by_peer(s)
    assert_still_serving(broker)


def test_unknown_api_key_or_version_closes_only_that_connection(broker):
    for key, version in [(99, 0), (-5, 0), (3, 99), (1, 0), (17, 0), (21, 0)]:
        with connect(broker) as s:
            s.sendall(request(key, version, 1))
            assert closed_by_peer(s), (key, version)
    assert_still_serving(broker)
    assert "closing connection" in broker.output()


def test_a_partial_frame_then_disconnect_is_harmless(broker):
    with connect(broker) as s:
        s.sendall(struct.pack(">i", 1000) + b"\x00\x12\x00\x00")
    assert_still_serving(broker)


# ---- Many connections, ordering, acks=0 --------------------------------------

def test_300_concurrent_connections_all_get_api_versions(broker):
    socks = [connect(broker, timeout=20) for _ in range(300)]
    try:
        for i, s in enumerate(socks):
            s.sendall(request(18, i % 4, i, b"\x07sluice\x061.0.0\x00" if i % 4 == 3 else b"",
                              flexible=i % 4 == 3))
        for i, s in enumerate(socks):
            frame = recv_frame(s)
            assert struct.unpack_from(">ih", frame) == (i, 0)
    finally:
        for s in socks:
            s.close()


def test_pipelined_requests_are_answered_in_order_behind_a_long_poll(broker):
    ensure_topic(broker, "ordered")
    with connect(broker) as s:
        t0 = time.time()
        s.sendall(request(18, 0, 1) + fetch_v4(2, "ordered", 0, 800) + request(18, 1, 3)
                  + metadata_v1(4, ["ordered"]))
        corrs = [struct.unpack_from(">i", recv_frame(s))[0] for _ in range(4)]
        assert corrs == [1, 2, 3, 4]
        # The Fetch held the later requests for its max_wait.
        assert time.time() - t0 >= 0.7


def test_acks_0_produce_gets_no_response(broker):
    body = kstr(None) + struct.pack(">hii", 0, 30000, 1) + kstr("silent")
    body += struct.pack(">ii", 1, 0) + struct.pack(">i", -1)  # null records
    with connect(broker) as s:
        s.sendall(request(0, 7, 1, body) + request(18, 0, 2))
        assert struct.unpack_from(">i", recv_frame(s))[0] == 2


# ---- Fetch long polling -------------------------------------------------------

def test_fetch_on_empty_partition_returns_after_max_wait(broker):
    ensure_topic(broker, "quiet")
    with connect(broker) as s:
        t0 = time.time()
        s.sendall(fetch_v4(1, "quiet", 0, 1000))
        frame = recv_frame(s)
        elapsed = time.time() - t0
    assert 0.9 <= elapsed < 5
    assert parse_fetch_v4(frame[4:]) == (0, 0, 0)


def test_fetch_long_poll_returns_early_when_data_arrives(broker):
    ensure_topic(broker, "wake")
    with connect(broker) as s:
        t0 = time.time()
        s.sendall(fetch_v4(1, "wake", 0, 10000))
        time.sleep(0.3)
        run(["kcat", "-P", "-b", broker.addr, "-t", "wake"], input="hello\n", timeout=30)
        frame = recv_frame(s)
        elapsed = time.time() - t0
    assert elapsed < 5
    ec, hw, rl = parse_fetch_v4(frame[4:])
    assert ec == 0 and hw == 1 and rl > 61


def test_fetch_of_unknown_topic_answers_at_once_with_error_3(broker):
    with connect(broker) as s:
        t0 = time.time()
        s.sendall(fetch_v4(1, "nosuch", 0, 5000))
        frame = recv_frame(s)
    assert time.time() - t0 < 2
    assert parse_fetch_v4(frame[4:])[0] == 3


def test_fetch_beyond_log_end_is_offset_out_of_range(broker):
    ensure_topic(broker, "short")
    with connect(broker) as s:
        s.sendall(fetch_v4(1, "short", 5, 5000))
        assert parse_fetch_v4(recv_frame(s)[4:])[0] == 1


# ---- Topics ------------------------------------------------------------------

def test_kcat_lists_an_auto_created_topic(broker):
    p = run(["kcat", "-L", "-b", broker.addr, "-t", "auto_made"], timeout=30)
    assert 'topic "auto_made" with 1 partitions' in p.stdout
    assert "broker 0 at 127.0.0.1:%d" % broker.port in p.stdout
    assert (broker.data / "topics").exists() or any(broker.data.iterdir())


def test_no_auto_create_refuses_unknown_topics(strict_broker):
    with connect(strict_broker) as s:
        s.sendall(metadata_v1(1, ["missing"]))
        assert parse_metadata_v1(recv_frame(s)[4:]) == {"missing": (3, 0)}
    p = run(["kcat", "-L", "-b", strict_broker.addr, "-t", "missing"], timeout=30,
            check=False)
    assert "Unknown topic" in p.stdout + p.stderr
    p = run(["kcat", "-L", "-b", strict_broker.addr], timeout=30)
    assert "0 topics" in p.stdout


def test_invalid_topic_name_is_refused(broker):
    with connect(broker) as s:
        s.sendall(metadata_v1(1, ["bad/name"]))
        assert parse_metadata_v1(recv_frame(s)[4:]) == {"bad/name": (17, 0)}


def test_metadata_v0_with_empty_list_means_all_topics(broker):
    ensure_topic(broker, "t_one")
    ensure_topic(broker, "t_two")
    with connect(broker) as s:
        s.sendall(request(3, 0, 1, struct.pack(">i", 0)))
        body = recv_frame(s)[4:]
    assert b"t_one" in body and b"t_two" in body


def test_sigterm_stops_the_broker_with_status_0(broker):
    run(["kcat", "-P", "-b", broker.addr, "-t", "bye"], input="a\nb\n", timeout=30)
    assert broker.stop() == 0
    broker.start()
    p = run(["kcat", "-C", "-b", broker.addr, "-t", "bye", "-o", "beginning", "-e"],
            timeout=30)
    assert p.stdout.split() == ["a", "b"]


def test_mutated_client_frames_never_take_the_broker_down(broker):
    """Frames captured from real clients, with random bytes flipped, sent to
    the live broker: each may be answered or close its connection, but the
    broker keeps serving (the handlers, not only the codec, see hostile input)."""
    import random
    corpus = os.path.join(os.path.dirname(__file__), "..", "..", "fuzz", "corpus",
                          "kafka_request")
    rng = random.Random(1234)
    frames = [open(os.path.join(corpus, f), "rb").read() for f in sorted(os.listdir(corpus))]
    for round_ in range(6):
        for frame in frames:
            data = bytearray(frame)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if round_ % 2 == 0:
                data[:8] = frame[:8]  # header intact: exercise the handlers
            with connect(broker) as s:
                try:
                    s.sendall(struct.pack(">i", len(data)) + bytes(data) + request(18, 0, 77))
                    s.shutdown(socket.SHUT_WR)
                    s.settimeout(2)
                    while s.recv(65536):
                        pass
                except OSError:
                    pass
        assert_still_serving(broker)


# ---- Produce validation, ListOffsets, admin ----------------------------------

def make_batch(values, ts0=1700000000000):
    from kafka.record.default_records import DefaultRecordBatchBuilder
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 20)
    for i, v in enumerate(values):
        b.append(i, timestamp=ts0 + 1000 * i, key=None, value=v, headers=[])
    return bytes(b.build())


def produce(s, corr, version, topic, records, acks=-1):
    body = (kstr(None) if version >= 3 else b"") + struct.pack(">hii", acks, 30000, 1)
    body += kstr(topic) + struct.pack(">ii", 1, 0)
    body += struct.pack(">i", -1) if records is None else struct.pack(">i", len(records)) + records
    s.sendall(request(0, version, corr, body))
    frame = recv_frame(s)
    pos = 4 + 4  # corr, responses count
    (nl,) = struct.unpack_from(">h", frame, pos)
    pos += 2 + nl + 4
    _, ec, base = struct.unpack_from(">ihq", frame, pos)
    return ec, base


def list_offsets_v1(s, corr, topic, timestamp):
    body = struct.pack(">i", -1) + struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1)
    body += struct.pack(">iq", 0, timestamp)
    s.sendall(request(2, 1, corr, body))
    frame = recv_frame(s)
    pos = 4 + 4
    (nl,) = struct.unpack_from(">h", frame, pos)
    pos += 2 + nl + 4
    _, ec, ts, off = struct.unpack_from(">ihqq", frame, pos)
    return ec, ts, off


def test_produce_validates_each_partition_batch(broker):
    ensure_topic(broker, "valid")
    good = make_batch([b"a", b"b", b"c"])
    with connect(broker) as s:
        assert produce(s, 1, 7, "valid", good) == (0, 0)
        assert produce(s, 2, 3, "valid", good) == (0, 3)
        bad_crc = bytearray(good)
        bad_crc[-1] ^= 0xFF
        assert produce(s, 3, 7, "valid", bytes(bad_crc))[0] == 2   # CORRUPT_MESSAGE
        assert produce(s, 4, 7, "valid", good + good)[0] == 87      # two batches
        assert produce(s, 5, 7, "valid", None)[0] == 87             # no records
        assert produce(s, 6, 2, "valid", good)[0] == 43             # MessageSet era
        assert produce(s, 7, 7, "valid", good, acks=2)[0] == 21     # INVALID_REQUIRED_ACKS
        # The connection is still in sync, and only the good batches are stored.
        assert list_offsets_v1(s, 8, "valid", -1) == (0, -1, 6)
        assert list_offsets_v1(s, 9, "valid", -2) == (0, -1, 0)


def test_list_offsets_by_timestamp(broker):
    ensure_topic(broker, "timed")
    with connect(broker) as s:
        assert produce(s, 1, 7, "timed", make_batch([b"x", b"y", b"z"])) == (0, 0)
        assert list_offsets_v1(s, 2, "timed", 1700000000500) == (0, 1700000001000, 1)
        assert list_offsets_v1(s, 3, "timed", 0) == (0, 1700000000000, 0)
        assert list_offsets_v1(s, 4, "timed", 1800000000000) == (0, -1, -1)
        assert list_offsets_v1(s, 5, "nosuchtopic", -1)[0] == 3


def test_admin_create_describe_delete_with_errors(broker):
    from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource
    from confluent_kafka import KafkaException
    admin = AdminClient({"bootstrap.servers": broker.addr})
    fs = admin.create_topics([NewTopic("adm", num_partitions=3, replication_factor=1)])
    fs["adm"].result(timeout=30)
    for topic, kwargs, code in [("adm", {"num_partitions": 1}, "TOPIC_ALREADY_EXISTS"),
                                ("adm2", {"num_partitions": 1, "replication_factor": 3},
                                 "INVALID_REPLICATION_FACTOR"),
                                ("adm3", {"num_partitions": 1,
                                          "config": {"cleanup.policy": "compact"}},
                                 "INVALID_CONFIG")]:
        kwargs.setdefault("replication_factor", 1)
        f = admin.create_topics([NewTopic(topic, **kwargs)])[topic]
        with pytest.raises(KafkaException) as exc:
            f.result(timeout=30)
        assert code in str(exc.value)
    md = admin.list_topics(timeout=30)
    assert len(md.topics["adm"].partitions) == 3 and "adm3" not in md.topics
    cfg = admin.describe_configs([ConfigResource("topic", "adm")])
    entries = list(cfg.values())[0].result(timeout=30)
    assert entries["cleanup.policy"].value == "delete"
    admin.delete_topics(["adm"])["adm"].result(timeout=30)
    f = admin.delete_topics(["adm"])["adm"]
    with pytest.raises(KafkaException):
        f.result(timeout=30)
    assert "adm" not in admin.list_topics(timeout=30).topics


def test_topic_configs_given_at_creation_rule_that_topic_and_survive_a_restart(broker):
    from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource, ConfigSource
    from confluent_kafka import KafkaException, Producer
    admin = AdminClient({"bootstrap.servers": broker.addr})
    own = {"retention.ms": "-1", "segment.bytes": "1048576", "max.message.bytes": "2000"}
    for f in admin.create_topics([NewTopic("own", 1, 1, config=own),
                                  NewTopic("plain", 1, 1)]).values():
        f.result(timeout=30)
    # flush.ms / flush.messages: what the broker's --flush interval=1000 keeps
    # already is accepted, a stricter promise refused.
    kept = {"flush.ms": "1000", "flush.messages": str(2**63 - 1)}
    admin.create_topics([NewTopic("flushed", 1, 1, config=kept)])["flushed"].result(timeout=30)
    for config, why in [({"retention.ms": "soon"}, "retention.ms wants an integer"),
                        ({"segment.bytes": "0"}, "segment.bytes wants an integer"),
                        ({"compression.type": "gzip"}, "compression.type=producer"),
                        ({"flush.ms": "100"}, "stricter flush"),
                        ({"flush.messages": "1"}, "stricter flush")]:
        f = admin.create_topics([NewTopic("refused", 1, 1, config=config)])["refused"]
        with pytest.raises(KafkaException) as exc:
            f.result(timeout=30)
        assert "INVALID_CONFIG" in str(exc.value) and why in str(exc.value)
    assert "refused" not in admin.list_topics(timeout=30).topics

    # max.message.bytes=2000 holds for its topic only.
    reports = []
    p = Producer({"bootstrap.servers": broker.addr, "linger.ms": 0})
    for topic in ("own", "plain"):
        p.produce(topic, b"x" * 3000, on_delivery=lambda err, msg: reports.append(
            (msg.topic(), err.name() if err else None)))
        p.flush(30)
    del p  # closed before the restarts below
    assert reports == [("own", "MSG_SIZE_TOO_LARGE"), ("plain", None)]

    def described():
        res = admin.describe_configs([ConfigResource("topic", "own"),
                                      ConfigResource("topic", "plain")])
        return {r.name: f.result(timeout=30) for r, f in res.items()}

    for _ in range(2):
        got = described()
        for name, value in own.items():
            e = got["own"][name]
            assert (e.value, e.is_default, e.source) == (
                value, False, ConfigSource.DYNAMIC_TOPIC_CONFIG.value), name
        e = got["own"]["retention.bytes"]
        assert (e.value, e.is_default, e.source) == ("-1", True, ConfigSource.DEFAULT_CONFIG.value)
        e = got["plain"]["retention.ms"]
        assert (e.value, e.is_default) == (str(7 * 24 * 3600 * 1000), True)
        broker.stop()
        broker.start()


def test_alter_configs_replaces_a_topics_own_configs_durably(broker):
    from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource
    from confluent_kafka import KafkaException, Producer
    from kafka.admin import KafkaAdminClient, ConfigResource as KPResource, ConfigResourceType
    admin = AdminClient({"bootstrap.servers": broker.addr})
    admin.create_topics([NewTopic("t", 1, 1, config={"retention.ms": "-1",
                                                     "max.message.bytes": "2000"})])["t"].result(30)

    def own():
        res = admin.describe_configs([ConfigResource("topic", "t")])
        entries = list(res.values())[0].result(timeout=30)
        return {k: e.value for k, e in entries.items() if not e.is_default}

    def alter(config, validate_only=False, kind="topic", name="t"):
        res = admin.alter_configs([ConfigResource(kind, name, set_config=config)],
                                  validate_only=validate_only)
        return list(res.values())[0].result(timeout=30)

    # The whole set is replaced: max.message.bytes goes back to the broker's.
    alter({"retention.ms": "3600000", "segment.ms": "60000"})
    assert own() == {"retention.ms": "3600000", "segment.ms": "60000"}
    reports = []
    p = Producer({"bootstrap.servers": broker.addr, "linger.ms": 0})
    p.produce("t", b"x" * 3000, on_delivery=lambda err, msg: reports.append(err))
    p.flush(30)
    del p  # closed before the restart below
    assert reports == [None]
    # Refused or only validated: nothing changes.
    for config, kind, name, code in [({"retention.ms": "soon"}, "topic", "t", "INVALID_CONFIG"),
                                     ({"cleanup.policy": "compact"}, "topic", "t",
                                      "INVALID_CONFIG"),
                                     ({"retention.ms": "1"}, "topic", "ghost",
                                      "UNKNOWN_TOPIC_OR_PART"),
                                     ({"log.retention.ms": "1"}, "broker", "0",
                                      "INVALID_REQUEST")]:
        with pytest.raises(KafkaException) as exc:
            alter(config, kind=kind, name=name)
        assert code in str(exc.value), exc.value
    alter({"retention.ms": "5"}, validate_only=True)
    with pytest.raises(KafkaException) as exc:
        alter({"retention.ms": "soon"}, validate_only=True)
    assert "INVALID_CONFIG" in str(exc.value)
    assert own() == {"retention.ms": "3600000", "segment.ms": "60000"}

    # kafka-python's AlterConfigs (v0) too, and the result survives a restart.
    kp = KafkaAdminClient(bootstrap_servers=broker.addr)
    resp = kp.alter_configs([KPResource(ConfigResourceType.TOPIC, "t",
                                        configs={"retention.bytes": "1000000"})])
    kp.close()
    assert [r[0] for r in resp.resources] == [0], resp
    assert own() == {"retention.bytes": "1000000"}
    broker.stop()
    broker.start()
    assert own() == {"retention.bytes": "1000000"}


def test_sigint_also_stops_cleanly_and_usage_errors_exit_2(tmp_path):
    import signal
    port = free_port()
    srv = Server(["broker", "--listen", f"127.0.0.1:{port}", "--data", str(tmp_path / "d")],
                 port, tmp_path / "broker.log").start()
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(10) == 0
    srv.log.close()
    assert "broker stopped" in srv.output()
    for args in (["--flush", "sometimes"], ["--listen", "nohostport"], ["--partitions", "0"],
                 ["extra-arg"]):
        p = run([SLUICE, "broker", "--data", str(tmp_path / "e")] + args, check=False,
                timeout=10)
        assert p.returncode == 2, (args, p.stderr)
        assert p.stderr.startswith("sluice broker: ")
    p = run([SLUICE, "broker", "--help"], timeout=10)
    assert "--no-auto-create" in p.stdout and "sluice-data" in p.stdout


def test_a_locked_data_directory_is_a_runtime_error(broker):
    p = run([SLUICE, "broker", "--listen", f"127.0.0.1:{free_port()}", "--data",
             str(broker.data)], check=False, timeout=10)
    assert p.returncode == 1
    assert "in use" in p.stderr


def test_half_closed_client_still_gets_its_answers_then_eof(broker):
    ensure_topic(broker, "halfclose")
    with connect(broker) as s:
        s.sendall(request(18, 0, 1) + fetch_v4(2, "halfclose", 0, 500) + request(18, 1, 3))
        s.shutdown(socket.SHUT_WR)
        corrs = [struct.unpack_from(">i", recv_frame(s))[0] for _ in range(3)]
        assert corrs == [1, 2, 3]
        assert closed_by_peer(s)
    assert_still_serving(broker)
