"""Acceptance: SIGTERM stops the app gracefully, which is what blue/green draining relies on.

Each test starts its own app (the test service must keep running for the other suites).
"""
import signal
import socket
import time


def connect(app):
    return socket.create_connection(("127.0.0.1", app.port), timeout=5)


def read_response(sock):
    """Reads until the server closes the connection; returns all bytes."""
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def complete_one_request(sock):
    """A full keep-alive exchange: proves the server has accepted the connection."""
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while not data.endswith(b"ok\n"):
        chunk = sock.recv(4096)
        assert chunk, f"connection closed early after {data!r}"
        data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n"), data


def refuses_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except (ConnectionRefusedError, ConnectionResetError):
        # Refused once the socket is closed; reset when the connection was queued on the
        # listening socket in the instant it closed. Either way nothing new is served.
        return True
    except TimeoutError:
        # A handshake caught in the instant the socket closed is dropped without an answer:
        # not served, not refused yet; the next attempt says which.
        return False


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_sigterm_exits_0_and_says_so(app):
    assert app.get("/health")[0] == 200
    code, output = app.stop(signal.SIGTERM, timeout=3)
    assert code == 0, output
    assert "hello-app: stopped" in output


def test_request_in_flight_is_answered_after_sigterm(app):
    with connect(app) as sock:
        complete_one_request(sock)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")  # half a request...
        app.process.send_signal(signal.SIGTERM)
        sock.sendall(b"\r\n")  # ...finished after the signal
        answer = read_response(sock)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
    assert b"Connection: close\r\n" in answer, "the last answer must announce the close"
    assert app.stop(timeout=3)[0] == 0


def test_new_connections_are_refused_while_draining(app):
    with connect(app) as sock:
        complete_one_request(sock)
        sock.sendall(b"GET / HTTP/1.1\r\n")  # keeps the app draining until we finish it
        app.process.send_signal(signal.SIGTERM)
        assert wait_until(lambda: refuses_connections(app.port), timeout=3), \
            "the listening socket must close as soon as SIGTERM arrives"
        assert app.process.poll() is None, "the app must wait for the request in flight"
        sock.sendall(b"Host: t\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200 OK\r\n")
    assert app.stop(timeout=3)[0] == 0


def test_idle_keep_alive_connection_is_closed_by_sigterm(app):
    with connect(app) as sock:
        complete_one_request(sock)
        app.process.send_signal(signal.SIGTERM)
        sock.settimeout(3)
        assert sock.recv(4096) == b"", "an idle connection must be closed, not kept to the end"
    assert app.stop(timeout=3)[0] == 0
