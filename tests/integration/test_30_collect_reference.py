"""sluice collect logs what the reference app logs.

The week-12 game_api.py (Flask + kafka-python, bench/collect/game_api.py)
and `sluice collect` run side by side on the same sluice broker; the same
requests go to both (the handout's ab flows, then hand-made requests with
awkward headers); the Kafka values read back with kcat must be equal byte
for byte: same keys, same order, same values, same JSON spelling.
"""
import os
import socket
import subprocess
import sys

import pytest

from conftest import ROOT, free_port, kcat_values, run, start_collect, wait_port

GAME_API = ROOT / "bench" / "collect" / "game_api.py"


@pytest.fixture
def flask_app(tmp_path, broker):
    """The reference app on a free port, producing to `events` on the broker."""
    port = free_port()
    env = dict(os.environ, KAFKA_BOOTSTRAP=broker.addr, FLASK_APP=str(GAME_API))
    log = open(tmp_path / "flask.log", "ab")
    proc = subprocess.Popen(["/usr/bin/python3", "-m", "flask", "run", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=str(GAME_API.parent))
    try:
        wait_port(port, timeout=30, proc=proc)
    except Exception:
        proc.kill()
        print((tmp_path / "flask.log").read_text(), file=sys.stderr)
        raise
    yield port
    proc.terminate()
    proc.wait(10)
    log.close()


def ab(port, path, host):
    run(["ab", "-n", "10", "-H", f"Host: {host}", f"http://127.0.0.1:{port}{path}"])


def raw_request(port, data):
    """Send raw bytes, return the whole reply (the request asks to close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


FLOWS = [("/", "user1.comcast.com"), ("/purchase_a_sword", "user1.comcast.com"),
         ("/", "user2.att.com"), ("/purchase_a_sword", "user2.att.com")]


def test_ab_flows_log_the_same_events_as_the_flask_app(tmp_path, broker, flask_app):
    collect = start_collect(tmp_path, broker, "-t", "sluice_events")
    try:
        for path, host in FLOWS:
            ab(flask_app, path, host)
            ab(collect.port, path, host)
        ours = kcat_values(broker, "sluice_events", 40)
        theirs = kcat_values(broker, "events", 40)
    finally:
        collect.stop()
    assert len(ours) == 40
    assert ours == theirs
    assert ours[0] == (b'{"event_type": "default", "Host": "user1.comcast.com", '
                       b'"User-Agent": "ApacheBench/2.3", "Accept": "*/*"}')
    assert ours[10].startswith(b'{"event_type": "purchase_sword", "Host": "user1.comcast.com"')
    assert ours[39].startswith(b'{"event_type": "purchase_sword", "Host": "user2.att.com"')


# Requests whose headers exercise Werkzeug's naming: case, '_' vs '-',
# repeats joined with ',', Content-Type's last-wins, empty Content-Type
# dropped, title-casing after digits, Latin-1 bytes, quotes and
# backslashes, trailing blanks kept, an absolute-form target's Host.
TRICKY = [
    b"GET / HTTP/1.1\r\nhost: h1\r\nX-Dup: 1\r\nx-dup: 2\r\nx_dup: 3\r\nDNT: 1\r\n"
    b"x-1a-b2c: v\r\nConnection: close\r\n\r\n",
    b"GET /purchase_a_sword HTTP/1.1\r\nHost: h2  \r\nContent-Type: \r\nUser-Agent: "
    b"\xc3\xa9t\xe9 \"q\" \\ \t tab\r\nContent-Type: text/x\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h3\r\nContent-Type: \r\nX-Empty:\r\nConnection: close\r\n\r\n",
    b"GET http://abs.example:8080/purchase_a_sword?x=1 HTTP/1.1\r\nAccept: a\r\n"
    b"Host: ignored\r\nConnection: close\r\n\r\n",
    b"GET /purchase%5Fa_sword HTTP/1.0\r\nACCEPT-ENCODING: gzip\r\n\r\n",
    b"GET /?q=1 HTTP/1.0\r\n\r\n",
]


def test_header_names_and_values_match_werkzeug(tmp_path, broker, flask_app):
    collect = start_collect(tmp_path, broker, "-t", "sluice_events")
    try:
        for req in TRICKY:
            theirs = raw_request(flask_app, req)
            ours = raw_request(collect.port, req)
            assert theirs.startswith(b"HTTP/1.1 200") or theirs.startswith(b"HTTP/1.0 200"), theirs
            assert ours.startswith(b"HTTP/1.1 200"), ours
            assert ours.split(b"\r\n\r\n", 1)[1] == theirs.split(b"\r\n\r\n", 1)[1]
        ours = kcat_values(broker, "sluice_events", len(TRICKY))
        theirs = kcat_values(broker, "events", len(TRICKY))
    finally:
        collect.stop()
    assert ours == theirs
    assert ours[0] == (b'{"event_type": "default", "Host": "h1", "X-Dup": "1,2,3", "Dnt": "1", '
                       b'"X-1A-B2C": "v", "Connection": "close"}')
    assert b'"User-Agent": "\\u00c3\\u00a9t\\u00e9 \\"q\\" \\\\ \\t tab"' in ours[1]
    assert b'"Host": "h2  "' in ours[1]
    assert b'"Content-Type": "text/x"' in ours[1]
    assert b"Content-Type" not in ours[2]
    assert b'"Host": "abs.example:8080"' in ours[3]


def test_routes_file_knife_route_matches_the_flask_knife_route(tmp_path, broker, flask_app):
    routes = tmp_path / "routes.json"
    routes.write_text('# the handout\'s knife route\n'
                      '{"path": "/purchase_a_knife", "event_type": "purchase_knife",\n'
                      ' "fields": {"description": "very sharp knife"},\n'
                      ' "reply": "Knife Purchased!\\n"}\n')
    collect = start_collect(tmp_path, broker, "-t", "sluice_events", "--routes", str(routes))
    try:
        ab(flask_app, "/purchase_a_knife", "user1.comcast.com")
        ab(collect.port, "/purchase_a_knife", "user1.comcast.com")
        body = raw_request(collect.port, b"GET /purchase_a_knife HTTP/1.0\r\n\r\n")
        ours = kcat_values(broker, "sluice_events", 11)
        theirs = kcat_values(broker, "events", 10)
    finally:
        collect.stop()
    assert body.endswith(b"\r\n\r\nKnife Purchased!\n")
    assert ours[:10] == theirs
    assert ours[0] == (b'{"event_type": "purchase_knife", "description": "very sharp knife", '
                       b'"Host": "user1.comcast.com", "User-Agent": "ApacheBench/2.3", '
                       b'"Accept": "*/*"}')
