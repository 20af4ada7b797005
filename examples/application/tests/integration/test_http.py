"""Integration: the built binary on a free loopback port, over real sockets."""
import socket


def test_health_is_ok(app):
    status, _, body = app.get("/health")
    assert (status, body) == (200, "ok\n")


def test_root_greets_with_the_version_from_the_environment(app):
    status, headers, body = app.get("/")
    assert status == 200
    assert headers.get("X-App-Version") == "9.9.9-test"
    assert "Hello" in body and "9.9.9-test" in body


def test_version_defaults_to_dev(start_app):
    status, headers, _ = start_app().get("/")
    assert status == 200
    assert headers.get("X-App-Version") == "dev"


def test_unknown_path_is_404(app):
    status, _, body = app.get("/no-such-page")
    assert status == 404, f"GET /no-such-page must be 404, got {status} with body {body!r}"


def test_head_has_headers_but_no_body(app):
    status, headers, body = app.get("/", method="HEAD")
    assert status == 200
    assert headers.get("X-App-Version") == "9.9.9-test"
    assert body == ""


def test_keep_alive_serves_several_requests_on_one_connection(app):
    connection = app.connection()
    try:
        for _ in range(3):
            connection.request("GET", "/health")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == b"ok\n"
            assert response.getheader("Connection") is None, "the server must keep it open"
    finally:
        connection.close()


def test_malformed_request_gets_400_and_the_connection_closes(app):
    with socket.create_connection(("127.0.0.1", app.port), timeout=5) as raw:
        raw.sendall(b"this is not http\r\n\r\n")
        answer = b""
        while chunk := raw.recv(4096):  # ends when the server closes
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer
    assert b"Connection: close\r\n" in answer
