"""Shared fixtures for the integration tests: real sluice servers on free
loopback ports, driven by real clients. Run by /usr/bin/python3 -m pytest.

Fixtures:
  sluice_bin  path of the sluice binary ($SLUICE or build/sluice)
  broker      a running `sluice broker` on 127.0.0.1:<free port> with its own
              data dir; .addr is "127.0.0.1:PORT"; .kill9(), .stop(), .start()
              restart it on the same port and data dir
  node_dir    tests/node (node_modules with DuckDB, hyparquet, kafkajs)
Helpers: free_port(), wait_port(), Server, run(), start_collect(),
kcat_values().
"""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLUICE = os.environ.get("SLUICE", str(ROOT / "build" / "sluice"))
NODE_DIR = ROOT / "tests" / "node"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, proc=None):
    """Wait until 127.0.0.1:port accepts connections (or the process dies)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


class Server:
    """A sluice sub-command running as a server on a fixed loopback port."""

    def __init__(self, args, port, log_path):
        self.args = args
        self.port = port
        self.addr = f"127.0.0.1:{port}"
        self.log_path = log_path
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([SLUICE] + self.args, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self, timeout=10):
        """SIGTERM and wait: a graceful shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        """SIGKILL: the process gets no chance to flush anything."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self.log.close()

    def output(self):
        return Path(self.log_path).read_text(errors="replace")


@pytest.fixture
def sluice_bin():
    return SLUICE


@pytest.fixture
def node_dir():
    return NODE_DIR


@pytest.fixture
def broker(tmp_path):
    """A fresh broker with its own data directory; stopped after the test."""
    port = free_port()
    data = tmp_path / "broker-data"
    srv = Server(["broker", "--listen", f"127.0.0.1:{port}", "--data", str(data)],
                 port, tmp_path / "broker.log")
    srv.data = data
    srv.start()
    yield srv
    srv.stop()


def run(args, input=None, timeout=60, check=True, env=None):
    """Run a command, returning CompletedProcess with text stdout/stderr."""
    p = subprocess.run(args, input=input, capture_output=True, timeout=timeout,
                       text=isinstance(input, str) or input is None, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} exited {p.returncode}\nstdout:\n{p.stdout}\n"
                             f"stderr:\n{p.stderr}")
    return p


def start_collect(tmp_path, broker, *extra):
    """A running `sluice collect` on a free port, producing to `broker` (a
    broker fixture or a "HOST:PORT" string); extra args are appended."""
    addr = broker if isinstance(broker, str) else broker.addr
    port = free_port()
    srv = Server(["collect", "--listen", f"127.0.0.1:{port}", "-b", addr] + list(extra),
                 port, tmp_path / f"collect-{port}.log")
    return srv.start()


def kcat_values(broker, topic, want, timeout=20.0):
    """The topic's message values (bytes) read with kcat from the beginning,
    polling until at least `want` are there."""
    deadline = time.time() + timeout
    lines = []
    while time.time() < deadline:
        p = subprocess.run(["kcat", "-C", "-b", broker.addr, "-t", topic, "-o", "beginning",
                            "-e", "-q"], capture_output=True, timeout=30)
        lines = [l for l in p.stdout.split(b"\n") if l]
        if len(lines) >= want:
            return lines
        time.sleep(0.3)
    raise AssertionError(f"topic {topic}: {len(lines)} of {want} messages")
