"""Benchmark (prints a report; not a timed test).

    cd tui && python bench/bench.py [--hosts 5000] [--events 100000] [--tabs tasks,hosts,log]

* a synthetic inventory of N hosts read as the console reads it (``inventory_reader``: Ansible's
  own inventory code, each group's variables once) and parsed (load time),
* filter latency: the model's filter and the inventory screen's tree rebuild,
* a replay of M events through the app's queue → timer → aggregate → history → live view path,
  once per live-view tab, reporting the UI tick time (the app's drain timer: folding the
  events and updating the live view; target p95 < 50 ms) and event-loop stalls (anything that
  kept the UI from reacting: ticks, screen paints, layouts, garbage collection),
* peak memory (max RSS), and whether the final totals are exact (against the generator, the
  playbook_on_stats event and the run history).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import queue
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from textual.widgets import DataTable, Input, TabbedContent

TUI = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TUI))

from wsgi_console.app import WsgiConsole  # noqa: E402
from wsgi_console.events import HostTotals, RunAggregate  # noqa: E402
from wsgi_console.inventory import (  # noqa: E402
    inventory_signature,
    load_cached_inventory,
    load_inventory,
    save_inventory_cache,
)
from wsgi_console.runner import ActiveRun, RunMessage  # noqa: E402
from wsgi_console.runs import RunState  # noqa: E402
from wsgi_console.runspec import RunSpec  # noqa: E402
from wsgi_console.screens.inventory import InventoryScreen  # noqa: E402
from wsgi_console.screens.live import LiveScreen  # noqa: E402

GROUPS = 50
TABS = {"tasks": "tab-tasks", "hosts": "tab-hosts", "log": "tab-log"}


def write_inventory(root: Path, hosts: int) -> Path:
    inv = root / "inventory"
    (inv / "group_vars" / "all").mkdir(parents=True)
    children: dict[str, Any] = {}
    per_group = max(1, hosts // GROUPS)
    for g in range(GROUPS):
        members = {
            f"web{g:02d}-{i:04d}": {"ansible_host": "127.0.0.1"}
            for i in range(g * per_group, min(hosts, (g + 1) * per_group))
        }
        if members:
            children[f"dc{g:02d}"] = {"hosts": members}
    data = {"all": {"children": {"wsgi_servers": {"children": children}}}}
    (inv / "hosts.yml").write_text(yaml.safe_dump(data))
    sites = [
        {
            "name": "hello",
            "domain": "hello.example.test",
            "path": "/",
            "kind": "wsgi",
            "mod_wsgi": {"mode": "daemon", "processes": 2, "threads": 4},
            "secrets": {"api_token": "bench-token-123456"},
        },
        {
            "name": "shop",
            "domain": "shop.example.test",
            "path": "/shop",
            "kind": "django",
            "stack": "nginx_gunicorn",
        },
    ]
    (inv / "group_vars" / "all" / "main.yml").write_text(
        yaml.safe_dump({"wsgi_inventory_environment": "bench", "wsgi_sites": sites})
    )
    return inv


def synth_events(
    hosts: list[str], total: int, seed: int = 7
) -> tuple[list[dict[str, Any]], dict[str, HostTotals]]:
    """A play of tasks over all hosts (start + result per host) until ``total`` events."""
    rng = random.Random(seed)
    expected: dict[str, HostTotals] = {h: HostTotals() for h in hosts}
    events: list[dict[str, Any]] = [
        {"event": "playbook_on_start", "uuid": "pb", "event_data": {}},
        {
            "event": "playbook_on_play_start",
            "uuid": "p1",
            "event_data": {"play": "Deploy", "play_uuid": "p1", "play_pattern": "wsgi_servers"},
        },
    ]
    dead: set[str] = set()
    task_no = 0
    while len(events) < total - 1:
        task_no += 1
        tuuid = f"t{task_no}"
        base = {
            "play": "Deploy",
            "play_uuid": "p1",
            "task": f"Task {task_no}",
            "task_uuid": tuuid,
            "task_action": "ansible.builtin.command",
        }
        events.append(
            {
                "event": "playbook_on_task_start",
                "uuid": tuuid,
                "event_data": {**base, "name": f"Task {task_no}"},
            }
        )
        for host in hosts:
            if len(events) >= total - 2:
                break
            if host in dead:
                continue
            events.append({"event": "runner_on_start", "event_data": {**base, "host": host}})
            roll = rng.random()
            data = {**base, "host": host}
            t = expected[host]
            if roll < 0.002:
                events.append(
                    {
                        "event": "runner_on_unreachable",
                        "event_data": {**data, "res": {"msg": "unreachable", "unreachable": True}},
                        "stdout": f"fatal: [{host}]: UNREACHABLE!",
                    }
                )
                t.unreachable += 1
                dead.add(host)
            elif roll < 0.004:
                events.append(
                    {
                        "event": "runner_on_failed",
                        "event_data": {**data, "res": {"msg": "boom", "rc": 1}},
                        "stdout": f"fatal: [{host}]: FAILED! => boom",
                    }
                )
                t.failed += 1
                dead.add(host)
            elif roll < 0.2:
                events.append({"event": "runner_on_skipped", "event_data": {**data, "res": {}}})
                t.skipped += 1
            else:
                changed = roll > 0.8
                events.append(
                    {
                        "event": "runner_on_ok",
                        "event_data": {
                            **data,
                            "res": {"changed": changed, "rc": 0, "stdout": "done"},
                        },
                        "stdout": f"{'changed' if changed else 'ok'}: [{host}]",
                    }
                )
                t.ok += 1
                t.changed += int(changed)
    stats: dict[str, dict[str, int]] = {
        k: {} for k in ("ok", "changed", "failures", "dark", "skipped")
    }
    for host, t in expected.items():
        for key, value in (
            ("ok", t.ok),
            ("changed", t.changed),
            ("failures", t.failed),
            ("dark", t.unreachable),
            ("skipped", t.skipped),
        ):
            if value:
                stats[key][host] = value
    stats_data: dict[str, Any] = dict(stats)
    stats_data["processed"] = {h: 1 for h in hosts}
    events.append({"event": "playbook_on_stats", "event_data": stats_data})
    return events, expected


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class StallProbe:
    """Samples how late a 5 ms asyncio sleep wakes up: anything that blocks the event loop
    (UI ticks, screen paints and layouts, garbage collection) shows up as a stall."""

    PERIOD = 0.005

    def __init__(self) -> None:
        self.stalls: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.PERIOD)
            self.stalls.append(max(0.0, time.perf_counter() - started - self.PERIOD))


@dataclass
class Replay:
    tab: str
    seconds: float
    ticks: list[float]
    tick_cpu: list[float]
    stalls: list[float]
    exact: bool
    exact_stats: bool
    history_exact: bool
    total: HostTotals


async def replay(
    app: WsgiConsole,
    pilot: Any,
    tab: str,
    events: list[dict[str, Any]],
    expected: dict[str, HostTotals],
) -> Replay:
    """Replay ``events`` through the app with the live view on ``tab``.

    The whole stream is queued first (as if the runner thread had produced it all at once: the
    worst backlog), then the app's timer drains it in budgeted batches. The clock stops when
    the run is finished and the live view has caught up (the Hosts table or the Log complete).
    """
    run_id = f"bench-{tab}"
    spec = RunSpec(inventory=app.inventory_path, project_dir=app.project_dir)
    q: queue.Queue[RunMessage] = queue.Queue()
    state = RunState(run_id=run_id, spec=spec, active=ActiveRun(run_id, spec, q))
    app.history.start_run(run_id, spec, "bench", spec.command_line(), app.redactor())
    app.runs[run_id] = state
    app.view_run(run_id)
    await pilot.pause()
    live = app.screen
    assert isinstance(live, LiveScreen)
    live.query_one("#live-tabs", TabbedContent).active = TABS[tab]
    await pilot.pause()
    for event in events:
        q.put(RunMessage("event", run_id, event=event))
    q.put(RunMessage("finished", run_id, status="successful", rc=0))
    app.tick_times.clear()
    app.tick_cpu_times.clear()
    probe = StallProbe()
    probe.start()
    started = time.perf_counter()
    while state.finished is None or live.backlog:
        await pilot.pause(0.05)
    seconds = time.perf_counter() - started
    probe.stop()
    await pilot.pause()
    agg = state.aggregate
    record = app.history.get_run(run_id)
    result = Replay(
        tab=tab,
        seconds=seconds,
        ticks=list(app.tick_times),
        tick_cpu=list(app.tick_cpu_times),
        stalls=probe.stalls,
        exact=all(agg.hosts.get(h, HostTotals()) == t for h, t in expected.items()),
        exact_stats=agg.matches_stats(),
        history_exact=record is not None and record.hosts == agg.summary(),
        total=agg.grand_total(),
    )
    if tab == "hosts":
        table = live.query_one("#hosts", DataTable)
        result.exact = result.exact and table.row_count == len(agg.summary())
    del app.runs[run_id]
    return result


async def ui_bench(
    inv_path: Path,
    project: Path,
    data: Path,
    events: list[dict[str, Any]],
    expected: dict[str, HostTotals],
    tabs: list[str],
    report: dict[str, Any],
) -> None:
    app = WsgiConsole(inv_path, data_dir=data, project_dir=project, watch_inventory=False)
    started = time.perf_counter()
    async with app.run_test(size=(140, 44)) as pilot:
        while app.inventory is None:
            await pilot.pause(0.02)
        await pilot.pause()
        report["ui_first"] = time.perf_counter() - started
        while app.inventory.from_cache:  # the fresh model (with its secrets) is in
            await pilot.pause(0.1)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        filter_box = screen.query_one("#filter", Input)
        timings = []
        for text in ("web07", "shop", "dc4", "zzz", ""):
            started = time.perf_counter()
            started_cpu = time.thread_time()
            filter_box.value = text
            await pilot.pause()
            timings.append(
                (
                    text,
                    time.perf_counter() - started,
                    screen.filter_seconds,
                    time.thread_time() - started_cpu,
                )
            )
        report["ui_filter"] = timings
        report["replays"] = []
        for tab in tabs:
            report["replays"].append(await replay(app, pilot, tab, events, expected))
            report.setdefault("rss_after_first", max_rss_mib())
            gc.collect()


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ms(values: list[float]) -> str:
    millis = [v * 1000 for v in values] or [0.0]
    return (
        f"p50 {statistics.median(millis):.1f} ms, p95 {pct(millis, 0.95):.1f} ms, "
        f"max {max(millis):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=5000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--tabs",
        type=lambda text: [t for t in text.split(",") if t],
        default=list(TABS),
        help="live view tabs to replay on, comma-separated (default: tasks,hosts,log)",
    )
    args = parser.parse_args()
    unknown = set(args.tabs) - set(TABS)
    if unknown or not args.tabs:
        parser.error(f"--tabs: choose among {', '.join(TABS)}")
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        inv_path = write_inventory(root, args.hosts)
        project = TUI / "tests" / "fixtures" / "project"
        data = root / "data"

        started = time.perf_counter()
        inv = load_inventory(inv_path)
        load_s = time.perf_counter() - started
        assert inv.ok, inv.errors
        hosts = inv.target_hosts(None)
        # What the app does at its next start: the cached model (then the fresh one, behind).
        signature = inventory_signature(inv_path)
        save_inventory_cache(inv, data / "cache", signature)
        started = time.perf_counter()
        cached = load_cached_inventory(inv_path, data / "cache", inventory_signature(inv_path))
        cached_s = time.perf_counter() - started
        assert cached is not None and cached.hosts.keys() == inv.hosts.keys()

        model_filter = []
        for text in ("web07", "shop", "dc4 shop", "zzz"):
            t0 = time.perf_counter()
            inv.filter(text)
            model_filter.append((text, time.perf_counter() - t0))

        events, expected = synth_events(hosts, args.events)
        t0 = time.perf_counter()
        plain = RunAggregate()
        plain.add_many(events)
        fold_s = time.perf_counter() - t0

        del plain  # only the app's aggregates stay in memory during the replays
        asyncio.run(ui_bench(inv_path, project, data, events, expected, args.tabs, report))

    print("wsgi-console benchmark")
    print("======================")
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other processes slow the clock)")
    print(
        f"inventory: {len(inv.hosts)} hosts, {len(inv.groups)} groups, "
        f"{sum(len(h.sites) for h in inv.hosts.values())} site entries"
    )
    print(f"  load (Ansible's inventory read + parse, a cold start): {load_s:.2f} s")
    print(f"  load at the next start (cached model, files unchanged): {cached_s:.2f} s")
    print(f"  app start to the inventory on screen (cached): {report['ui_first']:.2f} s")
    for text, secs in model_filter:
        print(f"  model filter {text!r:12}: {secs * 1000:7.1f} ms")
    for text, secs, model, cpu in report["ui_filter"]:
        print(
            f"  UI filter {text!r:10} (tree, sites table, repaint): {secs * 1000:7.1f} ms "
            f"(CPU of the UI thread {cpu * 1000:.1f} ms; model {model * 1000:.1f} ms)"
        )
    print(f"replay: {len(events)} events over {len(hosts)} hosts")
    print(f"  fold only (no UI): {fold_s:.2f} s ({len(events) / fold_s:,.0f} events/s)")
    ok = True
    for run in report["replays"]:
        print(
            f"  live view on the {run.tab} tab (queue → timer → aggregate → history → view): "
            f"{run.seconds:.2f} s, {len(run.ticks)} ticks"
        )
        print(f"    UI tick: {ms(run.ticks)} (target p95 < 50 ms)")
        print(f"    UI tick, CPU time of the UI thread: {ms(run.tick_cpu)}")
        long_stalls = sum(1 for s in run.stalls if s > 0.05)
        print(f"    event-loop stalls: {ms(run.stalls)}; {long_stalls} over 50 ms")
        total = run.total
        print(
            f"    final totals: ok={total.ok} changed={total.changed} failed={total.failed} "
            f"unreachable={total.unreachable} skipped={total.skipped}"
        )
        print(
            f"    exact vs generator: {yes(run.exact)}; equal to playbook_on_stats: "
            f"{yes(run.exact_stats)}; history: {yes(run.history_exact)}"
        )
        ok = ok and run.exact and run.exact_stats and run.history_exact
    print(
        f"peak memory (max RSS): {report['rss_after_first']:.0f} MiB after the first replay, "
        f"{max_rss_mib():.0f} MiB in all"
    )
    if not ok:
        sys.exit(1)


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


if __name__ == "__main__":
    main()
