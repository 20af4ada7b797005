"""The test service of .slipway.yml: `run` starts hello-app, `ready` says when it answers.

`run` picks a free loopback port, writes it to $HELLO_SERVICE_PORT_FILE (default
build/service.port) and then *becomes* hello-app (exec), so that the signal Slipway sends to stop
the service reaches the app itself and exercises its graceful stop. Only the standard library is
used, so any python3 will do.
"""
import http.client
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def port_file():
    path = Path(os.environ.get("HELLO_SERVICE_PORT_FILE", "build/service.port"))
    return path if path.is_absolute() else ROOT / path


def free_port():
    # The port is free now; another process could take it before the app binds, but the kernel
    # hands out ephemeral ports at random, which makes that unlikely enough for a test service.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run():
    binary = ROOT / "build" / "hello-app"
    if not binary.exists():
        sys.exit(f"service: {binary} is missing; the setup step (make build) makes it")
    port = free_port()
    target = port_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    partial.write_text(f"{port}\n")
    partial.replace(target)  # readers never see a half-written file
    env = dict(os.environ, PORT=str(port))
    env.setdefault("APP_VERSION", "service")
    os.execve(binary, [str(binary)], env)


def ready():
    try:
        port = int(port_file().read_text())
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except (OSError, ValueError, http.client.HTTPException):
        return False


if __name__ == "__main__":
    if sys.argv[1:] == ["run"]:
        run()
    elif sys.argv[1:] == ["ready"]:
        sys.exit(0 if ready() else 1)
    else:
        sys.exit("usage: service.py run|ready")
