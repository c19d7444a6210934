"""Markdown tables of the benchmark's results (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .stats import DEPLOYED, CaseSummary

SERVE_TARGET = 0.95  # deployed / best hand-tuned variant


def serve_table(cases: Sequence[CaseSummary]) -> str:
    """One row per case: the deployed config's figures, the best variant, deployed/best with the
    spread of the per-round ratios, and whether the target is met."""
    rows = [
        "| case | deployed req/s | p99 ms | errors | best variant | its req/s "
        "| deployed/best (spread) | >= 0.95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        d = c.variants[0]
        b = c.best_variant
        ratio = 1.0 if b.name == DEPLOYED else b.ratio
        spread = "" if b.name == DEPLOYED else f" ({b.ratio_min:.2f}-{b.ratio_max:.2f})"
        rows.append(
            f"| {c.case} | {d.rps:,.0f} | {d.p99_ms:.1f} | {d.errors} | {b.name} | {b.rps:,.0f} "
            f"| {ratio:.2f}{spread} | {'yes' if ratio >= SERVE_TARGET else 'no'} |"
        )
    return "\n".join(rows)


def variants_table(cases: Sequence[CaseSummary]) -> str:
    """Every variant of every case, as the ratio deployed / variant."""
    rows = [
        "| case | variant | req/s | p99 ms | errors | CPU us/req | deployed/variant (spread) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        for v in c.variants:
            rows.append(
                f"| {c.case} | {v.name} | {v.rps:,.0f} | {v.p99_ms:.1f} | {v.errors} "
                f"| {v.cpu_us:.0f} "
                f"| {v.ratio:.2f} ({v.ratio_min:.2f}-{v.ratio_max:.2f}) |"
            )
    return "\n".join(rows)


@dataclass(frozen=True)
class Target:
    what: str
    measured: str
    target: str
    met: bool | None  # None: not measured in this run


def targets_table(targets: Sequence[Target]) -> str:
    rows = ["| converge | measured | target | met |", "|---|---|---|---|"]
    for t in targets:
        met = "not measured" if t.met is None else ("yes" if t.met else "no")
        rows.append(f"| {t.what} | {t.measured} | {t.target} | {met} |")
    return "\n".join(rows)
