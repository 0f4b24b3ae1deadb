"""sluice collect: POST /events, --routes, /healthz, /metrics, 404 and 405,
with a real broker and the events read back with kcat."""
import json
import re
import time
import urllib.error
import urllib.request

import pytest

from conftest import SLUICE, free_port, kcat_values, run, start_collect


@pytest.fixture
def collect(tmp_path, broker):
    srv = start_collect(tmp_path, broker)
    yield srv
    srv.stop()


def http(port, path, data=None, method=None, headers=None):
    """(status, body, headers) of one request with urllib (python requests' peer)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def metric(port, name, **labels):
    _, body, _ = http(port, "/metrics")
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in body.decode().splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return 0.0


def test_post_events_single_object_is_logged_with_headers(collect, broker):
    status, body, _ = http(collect.port, "/events", data=b'{"event_type": "login", "user": 7}',
                           headers={"Content-Type": "application/json", "X-Trace": "t1"})
    assert status == 200
    assert json.loads(body) == {"accepted": 1}
    [value] = kcat_values(broker, "events", 1)
    event = json.loads(value)
    assert event["event_type"] == "login" and event["user"] == 7
    assert event["X-Trace"] == "t1" and event["Content-Type"] == "application/json"
    assert list(event)[:2] == ["event_type", "user"]


def test_post_events_ndjson_batch_logs_every_line_in_order(collect, broker):
    lines = [json.dumps({"event_type": "click", "n": i}) for i in range(50)]
    status, body, _ = http(collect.port, "/events", data=("\n".join(lines) + "\n").encode())
    assert status == 200 and json.loads(body) == {"accepted": 50}
    values = kcat_values(broker, "events", 50)
    assert [json.loads(v)["n"] for v in values] == list(range(50))


def test_post_events_bad_line_is_400_naming_the_line_and_logs_nothing(collect, broker):
    body = b'{"event_type": "a"}\n{"event_type": "b"}\n{"event_type": oops}\n'
    status, reply, _ = http(collect.port, "/events", data=body)
    assert status == 400
    assert reply.startswith(b"error: ") and b"line 3" in reply
    status, reply, _ = http(collect.port, "/events", data=b'{"event_type": "a"}\n{"x": 1}\n')
    assert status == 400 and b"line 2" in reply and b"event_type" in reply
    status, reply, _ = http(collect.port, "/events", data=b'[1, 2]')
    assert status == 400 and b"line 1" in reply
    status, reply, _ = http(collect.port, "/events", data=b'  \n')
    assert status == 400
    # Only the good request after them lands in the topic.
    status, _, _ = http(collect.port, "/events", data=b'{"event_type": "good"}')
    assert status == 200
    values = kcat_values(broker, "events", 1)
    time.sleep(0.5)
    values = kcat_values(broker, "events", 1)
    assert len(values) == 1 and json.loads(values[0])["event_type"] == "good"


def test_post_events_header_replaces_a_posted_key_in_place(collect, broker):
    status, _, _ = http(collect.port, "/events",
                        data=b'{"Host": "mine", "event_type": "e", "a": 1, "a": 2}')
    assert status == 200
    [value] = kcat_values(broker, "events", 1)
    assert value.startswith(b'{"Host": "127.0.0.1:')  # dict.update keeps the position
    assert b'"event_type": "e", "a": 2' in value      # json.loads: first position, last value


def test_routes_file_adds_routes_with_fields_status_and_reply(tmp_path, broker):
    routes = tmp_path / "routes.ndjson"
    routes.write_text(
        '{"path": "/join", "event_type": "join_guild", "fields": {"guild": "knights", '
        '"level": 3, "tags": ["a", "\\u00e9"]}, "reply": "joined\\n", "status": 201}\n'
        '{"path": "/", "event_type": "home", "reply": "home\\n"}\n')
    srv = start_collect(tmp_path, broker, "--routes", str(routes))
    try:
        status, body, _ = http(srv.port, "/join")
        assert (status, body) == (201, b"joined\n")
        status, body, _ = http(srv.port, "/")
        assert (status, body) == (200, b"home\n")
        status, body, _ = http(srv.port, "/purchase_a_sword")
        assert (status, body) == (200, b"Sword Purchased!\n")
        values = kcat_values(broker, "events", 3)
    finally:
        srv.stop()
    assert values[0].startswith(b'{"event_type": "join_guild", "guild": "knights", "level": 3, '
                                b'"tags": ["a", "\\u00e9"], "Accept-Encoding": "identity"')
    assert json.loads(values[1])["event_type"] == "home"


def test_routes_file_errors_name_the_file_and_line(tmp_path):
    routes = tmp_path / "bad.json"
    routes.write_text('{"path": "/a", "event_type": "a"}\n{"path": "/b", "feilds": {}}\n')
    p = run([SLUICE, "collect", "--listen", f"127.0.0.1:{free_port()}", "-b", "127.0.0.1:1",
             "--routes", str(routes)], check=False, timeout=20)
    assert p.returncode == 1
    assert f"{routes}:2" in p.stderr and "feilds" in p.stderr


def test_healthz_metrics_404_and_405(collect, broker):
    assert http(collect.port, "/healthz")[:2] == (200, b"ok\n")
    status, body, _ = http(collect.port, "/nowhere")
    assert status == 404 and body.startswith(b"error: ")
    status, body, headers = http(collect.port, "/purchase_a_sword", data=b"x")
    assert status == 405 and "GET" in headers["Allow"]
    status, _, headers = http(collect.port, "/events")
    assert status == 405 and "POST" in headers["Allow"]
    _, body, headers = http(collect.port, "/metrics")
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    for name in ["sluice_collect_requests_total", "sluice_collect_events_total",
                 "sluice_collect_produce_errors_total", "sluice_collect_events_in_flight",
                 "sluice_collect_request_duration_seconds_bucket"]:
        assert name in text
    assert re.search(r'^# TYPE sluice_collect_request_duration_seconds histogram$', text, re.M)


def test_metrics_counters_move_with_requests(collect, broker):
    before_req = metric(collect.port, "sluice_collect_requests_total",
                        route="/purchase_a_sword", status="200")
    before_ev = metric(collect.port, "sluice_collect_events_total", route="/purchase_a_sword")
    before_count = metric(collect.port, "sluice_collect_request_duration_seconds_count")
    run(["ab", "-k", "-n", "25", "-c", "2", f"http://127.0.0.1:{collect.port}/purchase_a_sword"])
    http(collect.port, "/nowhere")
    assert metric(collect.port, "sluice_collect_requests_total", route="/purchase_a_sword",
                  status="200") == before_req + 25
    assert metric(collect.port, "sluice_collect_events_total",
                  route="/purchase_a_sword") == before_ev + 25
    assert metric(collect.port, "sluice_collect_requests_total", route="(unmatched)",
                  status="404") >= 1
    assert metric(collect.port, "sluice_collect_request_duration_seconds_count") >= \
        before_count + 26
    assert metric(collect.port, "sluice_collect_events_in_flight") == 0


def test_server_fields_option_adds_receive_time_and_client_address(tmp_path, broker):
    srv = start_collect(tmp_path, broker, "--server-fields")
    try:
        assert http(srv.port, "/")[0] == 200
        [value] = kcat_values(broker, "events", 1)
    finally:
        srv.stop()
    event = json.loads(value)
    assert event["remote_addr"] == "127.0.0.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", event["received_at"])
    assert list(event)[-2:] == ["received_at", "remote_addr"]


def test_metrics_is_valid_prometheus_text(collect):
    http(collect.port, "/purchase_a_sword")
    http(collect.port, "/nowhere")
    _, body, _ = http(collect.port, "/metrics")
    sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? '
                        r'[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?|\+Inf|NaN)$')
    typed = set()
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#"):
            continue
        assert sample.match(line), line
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or base in typed, line
    buckets = [float(l.split()[-1]) for l in body.decode().splitlines()
               if l.startswith("sluice_collect_request_duration_seconds_bucket")]
    assert buckets == sorted(buckets) and buckets[-1] >= 2
