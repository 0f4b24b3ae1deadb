"""Idempotent producers on `sluice broker` (design §5.5): InitProducerId hands
out fresh ids (also after a restart); a Produce retried with the same
producer id, epoch and base sequence is answered with the original offset
and not appended again (also after a broker restart, from state rebuilt out
of the log); a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER and a stale
epoch INVALID_PRODUCER_EPOCH; librdkafka with enable.idempotence=true works
end to end.
"""
import socket
import struct
import time

from conftest import SLUICE, run


# ---- a minimal Kafka client over a raw socket -----------------------------

def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def batch(values, pid=-1, epoch=-1, seq=-1):
    """A magic-2 record batch of `values` (bytes), uncompressed."""
    now = int(time.time() * 1000)
    recs = b""
    for i, v in enumerate(values):
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        recs += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, now, now, pid, epoch, seq,
                            len(values)) + recs
    crc = crc32c(after_crc)
    inner = struct.pack(">ibI", 0, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(inner)) + inner


def string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


class Client:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=10)
        self.corr = 0

    def send(self, key, ver, body):
        self.corr += 1
        msg = struct.pack(">hhi", key, ver, self.corr) + string("raw-test") + body
        self.s.sendall(struct.pack(">i", len(msg)) + msg)

    def recv(self):
        """The next answer's body; answers come in request order."""
        size = struct.unpack(">i", self.s.recv(4, socket.MSG_WAITALL))[0]
        data = self.s.recv(size, socket.MSG_WAITALL)
        return struct.unpack(">i", data[:4])[0], data[4:]

    def call(self, key, ver, body):
        self.send(key, ver, body)
        corr, data = self.recv()
        assert corr == self.corr
        return data

    def init_producer_id(self):
        r = self.call(22, 1, struct.pack(">hi", -1, -1))  # null transactional id
        _throttle, err, pid, epoch = struct.unpack(">ihqh", r[:16])
        assert err == 0
        return pid, epoch

    def send_produce(self, topic, partition, records):
        """Send a Produce (acks=all) without waiting; read_produce() takes its answer."""
        body = (struct.pack(">hhi", -1, -1, 10000) + struct.pack(">i", 1) + string(topic) +
                struct.pack(">ii", 1, partition) + struct.pack(">i", len(records)) + records)
        self.send(0, 7, body)

    def read_produce(self):
        """(error, base offset) of the next answer, which must be a Produce's."""
        _corr, r = self.recv()
        # [topic [partition error base_offset log_append_time log_start]] throttle
        n_topics = struct.unpack(">i", r[:4])[0]
        assert n_topics == 1
        tlen = struct.unpack(">h", r[4:6])[0]
        off = 6 + tlen
        n_parts = struct.unpack(">i", r[off:off + 4])[0]
        assert n_parts == 1
        _idx, err, base, _lat, _lso = struct.unpack(">ihqqq", r[off + 4:off + 34])
        return err, base

    def produce(self, topic, partition, records):
        self.send_produce(topic, partition, records)
        return self.read_produce()

    def close(self):
        self.s.close()


def create(broker, topic):
    run([SLUICE, "topics", "-b", broker.addr, "--create", "--topic", topic])


def values_of(broker, topic):
    return run(["kcat", "-C", "-b", broker.addr, "-t", topic, "-o", "beginning", "-e", "-q"],
               timeout=60).stdout.split()


def test_retried_idempotent_batch_is_not_appended_twice(broker):
    create(broker, "idem")
    c = Client(broker.addr)
    pid, epoch = c.init_producer_id()
    assert pid >= 0 and epoch == 0
    b0 = batch([b"a0", b"a1", b"a2"], pid, epoch, 0)
    assert c.produce("idem", 0, b0) == (0, 0)
    b1 = batch([b"b0", b"b1"], pid, epoch, 3)
    assert c.produce("idem", 0, b1) == (0, 3)
    # Retries of both batches: success with the original offsets, nothing appended.
    assert c.produce("idem", 0, b1) == (0, 3)
    assert c.produce("idem", 0, b0) == (0, 0)
    # The next batch continues the sequence.
    assert c.produce("idem", 0, batch([b"c0"], pid, epoch, 5)) == (0, 5)
    c.close()
    assert values_of(broker, "idem") == ["a0", "a1", "a2", "b0", "b1", "c0"]


def test_sequence_gap_and_stale_epoch_are_refused(broker):
    create(broker, "gap")
    c = Client(broker.addr)
    pid, _ = c.init_producer_id()
    assert c.produce("gap", 0, batch([b"x0"], pid, 0, 0)) == (0, 0)
    err, _ = c.produce("gap", 0, batch([b"x5"], pid, 0, 5))
    assert err == 45  # OUT_OF_ORDER_SEQUENCE_NUMBER
    # A bumped epoch restarts at sequence 0; then the old epoch is fenced.
    assert c.produce("gap", 0, batch([b"y0"], pid, 1, 0)) == (0, 1)
    err, _ = c.produce("gap", 0, batch([b"x1"], pid, 0, 1))
    assert err == 47  # INVALID_PRODUCER_EPOCH
    # Non-idempotent batches are never checked.
    assert c.produce("gap", 0, batch([b"plain"]))[0] == 0
    c.close()
    assert values_of(broker, "gap") == ["x0", "y0", "plain"]


