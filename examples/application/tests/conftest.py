"""Fixtures shared by hello-app's integration and acceptance suites.

Every test talks to the real static binary over 127.0.0.1. The app is started with PORT=0 and
prints the port it bound, so there is no pick-a-port-then-bind race, and every app a test starts
is stopped when the test ends, passed or failed.
"""
import http.client
import os
import selectors
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "build" / "hello-app"


class RunningApp:
    """One hello-app process on a free loopback port."""

    def __init__(self, env=None, start_timeout=5.0):
        if not BINARY.exists():
            pytest.fail(f"{BINARY} is missing: run `make build` first")
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": "0"}
        full_env.update(env or {})
        self.process = subprocess.Popen(
            [str(BINARY)], env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.first_line = self._read_line(start_timeout)
        # "hello-app: listening on 127.0.0.1:PORT version V"
        if "listening on 127.0.0.1:" not in self.first_line:
            self.kill()
            pytest.fail(f"hello-app did not start: {self.first_line!r}")
        self.port = int(self.first_line.split("127.0.0.1:")[1].split()[0])

    def _read_line(self, timeout):
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                return "<no output within %.0fs>" % timeout
        return self.process.stdout.readline().decode(errors="replace").strip()

    def connection(self, timeout=5.0):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path, method="GET"):
        """Returns (status, headers as a dict, body as str) of one request on a new connection."""
        connection = self.connection()
        try:
            connection.request(method, path)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Sends `sig`, waits for the exit; returns (exit code, the rest of the output)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            output, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"hello-app did not exit within {timeout}s of signal {sig}")
        return self.process.returncode, output.decode(errors="replace")

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


@pytest.fixture
def start_app():
    """A factory: start_app(env={...}) -> RunningApp. All of them are gone after the test."""
    started = []

    def start(env=None):
        app = RunningApp(env)
        started.append(app)
        return app

    yield start
    for app in started:
        app.kill()


@pytest.fixture
def app(start_app):
    return start_app({"APP_VERSION": "9.9.9-test"})

