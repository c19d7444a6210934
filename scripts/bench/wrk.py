"""One wrk run and its parsed result."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    rps: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors
    cpu_us_per_request: float = 0.0  # the server container's CPU time / requests


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


def run_wrk(url: str, host: str, seconds: int, connections: int) -> Sample:
    """`wrk -t2` with the site's Host header (bounded: the run times out after seconds + 30)."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Host: {host}"]
    proc = subprocess.run(
        [*argv, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    )
    return parse_wrk(proc.stdout)
