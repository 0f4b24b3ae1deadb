"""sluice collect's HTTP/1.1 server against hostile and unusual clients:
each malformed-request case, the limits (400, 413, 431, 408, 503 on the
connection limit), chunked bodies, pipelining, keep-alive, 100-continue."""
import json
import socket
import time

import pytest

from conftest import run, start_collect


@pytest.fixture
def collect(tmp_path, broker):
    srv = start_collect(tmp_path, broker)
    yield srv
    srv.stop()


def read_response(f):
    """One response from a socket file: (status, headers dict, body)."""
    line = f.readline()
    if not line:
        return None
    status = int(line.split()[1])
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, v = h.decode("latin-1").split(":", 1)
        headers[k.strip().lower()] = v.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return status, headers, body


def exchange(port, data, n=1, shut=False, timeout=10):
    """Send raw bytes, read n responses; then whether the server closed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        f = s.makefile("rb")
        out = [read_response(f) for _ in range(n)]
        try:
            closed = f.read(1) == b""
        except socket.timeout:
            closed = False
        return out, closed
    finally:
        s.close()


def one(port, data):
    (resp,), closed = exchange(port, data, 1, timeout=3)
    return resp, closed


@pytest.mark.parametrize("raw", [
    b"GET\r\n\r\n",
    b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
    b"GET / FTP/1.1\r\nHost: x\r\n\r\n",
    b"GET nothing HTTP/1.1\r\nHost: x\r\n\r\n",
    b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\x01y\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
    b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
    b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /events HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
], ids=["no-target", "double-space", "trailing-space", "not-http", "relative-target",
        "bad-method-char", "header-no-colon", "space-before-colon", "obs-fold",
        "control-char", "bare-cr", "http11-no-host", "two-hosts", "bad-content-length",
        "conflicting-content-length", "cl-and-te", "te-in-http10"])
def test_malformed_request_gets_400_with_error_body_and_close(collect, raw):
    (status, headers, body), closed = one(collect.port, raw)
    assert status == 400
    assert body.startswith(b"error: ")
    assert headers.get("connection") == "close" and closed


@pytest.mark.parametrize("chunked", [
    b"zz\r\n",
    b"3\r\nabcX\r\n0\r\n\r\n",
    b"3;" + b"e" * 5000 + b"\r\nabc\r\n0\r\n\r\n",
    b"-1\r\n",
], ids=["bad-size", "missing-crlf", "long-extension", "negative-size"])
def test_bad_chunked_body_gets_400(collect, chunked):
    raw = b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    (status, _, body), closed = one(collect.port, raw)
    assert status == 400 and body.startswith(b"error: ") and closed


def test_unknown_transfer_coding_is_501_and_http2_is_505(collect):
    (status, _, _), _ = one(collect.port, b"POST /events HTTP/1.1\r\nHost: x\r\n"
                                          b"Transfer-Encoding: gzip, chunked\r\n\r\n")
    assert status == 501
    (status, _, _), _ = one(collect.port, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    assert status == 505


def test_head_over_16k_is_431(collect):
    raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n"
    (status, _, body), closed = one(collect.port, raw)
    assert status == 431 and body.startswith(b"error: ") and closed


def test_more_than_100_headers_is_431(collect):
    raw = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(120))
    (status, _, _), _ = one(collect.port, raw + b"\r\n")
    assert status == 431


def test_body_over_1mib_is_413_by_content_length_and_by_chunks(collect):
    raw = b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"
    (status, _, body), closed = one(collect.port, raw)
    assert status == 413 and body.startswith(b"error: ") and closed
    chunk = b"%x\r\n%s\r\n" % (600000, b"a" * 600000)
    raw = b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2
    (status, _, _), _ = one(collect.port, raw)
    assert status == 413


def test_limits_are_configurable(tmp_path, broker):
    srv = start_collect(tmp_path, broker, "--max-body", "100", "--max-head", "1024")
    try:
        (status, _, _), _ = one(srv.port, b"POST /events HTTP/1.1\r\nHost: x\r\n"
                                          b"Content-Length: 101\r\n\r\n" + b" " * 101)
        assert status == 413
        (status, _, _), _ = one(srv.port, b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 1100 +
                                b"\r\n\r\n")
        assert status == 431
    finally:
        srv.stop()


def test_chunked_post_with_extensions_and_trailers_is_accepted(collect, broker):
    body = b'{"event_type": "chunky"}'
    raw = (b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"Connection: close\r\n\r\n" +
           b"5;ext=1\r\n" + body[:5] + b"\r\n" + b"%x\r\n" % (len(body) - 5) + body[5:] +
           b"\r\n0\r\nX-Trailer: t\r\n\r\n")
    (status, _, reply), _ = one(collect.port, raw)
    assert status == 200 and json.loads(reply) == {"accepted": 1}


def test_pipelined_requests_are_answered_in_order(collect):
    reqs = (b"GET /purchase_a_sword HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 22\r\n\r\n"
            b'{"event_type": "pipe"}'
            b"GET /purchase_a_sword HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    out, closed = exchange(collect.port, reqs, 6)
    assert [r[0] for r in out] == [200, 200, 200, 404, 200, 200]
    assert [r[2] for r in out[:3]] == [b"Sword Purchased!\n", b"ok\n",
                                       b"This is the default response!\n"]
    assert out[4][2] == b'{"accepted": 1}\n'
    assert closed


def test_pipelined_requests_sent_byte_by_byte_are_answered_in_order(collect):
    reqs = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 3
    s = socket.create_connection(("127.0.0.1", collect.port), timeout=10)
    with s:
        for i in range(len(reqs)):
            s.send(reqs[i:i + 1])
        f = s.makefile("rb")
        assert [read_response(f)[0] for _ in range(3)] == [200, 200, 200]


def test_bad_request_after_good_pipelined_ones_answers_them_first(collect):
    reqs = (b"GET /purchase_a_sword HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b"BAD\r\n\r\n")
    out, closed = exchange(collect.port, reqs, 3)
    assert [r[0] for r in out] == [200, 200, 400] and closed


def test_keep_alive_http10_and_http11_close(collect):
    raw = b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" * 2
    out, closed = exchange(collect.port, raw, 2, timeout=2)
    assert [r[0] for r in out] == [200, 200]
    assert out[0][1].get("connection") == "keep-alive" and not closed
    out, closed = exchange(collect.port, b"GET /healthz HTTP/1.0\r\n\r\n", 1)
    assert out[0][0] == 200 and closed


def test_head_request_has_no_body_but_logs_like_flask(collect, broker):
    raw = b"HEAD /purchase_a_sword HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    s = socket.create_connection(("127.0.0.1", collect.port), timeout=10)
    with s:
        s.sendall(raw)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") and b"Content-Length: 17\r\n" in data
    assert data.endswith(b"\r\n\r\n")


def test_expect_100_continue_with_curl(collect, tmp_path):
    body = tmp_path / "big.ndjson"
    body.write_text("".join(json.dumps({"event_type": "bulk", "i": i}) + "\n"
                            for i in range(2000)))
    p = run(["curl", "-sS", "-v", "--data-binary", f"@{body}", "-H", "Expect: 100-continue",
             "-H", "Content-Type: application/x-ndjson", f"http://127.0.0.1:{collect.port}/events"])
    assert json.loads(p.stdout) == {"accepted": 2000}
    assert "100 Continue" in p.stderr


def test_slow_client_gets_408(tmp_path, broker):
    srv = start_collect(tmp_path, broker, "--request-timeout-ms", "500")
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        with s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            t0 = time.time()
            f = s.makefile("rb")
            status, _, body = read_response(f)
            assert status == 408 and body.startswith(b"error: ")
            assert time.time() - t0 < 3
    finally:
        srv.stop()


def test_idle_keep_alive_connection_is_closed(tmp_path, broker):
    srv = start_collect(tmp_path, broker, "--idle-timeout-ms", "500")
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        with s:
            t0 = time.time()
            assert s.recv(1) == b""
            assert time.time() - t0 < 3
    finally:
        srv.stop()


def test_connection_limit_answers_503(tmp_path, broker):
    srv = start_collect(tmp_path, broker, "--max-conns", "2")
    try:
        time.sleep(0.3)  # the start-up probe's connection is closed by now
        a = socket.create_connection(("127.0.0.1", srv.port))
        time.sleep(0.2)
        b = socket.create_connection(("127.0.0.1", srv.port))
        time.sleep(0.2)
        c = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        data = c.recv(4096)
        assert data.startswith(b"HTTP/1.1 503") and b"error: too many connections" in data
        for x in (a, b, c):
            x.close()
        time.sleep(0.2)
        (status, _, _), _ = one(srv.port, b"GET /healthz HTTP/1.0\r\n\r\n")
        assert status == 200
    finally:
        srv.stop()


def test_wrk_and_ab_keep_alive_get_no_errors(collect):
    p = run(["ab", "-k", "-c", "4", "-n", "500", f"http://127.0.0.1:{collect.port}/healthz"])
    assert "Failed requests:        0" in p.stdout and "Non-2xx" not in p.stdout
    p = run(["wrk", "-t1", "-c4", "-d1s", f"http://127.0.0.1:{collect.port}/healthz"])
    assert "Socket errors" not in p.stdout and "Non-2xx" not in p.stdout


def test_hundreds_of_concurrent_connections_all_get_answers(collect):
    p = run(["ab", "-k", "-c", "300", "-n", "3000", f"http://127.0.0.1:{collect.port}/purchase_a_sword"],
            timeout=120)
    assert "Complete requests:      3000" in p.stdout
    assert "Failed requests:        0" in p.stdout and "Non-2xx" not in p.stdout


def test_client_that_never_reads_does_not_block_others(collect):
    hog = socket.create_connection(("127.0.0.1", collect.port))
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        hog.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 2000)
    except OSError:
        pass
    time.sleep(0.3)
    (status, _, body), _ = one(collect.port, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert (status, body) == (200, b"ok\n")
    hog.close()


def test_help_and_usage_errors(collect):
    from conftest import SLUICE
    p = run([SLUICE, "collect", "--help"])
    assert "usage: sluice collect" in p.stdout and "--routes" in p.stdout
    p = run([SLUICE, "collect", "--acks", "2"], check=False)
    assert p.returncode == 2 and "--acks" in p.stderr
    p = run([SLUICE, "collect", "--bogus"], check=False)
    assert p.returncode == 2
    p = run([SLUICE, "collect", "--spin-us", "-1"], check=False)
    assert p.returncode == 2 and "out of range" in p.stderr
