"""Unit tests of the health checks' HTTP client (plugins/module_utils/httpcheck.py) against a
real HTTP server on 127.0.0.1: the checks of a host's sites run side by side, so sites that do
not answer cost one timeout together, not one each."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from wsgi_testlib.modules import load_module

load_module("validated_change")  # puts the collection on sys.path
from ansible_collections.wsgi.deploy.plugins.module_utils import httpcheck  # noqa: E402

SITES = 4


class Rendezvous(BaseHTTPRequestHandler):
    """Answers 200 to the sites' names only once SITES requests for them are in flight together
    (a barrier), 503 otherwise: checks made one after the other can never pass. Names starting
    with "direct" get 200 at once."""

    barrier = threading.Barrier(SITES)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        host = self.headers["Host"]
        try:
            if not host.startswith("direct"):
                self.barrier.wait(timeout=1.5)
            status, body = 200, f"ok {host}"
        except threading.BrokenBarrierError:
            self.barrier.reset()
            status, body = 503, "alone"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Rendezvous)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def _site(index: int) -> dict[str, object]:
    return {"name": f"s{index}", "domain": f"s{index}.example.test", "health": {"timeout": 4}}


def test_the_checks_of_a_hosts_sites_run_side_by_side(server: int) -> None:
    checks = httpcheck.checks_for([_site(i) for i in range(SITES)])

    results = httpcheck.check_all(server, checks)

    assert [r["site"] for r in results] == [f"s{i}" for i in range(SITES)]  # in their order
    assert all(r["ok"] for r in results), results
    assert [r["seen"] for r in results] == [f"HTTP 200: ok s{i}.example.test" for i in range(SITES)]


def test_a_failing_check_reports_what_it_saw_and_the_rest_still_pass(server: int) -> None:
    sites = [_site(i) for i in range(SITES)]
    sites.insert(0, {"name": "down", "domain": "direct.example.test", "health": {"timeout": 1}})
    checks = httpcheck.checks_for(sites)
    checks[0]["status"] = [204]  # never answered so

    results = httpcheck.check_all(server, checks)

    assert [r["ok"] for r in results] == [False] + [True] * SITES
    failure = httpcheck.failures_text(results)
    assert failure == (
        "site 'down': http://direct.example.test/ wanted status 204, "
        "got HTTP 200: ok direct.example.test"
    ), failure