def test_duplicate_detected_after_restart_and_ids_never_reused(broker):
    create(broker, "restart")
    c = Client(broker.addr)
    pid, _ = c.init_producer_id()
    b0 = batch([b"r0", b"r1"], pid, 0, 0)
    assert c.produce("restart", 0, b0) == (0, 0)
    c.close()
    broker.kill9()
    broker.start()
    c = Client(broker.addr)
    assert c.produce("restart", 0, b0) == (0, 0)  # state rebuilt from the log
    assert c.produce("restart", 0, batch([b"r2"], pid, 0, 2)) == (0, 2)
    pid2, _ = c.init_producer_id()
    assert pid2 > pid
    c.close()
    assert values_of(broker, "restart") == ["r0", "r1", "r2"]


def test_librdkafka_idempotent_producer_end_to_end(broker):
    from confluent_kafka import Producer
    create(broker, "rdk-idem")
    p = Producer({"bootstrap.servers": broker.addr, "enable.idempotence": True,
                  "linger.ms": 2})
    errors = []
    for i in range(500):
        p.produce("rdk-idem", f"i{i}".encode(),
                  on_delivery=lambda err, msg: errors.append(err) if err else None)
        if i % 100 == 0:
            p.poll(0)
    assert p.flush(30) == 0
    assert errors == []
    assert values_of(broker, "rdk-idem") == [f"i{i}" for i in range(500)]


def test_kcat_idempotent_producer(broker):
    create(broker, "kcat-idem")
    run(["kcat", "-P", "-b", broker.addr, "-t", "kcat-idem", "-X", "enable.idempotence=true"],
        input="".join(f"k{i}\n" for i in range(50)))
    assert values_of(broker, "kcat-idem") == [f"k{i}" for i in range(50)]


# ---- a real retry: a proxy that loses the first Produce response ----------

import threading

from conftest import Server, free_port


class DropFirstProduceResponse:
    """Forwards 127.0.0.1:port to the broker; the first Produce response is
    swallowed and that connection cut, so the producer must retry a batch the
    broker already appended."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.port = free_port()
        self.dropped = 0
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port))
        self.lsock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                cs, _ = self.lsock.accept()
            except OSError:
                return
            us = socket.create_connection(("127.0.0.1", self.upstream))
            keys = {}
            threading.Thread(target=self._up, args=(cs, us, keys), daemon=True).start()
            threading.Thread(target=self._down, args=(us, cs, keys), daemon=True).start()

    @staticmethod
    def _frame(s):
        head = s.recv(4, socket.MSG_WAITALL)
        if len(head) < 4:
            return None
        n = struct.unpack(">i", head)[0]
        body = s.recv(n, socket.MSG_WAITALL)
        return head + body if len(body) == n else None

    def _up(self, cs, us, keys):
        try:
            while (f := self._frame(cs)) is not None:
                key, _ver, corr = struct.unpack(">hhi", f[4:12])
                keys[corr] = key
                us.sendall(f)
        except OSError:
            pass

    def _down(self, us, cs, keys):
        try:
            while (f := self._frame(us)) is not None:
                corr = struct.unpack(">i", f[4:8])[0]
                if keys.get(corr) == 0 and self.dropped == 0:
                    self.dropped += 1
                    for sock in (cs, us):
                        sock.shutdown(socket.SHUT_RDWR)
                        sock.close()
                    return
                cs.sendall(f)
        except OSError:
            pass

    def close(self):
        self.lsock.close()


def test_librdkafka_retry_after_lost_response_is_not_duplicated(tmp_path):
    bport = free_port()
    proxy = DropFirstProduceResponse(bport)
    srv = Server(["broker", "--listen", f"127.0.0.1:{bport}", "--data", str(tmp_path / "d"),
                  "--advertise", f"127.0.0.1:{proxy.port}"], bport, tmp_path / "broker.log")
    srv.start()
    try:
        from confluent_kafka import Producer
        run([SLUICE, "topics", "-b", f"127.0.0.1:{bport}", "--create", "--topic", "retry"])
        p = Producer({"bootstrap.servers": f"127.0.0.1:{proxy.port}",
                      "enable.idempotence": True, "linger.ms": 50})
        errors = []
        for i in range(20):
            p.produce("retry", f"r{i}".encode(),
                      on_delivery=lambda err, msg: errors.append(err) if err else None)
        assert p.flush(60) == 0
        assert errors == []
        assert proxy.dropped == 1, "the proxy lost one Produce response"
        got = run(["kcat", "-C", "-b", f"127.0.0.1:{bport}", "-t", "retry", "-o", "beginning",
                   "-e", "-q", "-X", "client.id=direct"], timeout=60, check=False).stdout.split()
        # kcat follows the advertised (proxy) address; the proxy only drops once.
        assert got == [f"r{i}" for i in range(20)], "the retried batch was appended once"
    finally:
        proxy.close()
        srv.stop()


def test_kafkajs_idempotent_producer(broker):
    from conftest import NODE_DIR
    create(broker, "kjs-idem")
    p = run(["node", str(NODE_DIR / "groups_idempotent_produce.mjs"), broker.addr, "kjs-idem",
             "5"], timeout=120)
    assert p.stdout.strip() == "ok"
    assert values_of(broker, "kjs-idem") == [f"{c}{i}" for i in range(5) for c in "ab"]
