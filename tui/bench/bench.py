"""Benchmark (prints a report; not a timed test).

    cd tui && python bench/bench.py [--hosts 5000] [--events 100000]

* a synthetic inventory of N hosts read through ``ansible-inventory --list`` (load time),
* filter latency: the model's filter and the inventory screen's tree rebuild,
* a replay of M events through the app's queue → timer → aggregate → live view path,
  reporting the 95th-percentile UI tick time (target < 50 ms),
* peak memory (max RSS), and whether the final totals are exact.
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

TUI = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TUI))

from wsgi_console.app import RunState, WsgiConsole  # noqa: E402
from wsgi_console.events import HostTotals, RunAggregate  # noqa: E402
from wsgi_console.inventory import load_inventory  # noqa: E402
from wsgi_console.runner import ActiveRun, RunMessage  # noqa: E402
from wsgi_console.runspec import RunSpec  # noqa: E402
from wsgi_console.screens.inventory import InventoryScreen  # noqa: E402

GROUPS = 50


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


async def ui_bench(
    inv_path: Path, project: Path, data: Path, events: list[dict[str, Any]], report: dict[str, Any]
) -> RunAggregate:
    app = WsgiConsole(inv_path, data_dir=data, project_dir=project, watch_inventory=False)
    async with app.run_test(size=(140, 44)) as pilot:
        while app.inventory is None:
            await pilot.pause(0.1)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        from textual.widgets import Input

        filter_box = screen.query_one("#filter", Input)
        timings = []
        for text in ("web07", "shop", "dc4", "zzz", ""):
            started = time.perf_counter()
            filter_box.value = text
            await pilot.pause()
            timings.append((text, time.perf_counter() - started, screen.filter_seconds))
        report["ui_filter"] = timings

        # Replay: the whole stream is queued first (as if the runner thread had produced it all
        # at once: the worst backlog), then the app's timer drains it in budgeted batches.
        spec = RunSpec(inventory=str(inv_path), project_dir=str(project))
        q: queue.Queue[RunMessage] = queue.Queue()
        active = ActiveRun(run_id="bench", spec=spec, queue=q)
        state = RunState(run_id="bench", spec=spec, active=active)
        app.history.start_run("bench", spec, "bench", spec.command_line(), app.redactor())
        for event in events:
            q.put(RunMessage("event", "bench", event=event))
        q.put(RunMessage("finished", "bench", status="successful", rc=0))
        app.runs["bench"] = state
        app.tick_times.clear()
        app.view_run("bench")
        await pilot.pause()

        started = time.perf_counter()
        while state.finished is None:
            await pilot.pause(0.05)
        report["replay_seconds"] = time.perf_counter() - started
        report["ticks"] = list(app.tick_times)
        await pilot.pause()
    return state.aggregate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=5000)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
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

        agg = asyncio.run(ui_bench(inv_path, project, data, events, report))

    ticks_ms = [t * 1000 for t in report["ticks"]]
    exact = all(agg.hosts.get(h, HostTotals()) == t for h, t in expected.items())
    exact_stats = agg.matches_stats()
    total = agg.grand_total()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print("wsgi-console benchmark")
    print("======================")
    print(
        f"inventory: {len(inv.hosts)} hosts, {len(inv.groups)} groups, "
        f"{sum(len(h.sites) for h in inv.hosts.values())} site entries"
    )
    print(f"  load (ansible-inventory --list + parse): {load_s:.2f} s")
    for text, secs in model_filter:
        print(f"  model filter {text!r:12}: {secs * 1000:7.1f} ms")
    for text, secs, model in report["ui_filter"]:
        print(
            f"  UI filter {text!r:10} (tree rebuilt): {secs * 1000:7.1f} ms "
            f"(model {model * 1000:.1f} ms)"
        )
    print(f"replay: {len(events)} events over {len(hosts)} hosts")
    print(f"  fold only (no UI): {fold_s:.2f} s ({len(events) / fold_s:,.0f} events/s)")
    print(
        f"  through the app (queue → timer → aggregate → history → live view): "
        f"{report['replay_seconds']:.2f} s in {len(ticks_ms)} ticks"
    )
    print(
        f"  UI tick: p50 {statistics.median(ticks_ms):.1f} ms, p95 {pct(ticks_ms, 0.95):.1f} ms,"
        f" max {max(ticks_ms):.1f} ms (target p95 < 50 ms)"
    )
    print(f"peak memory (max RSS): {rss_mb:.0f} MiB")
    print(
        f"final totals: ok={total.ok} changed={total.changed} failed={total.failed} "
        f"unreachable={total.unreachable} skipped={total.skipped}"
    )
    print(
        f"  exact vs generator: {'yes' if exact else 'NO'}; "
        f"equal to playbook_on_stats: {'yes' if exact_stats else 'NO'}"
    )
    if not (exact and exact_stats):
        sys.exit(1)


if __name__ == "__main__":
    main()
