"""Aggregation of alternated rounds: deployed vs the best variant of each case (pure)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .wrk import Sample

DEPLOYED = "deployed"


@dataclass(frozen=True)
class VariantSummary:
    name: str
    rps: float  # median over the rounds
    p99_ms: float  # median over the rounds
    errors: int  # summed over the rounds
    cpu_us: float  # median server CPU time per request, microseconds
    ratio: float  # median of the per-round ratios deployed / this variant
    ratio_min: float
    ratio_max: float


@dataclass(frozen=True)
class CaseSummary:
    case: str
    variants: tuple[VariantSummary, ...]  # the deployed one first
    best: str  # the variant with the highest median req/s

    @property
    def best_variant(self) -> VariantSummary:
        return next(v for v in self.variants if v.name == self.best)


def summarize(case: str, samples: Mapping[str, Sequence[Sample]]) -> CaseSummary:
    """`samples` maps each variant (one named DEPLOYED) to its samples, one per round, in round
    order: round i of every variant ran within the same few seconds, so the per-round ratio to
    the deployed config is the figure least moved by the machine's drift."""
    if DEPLOYED not in samples:
        raise ValueError(f"{case}: no {DEPLOYED!r} variant")
    rounds = {len(s) for s in samples.values()}
    if len(rounds) != 1 or 0 in rounds:
        raise ValueError(f"{case}: every variant needs the same, non-zero number of rounds")
    deployed = samples[DEPLOYED]
    out = []
    for name in [DEPLOYED, *sorted(n for n in samples if n != DEPLOYED)]:
        ratios = [
            d.rps / v.rps if v.rps else float("inf")
            for d, v in zip(deployed, samples[name], strict=True)
        ]
        out.append(
            VariantSummary(
                name=name,
                rps=statistics.median(s.rps for s in samples[name]),
                p99_ms=statistics.median(s.p99_ms for s in samples[name]),
                errors=sum(s.errors for s in samples[name]),
                cpu_us=statistics.median(s.cpu_us_per_request for s in samples[name]),
                ratio=statistics.median(ratios),
                ratio_min=min(ratios),
                ratio_max=max(ratios),
            )
        )
    best = max(out, key=lambda v: v.rps).name
    return CaseSummary(case, tuple(out), best)
