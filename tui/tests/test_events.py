"""Aggregation of event streams recorded from real ansible-runner runs (fixtures/events)."""

from __future__ import annotations

import pytest

from wsgi_console.events import HostTotals, RunAggregate

from .conftest import EVENTS, load_events

WITH_STATS = [
    "mixed",
    "mixed_check_diff",
    "diff_apply",
    "diff_check",
    "includes",
    "limit_partial",
    "verbose",
]


def aggregate(name: str) -> RunAggregate:
    agg = RunAggregate()
    agg.add_many(load_events(name))
    return agg


@pytest.mark.parametrize("name", WITH_STATS)
def test_derived_totals_equal_playbook_stats(name: str) -> None:
    agg = aggregate(name)
    assert agg.stats is not None, "recording has a playbook_on_stats event"
    assert agg.matches_stats(), {h: t.as_dict() for h, t in agg.hosts.items()}
    for host, totals in agg.stats.items():
        assert agg.hosts[host] == totals


@pytest.mark.parametrize("name", WITH_STATS)
def test_batched_folding_gives_the_same_totals(name: str) -> None:
    events = load_events(name)
    agg = RunAggregate()
    for start in range(0, len(events), 7):
        agg.add_many(events[start : start + 7])
        agg.pop_dirty()
    assert agg.matches_stats()


def test_all_recordings_are_covered() -> None:
    names = {p.stem for p in EVENTS.glob("*.json")}
    assert names == set(WITH_STATS) | {"limit_nomatch"}


def test_mixed_failures_unreachable_rescue_ignored_skipped() -> None:
    agg = aggregate("mixed")
    summary = agg.summary()
    assert summary["ghost"].unreachable == 1
    assert summary["local2"].failed == 1
    assert summary["local1"].failed == 0
    assert summary["local1"].rescued == summary["local2"].rescued == 1
    assert summary["local1"].ignored == 1
    assert summary["local1"].skipped == 2
    assert agg.failed_hosts() == ["ghost", "local2"]
    groups = [(g.task, g.status, g.hosts) for g in agg.failure_groups()]
    assert groups[0][0] == "Ping" and groups[0][1] == "unreachable" and groups[0][2] == ["ghost"]
    assert ("Fail on local2", "failed", ["local2"]) in groups
    messages = {g.task: g.message for g in agg.failure_groups()}
    assert messages["Fail on local2"] == "boom on local2"
    assert "ghost.invalid" in messages["Ping"]
    # The rescued failure is shown as rescued, not failed.
    rescued = next(t for t in agg.tasks.values() if t.name == "Fails then rescued")
    assert {r.status for r in rescued.results.values()} == {"rescued"}


def test_failures_first_ordering() -> None:
    agg = aggregate("mixed")
    ordered = agg.ordered_tasks(failures_first=True)
    assert ordered[0].worst in ("failed", "unreachable")
    assert ordered[1].worst in ("failed", "unreachable")
    assert [t.name for t in agg.ordered_tasks(failures_first=False)][0] == "Ping"


def test_loops_keep_items_but_count_once() -> None:
    agg = aggregate("mixed")
    loop = next(t for t in agg.tasks.values() if t.name == "Loop over items")
    assert len(loop.results["local1"].items) == 3
    skipped_item = next(t for t in agg.tasks.values() if t.name == "Loop with a skipped item")
    kinds = [e["event"] for e in skipped_item.results["local1"].items]
    assert kinds.count("runner_item_on_skipped") == 1
    assert skipped_item.results["local1"].status == "ok"


def test_handlers_are_flagged() -> None:
    agg = aggregate("mixed")
    handler = next(t for t in agg.tasks.values() if t.name == "Restart thing")
    assert handler.is_handler
    assert set(handler.results) == {"local1"}  # local2 failed before handlers ran


def test_plays_and_tasks_tree() -> None:
    agg = aggregate("mixed")
    assert [agg.plays[p].name for p in agg.play_order] == [
        "Mixed results",
        "Second play, only local hosts",
    ]
    second = agg.plays[agg.play_order[1]]
    assert [agg.tasks[k].name for k in second.tasks] == ["Second play task"]


def test_check_diff_results_carry_the_diff() -> None:
    agg = aggregate("diff_check")
    task = next(t for t in agg.tasks.values() if t.name == "Write a config file")
    res = task.results["local1"].res
    assert res["changed"] is True
    assert "server_name local1.example.test" in res["diff"][0]["after"]
    assert agg.summary()["local1"].changed == 1


def test_includes_count_one_ok_per_included_file() -> None:
    agg = aggregate("includes")
    assert agg.summary()["local1"].ok == 15
    assert agg.summary()["local2"].ok == 13


def test_limit_matching_no_host() -> None:
    agg = aggregate("limit_nomatch")
    assert agg.stats is None
    assert agg.summary() == {}
    assert any("no hosts" in e for e in agg.errors)
    assert not agg.matches_stats()


def test_limit_matching_only_an_unreachable_host() -> None:
    agg = aggregate("limit_partial")
    assert set(agg.summary()) == {"ghost"}
    assert agg.failed_hosts() == ["ghost"]


def test_recordings_hold_no_secret() -> None:
    for path in EVENTS.glob("*.json"):
        assert "s3cr3t-fixture-value" not in path.read_text(), path.name


def test_pop_dirty_reports_incremental_changes() -> None:
    events = load_events("mixed")
    agg = RunAggregate()
    agg.add_many(events[:10])
    tasks, summary, _failures, lines = agg.pop_dirty()
    assert tasks and summary and lines
    assert agg.pop_dirty() == (set(), False, False, [])
    agg.add_many(events[10:])
    tasks, summary, failures, lines = agg.pop_dirty()
    assert failures and summary
    assert any("PLAY RECAP" in line for line in lines)


@pytest.mark.parametrize("name", WITH_STATS)
def test_running_total_equals_sum_of_hosts(name: str) -> None:
    events = load_events(name)
    agg = RunAggregate()
    agg.add_many(events[:-1])  # before the stats event: derived totals
    total = HostTotals()
    for totals in agg.hosts.values():
        total.add(totals)
    assert agg.grand_total() == total
