"""The pure parts of `make bench` (scripts/bench): wrk parsing, aggregation of alternated rounds,
the report, the variant configurations derived from deployed files, the generated inventories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from bench import configs, inventory, report, serve, stats  # noqa: E402
from bench.variants import Variant  # noqa: E402
from bench.wrk import Sample, parse_wrk  # noqa: E402

WRK = """Running 5s test @ http://172.17.0.3/test
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.01ms    3.20ms  80.10ms   90.00%
  Latency Distribution
     50%   11.00ms
     75%   13.00ms
     90%   15.00ms
     99%    1.20s
  30000 requests in 5.00s, 4.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   6000.50
Transfer/sec:    800.00KB
"""


def test_parse_wrk_reads_rate_tail_and_every_error() -> None:
    s = parse_wrk(WRK)
    assert s.rps == 6000.5
    assert s.p99_ms == 1200.0
    assert s.errors == 12


def test_parse_wrk_refuses_output_without_figures() -> None:
    with pytest.raises(ValueError):
        parse_wrk("unable to connect to 172.17.0.3:80 Connection refused")


def _s(rps: float) -> Sample:
    return Sample(rps, 10.0, 0, 100.0)


def test_summary_pairs_the_rounds_and_names_the_best() -> None:
    c = stats.summarize(
        "hello",
        {"deployed": [_s(100), _s(200), _s(90)], "b": [_s(125), _s(200), _s(100)]},
    )
    assert [v.name for v in c.variants] == ["deployed", "b"]
    assert c.best == "b"
    b = c.best_variant
    assert (b.ratio, b.ratio_min, b.ratio_max) == (0.9, 0.8, 1.0)
    assert c.variants[0].ratio == 1.0


def test_summary_needs_the_deployed_variant_and_equal_rounds() -> None:
    with pytest.raises(ValueError):
        stats.summarize("x", {"b": [_s(1)]})
    with pytest.raises(ValueError):
        stats.summarize("x", {"deployed": [_s(1)], "b": [_s(1), _s(2)]})


def test_serve_table_says_whether_the_target_is_met() -> None:
    worse = stats.summarize("a", {"deployed": [_s(90)], "b": [_s(100)]})
    best = stats.summarize("b", {"deployed": [_s(100)], "b": [_s(96)]})
    rows = report.serve_table([worse, best]).splitlines()
    assert rows[2].startswith("| a | 90 |") and "| b | 100 | 0.90 (0.90-0.90) | no |" in rows[2]
    assert "| deployed | 100 | 1.00 | yes |" in rows[3]


def test_targets_table_marks_what_was_not_measured() -> None:
    t = report.targets_table(
        [report.Target("x", "1", "<= 2", None), report.Target("y", "3", "<= 2", False)]
    )
    assert "| x | 1 | <= 2 | not measured |" in t and "| y | 3 | <= 2 | no |" in t


def test_rounds_rotate_the_order() -> None:
    vs = [Variant("a", 1), Variant("b", 2), Variant("c", 3)]
    assert [v.name for v in serve.rotated(vs, 1)] == ["b", "c", "a"]
    assert [v.name for v in serve.rotated(vs, 3)] == ["a", "b", "c"]


UNIT = """[Service]
ExecStart=/srv/hello/venv/bin/gunicorn \\
    --workers 5 \\
    --worker-class sync \\
    --timeout 30 \\
    --forwarded-allow-ips '*' \\
    wsgi_entry:application
ExecReload=/bin/kill -s HUP $MAINPID
"""


def test_gunicorn_variant_keeps_the_deployed_command_but_workers_and_binding() -> None:
    argv = configs.gunicorn_argv(configs.unit_exec_start(UNIT), 2, "gthread", 4, "unix:/s.sock")
    assert argv[0] == "/srv/hello/venv/bin/gunicorn" and argv[-1] == "wsgi_entry:application"
    joined = " ".join(argv)
    assert "--workers 2" in joined and "--worker-class gthread" in joined
    assert "--threads 4" in joined and "--bind unix:/s.sock" in joined
    assert "--timeout 30" in joined and "--forwarded-allow-ips *" in joined
    assert "--workers 5" not in joined
    sync = configs.gunicorn_argv(argv, 5, "sync", 1, "unix:/t.sock")
    assert "--threads" not in sync and sync.count("--bind") == 1


NGINX = """upstream wsgi_hello {
    server unix:/run/gunicorn/hello.sock fail_timeout=0;
    keepalive 16;
}
server {
    listen 80;
    listen [::]:80;
    location / { proxy_pass http://wsgi_hello; }
}
"""


def test_nginx_variant_has_its_own_port_upstream_and_socket() -> None:
    out = configs.nginx_server(NGINX, "hello", "v1", 8101, "/run/wsgi-bench/hello-v1.sock")
    assert "upstream wsgi_hello_v1 {" in out and "proxy_pass http://wsgi_hello_v1;" in out
    assert "server unix:/run/wsgi-bench/hello-v1.sock fail_timeout=0;" in out
    assert "listen 8101;" in out and "listen [::]:8101;" in out and "listen 80;" not in out


VHOST = """<VirtualHost *:80>
    ServerName poll.example.org
    WSGIDaemonProcess polls user=polls group=polls processes=2 threads=15 python-home=/v
    WSGIProcessGroup polls
    WSGIScriptAlias / /srv/polls/wsgi/wsgi_entry.py process-group=polls application-group=%{GLOBAL}
</VirtualHost>
"""


def test_apache_variant_has_its_own_port_and_daemon_group() -> None:
    out = configs.apache_vhost(VHOST, "polls", "bench_v1", 8100, 4, 8, ["MaxKeepAliveRequests 0"])
    assert out.startswith("Listen 8100\n<VirtualHost *:8100>\n    MaxKeepAliveRequests 0\n")
    assert "WSGIDaemonProcess bench_v1 user=polls group=polls processes=4 threads=8 " in out
    assert "WSGIProcessGroup bench_v1\n" in out and "process-group=bench_v1 " in out
    assert "polls user" not in out.replace("bench_v1 user", "")


def test_inventory_grows_with_copies_of_hello() -> None:
    inv = inventory.inventory({"nginx_gunicorn": ["wsgi-bench-conv", "wsgi-bench-conv-1"]}, 30)
    sites = inv["all"]["vars"]["wsgi_sites"]
    assert len(sites) == 30 and len({s["name"] for s in sites}) == 30
    assert len({s["domain"] for s in sites}) == 30
    group = inv["all"]["children"]["wsgi_servers"]["children"]["bench_nginx_gunicorn"]
    assert set(group["hosts"]) == {"wsgi-bench-conv", "wsgi-bench-conv-1"}
    assert [s["name"] for s in inventory.sites(2)] == ["hello", "guestbook"]
