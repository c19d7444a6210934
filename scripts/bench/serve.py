"""The serving cases, alternated in rounds over the deployed config and its variants."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from . import containers
from .stats import CaseSummary, summarize
from .variants import Variant
from .wrk import Sample, run_wrk

HELLO = ("departamentos.centro.intranet", "/test")
POLLS = ("poll.example.org", "/")
STATIC = ("poll.example.org", "/static/admin/css/base.css")


@dataclass(frozen=True)
class Case:
    label: str
    container: str
    host: str
    path: str
    variants: tuple[Variant, ...]  # "deployed" first


def rotated(items: Sequence[Variant], round_no: int) -> list[Variant]:
    """The order of a round: each round starts one variant later (no variant always runs first
    or right after the same neighbour)."""
    k = round_no % len(items)
    return [*items[k:], *items[:k]]


def measure(
    cases: Sequence[Case], rounds: int, seconds: int, connections: int
) -> list[CaseSummary]:
    ips = {c.container: containers.ip(c.container) for c in cases}
    samples: dict[str, dict[str, list[Sample]]] = {
        c.label: {v.name: [] for v in c.variants} for c in cases
    }
    for c in cases:  # warm-up: load the apps, fill caches and keep-alive pools
        for v in c.variants:
            run_wrk(f"http://{ips[c.container]}:{v.port}{c.path}", c.host, 2, connections)
    for round_no in range(rounds):
        for c in cases:
            for v in rotated(c.variants, round_no):
                before = containers.cpu_usec(c.container)
                s = run_wrk(
                    f"http://{ips[c.container]}:{v.port}{c.path}", c.host, seconds, connections
                )
                used = containers.cpu_usec(c.container) - before
                requests = s.rps * seconds
                s = Sample(s.rps, s.p99_ms, s.errors, used / requests if requests else 0.0)
                samples[c.label][v.name].append(s)
                print(
                    f"round {round_no + 1}: {c.label}: {v.name}: {s.rps:,.0f} req/s, "
                    f"p99 {s.p99_ms:.1f} ms, errors {s.errors}, "
                    f"{s.cpu_us_per_request:.0f} us CPU/request",
                    file=sys.stderr,
                )
    return [summarize(c.label, samples[c.label]) for c in cases]
