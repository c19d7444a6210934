#!/usr/bin/env python3
"""Throughput of the demo deployments (`make demo`), both stacks side by side: `make bench`.

A benchmark, not a test: it measures and reports, it asserts nothing about speed. For each case
it runs `wrk -t2 -c64 -d<seconds>s --latency` with the site's Host header against the demo
container's own address (not the published port, so docker-proxy is not measured), in rounds
that alternate the cases (this machine's CPU speed drifts in phases of seconds), and prints the
median requests/s and p99 latency per case next to the hand-tuned reference figures of
../shared/notes/perf-reference.md, and the in-run ratio of static files served by the web server
to a Django view (only ratios measured in one run compare across environments).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass

APACHE = "wsgi-demo-apache"
NGINX = "wsgi-demo-nginx"
HELLO = "departamentos.centro.intranet"
POLLS = "poll.example.org"


@dataclass(frozen=True)
class Case:
    label: str
    container: str
    host: str
    path: str
    reference: str  # the matching row of the reference table
    reference_rps: float


CASES = [
    Case(
        "hello WSGI, Apache + mod_wsgi daemon (defaults)",
        APACHE,
        HELLO,
        "/test",
        "Apache + mod_wsgi daemon processes=2 threads=15",
        10_200,
    ),
    Case(
        "hello WSGI, Nginx -> Gunicorn sync (defaults)",
        NGINX,
        HELLO,
        "/test",
        "Nginx -> Gunicorn sync x5, unix socket, upstream keepalive",
        6_900,
    ),
    Case(
        "Django view, Apache + mod_wsgi daemon (defaults)",
        APACHE,
        POLLS,
        "/",
        "Django view, Apache + mod_wsgi daemon p=2 t=15",
        3_200,
    ),
    Case(
        "Django view, Nginx -> Gunicorn sync (defaults)",
        NGINX,
        POLLS,
        "/",
        "Django view, Nginx -> Gunicorn sync x5 (unix)",
        3_100,
    ),
    Case(
        "static CSS, Apache Alias",
        APACHE,
        POLLS,
        "/static/admin/css/base.css",
        "10 KB CSS, Apache Alias",
        36_500,
    ),
    Case(
        "static CSS, Nginx alias",
        NGINX,
        POLLS,
        "/static/admin/css/base.css",
        "10 KB CSS, nginx alias",
        111_000,
    ),
]


@dataclass(frozen=True)
class Sample:
    rps: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> Sample:
    """Requests/s, p99 latency and errors from `wrk --latency` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if not rps or not p99:
        raise ValueError(f"unexpected wrk output:\n{output}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return Sample(float(rps.group(1)), float(p99.group(1)) * _UNITS_MS[p99.group(2)], errors)


def container_ip(name: str) -> str:
    out = subprocess.run(
        ["docker", "inspect", name], capture_output=True, text=True, check=True
    ).stdout
    networks = json.loads(out)[0]["NetworkSettings"]["Networks"]
    return next(n["IPAddress"] for n in networks.values() if n["IPAddress"])


def run_wrk(address: str, case: Case, seconds: int, connections: int) -> Sample:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    argv += ["-H", f"Host: {case.host}", f"http://{address}{case.path}"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 30)
    return parse_wrk(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk (make bench installs it)", file=sys.stderr)
        return 2
    try:
        addresses = {name: container_ip(name) for name in (APACHE, NGINX)}
    except (subprocess.CalledProcessError, StopIteration):
        print("the demo containers are not running: run `make demo` first", file=sys.stderr)
        return 2

    samples: dict[str, list[Sample]] = {case.label: [] for case in CASES}
    for case in CASES:  # warm-up: load the apps, fill caches and keep-alive pools
        run_wrk(addresses[case.container], case, 2, args.connections)
    for round_no in range(1, args.rounds + 1):
        for case in CASES:
            sample = run_wrk(addresses[case.container], case, args.seconds, args.connections)
            samples[case.label].append(sample)
            print(
                f"round {round_no}: {case.label}: {sample.rps:,.0f} req/s, "
                f"p99 {sample.p99_ms:.1f} ms, errors {sample.errors}",
                file=sys.stderr,
            )

    medians = {
        case.label: (
            statistics.median(s.rps for s in samples[case.label]),
            statistics.median(s.p99_ms for s in samples[case.label]),
            sum(s.errors for s in samples[case.label]),
        )
        for case in CASES
    }
    print(f"\nwrk -t2 -c{args.connections} -d{args.seconds}s, median of {args.rounds} rounds\n")
    print("| case | req/s | p99 ms | errors | hand-tuned reference | its req/s |")
    print("|---|---|---|---|---|---|")
    for case in CASES:
        rps, p99, errors = medians[case.label]
        print(
            f"| {case.label} | {rps:,.0f} | {p99:.1f} | {errors} | {case.reference} "
            f"| {case.reference_rps:,.0f} |"
        )
    print(
        "\nThe reference was measured on the host's loopback, these targets sit behind Docker's"
        "\nbridge: compare ratios measured in one run, not absolute figures. Static alias vs the"
        "\nDjango view, same stack (the reference's ratio in brackets):"
    )
    for static, view in ((CASES[4], CASES[2]), (CASES[5], CASES[3])):
        ours = medians[static.label][0] / medians[view.label][0]
        ref = static.reference_rps / view.reference_rps
        print(f"- {static.label}: {ours:.1f}x the Django view ({ref:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
