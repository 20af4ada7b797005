"""Acceptance: many clients at once get correct answers, with the latencies reported.

Under Slipway this loads the test service of .slipway.yml (the app as it will run deployed);
by hand, without $HELLO_SERVICE_PORT_FILE, it starts its own app. With $SLIPWAY_SUMMARY set,
a Markdown table of the latencies is appended to that file and shows on the run's page.
"""
import http.client
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

results = []  # one row per load test, written to the summary when the module ends


@pytest.fixture
def target(request, start_app):
    """(description, port) of the app under load."""
    port_file = os.environ.get("HELLO_SERVICE_PORT_FILE")
    if port_file:
        path = Path(port_file)
        if not path.is_absolute():
            path = request.config.rootpath / path
        assert path.exists(), f"{path} is missing: is the `app` test service running?"
        return "the test service", int(path.read_text())
    return "an app started by the suite", start_app({"APP_VERSION": "acceptance"}).port


@pytest.fixture(scope="module", autouse=True)
def summary():
    yield
    destination = os.environ.get("SLIPWAY_SUMMARY")
    if not destination or not results:
        return
    lines = [
        "### hello-app under load",
        "",
        "| test | target | clients | requests | p50 ms | p95 ms | max ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results:
        lines.append("| {name} | {target} | {clients} | {requests} | {p50:.1f} | {p95:.1f} | "
                     "{max:.1f} |".format(**row))
    with open(destination, "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n\n")


def record(name, target, clients, latencies):
    ordered = sorted(latencies)
    results.append({
        "name": name, "target": target, "clients": clients, "requests": len(ordered),
        "p50": 1000 * ordered[len(ordered) // 2],
        "p95": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        "max": 1000 * ordered[-1],
    })


def test_parallel_keep_alive_clients_all_get_the_greeting(target):
    description, port = target
    clients, per_client = 16, 25

    def client(_):
        latencies, versions = [], set()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            for _ in range(per_client):
                started = time.perf_counter()
                connection.request("GET", "/")
                response = connection.getresponse()
                body = response.read().decode()
                latencies.append(time.perf_counter() - started)
                assert response.status == 200, f"{response.status}: {body}"
                assert body.startswith("Hello"), body
                versions.add(response.getheader("X-App-Version"))
        finally:
            connection.close()
        return latencies, versions

    with ThreadPoolExecutor(clients) as pool:
        outcomes = list(pool.map(client, range(clients)))
    latencies = [value for lat, _ in outcomes for value in lat]
    versions = set().union(*(v for _, v in outcomes))
    assert len(latencies) == clients * per_client
    assert len(versions) == 1, f"one app must answer with one version, saw {versions}"
    record("keep-alive GET /", description, clients, latencies)


def test_burst_of_new_connections_is_served(target):
    description, port = target
    clients = 64

    def probe(_):
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b"ok\n")
        finally:
            connection.close()
        return time.perf_counter() - started

    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(probe, range(clients)))
    record("new connection per GET /health", description, clients, latencies)
