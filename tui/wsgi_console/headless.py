"""``wsgi-console run``: the console's run spec without the UI, for cron and CI.

It builds the same :class:`~.runspec.RunSpec` as the run setup screen, checks it the same way
(spec, project directory, target hosts, stack switch rules, extra vars against the roles'
argument specs, the production confirmation), runs it through the same engine (history with
the owner process, per-host outcomes, notification hooks), and prints a live summary: one line
per task as it starts, a progress line at most every few seconds, and the per-host recap.

Exit status: 0 successful, 1 failed (a host failed or was unreachable), 2 the spec was refused,
3 cancelled (SIGINT/SIGTERM) or interrupted, 4 any other error.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from .argspec import has_errors, load_argument_specs, validate_extra_vars
from .history import History, HistoryWriter, Owner
from .inventory import load_inventory
from .notify import Notifier
from .paths import default_data_dir, find_project_dir, project_problems
from .runs import RunEngine, RunState, run_summary
from .runspec import LAUNCH_ACTIONS, STACKS, Action, RunSpec, SpecError, parse_extra_vars
from .switch import stack_switch_problems, switch_noops

PROGRESS_EVERY = 5.0  # seconds between two progress lines while nothing else is printed
EXIT = {"successful": 0, "failed": 1, "canceled": 3, "interrupted": 3, "timeout": 3}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--inventory", required=True, help="inventory directory or file")
    parser.add_argument("--project-dir", default=None, help="collection root holding site.yml")
    parser.add_argument("--data-dir", default=None, help="history/data directory")
    parser.add_argument(
        "--action",
        choices=[a.value for a in LAUNCH_ACTIONS],
        default=Action.SITE.value,
        help="what to run (default: site, the full site.yml)",
    )
    parser.add_argument("--sites", default="", help="sites, comma-separated (deploy/remove/switch)")
    parser.add_argument("--stack", choices=STACKS, default=None, help="new stack (switch_stack)")
    parser.add_argument("--limit", default="", help="hosts, groups or patterns (default: all)")
    parser.add_argument("--tags", default="", help="tags, comma-separated")
    parser.add_argument("--skip-tags", default="", help="tags to skip, comma-separated")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="check + diff (the default)")
    mode.add_argument("--apply", action="store_true", help="apply the changes")
    parser.add_argument("-e", "--extra-vars", default="", help="YAML mapping or key=value pairs")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="ansible verbosity")
    parser.add_argument(
        "--confirm", default="", help="the inventory's name: required to apply on production"
    )
    parser.add_argument("--notify-command", default=None, help="run at the end, summary on stdin")
    parser.add_argument("--notify-url", default=None, help="webhook: the summary POSTed as JSON")
    parser.add_argument("--json", action="store_true", help="print the final summary as JSON")


def build_spec(args: argparse.Namespace, inventory: str, project: str) -> RunSpec:
    return RunSpec(
        inventory=inventory,
        project_dir=project,
        action=Action(args.action),
        targets=tuple(args.limit.split()) if args.limit else (),
        tags=tuple(t for t in args.tags.split(",") if t),
        skip_tags=tuple(t for t in args.skip_tags.split(",") if t),
        check=not args.apply,
        diff=True,
        verbosity=min(args.verbose, 4),
        sites=tuple(s for s in args.sites.split(",") if s),
        stack=args.stack,
        extra_vars=parse_extra_vars(args.extra_vars),
    )


def main(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    inventory_path = Path(args.inventory)
    if not inventory_path.exists():
        print(f"wsgi-console run: inventory not found: {inventory_path}", file=err)
        return 2
    project = Path(args.project_dir) if args.project_dir else find_project_dir(inventory_path)
    if project is None:
        print(
            f"wsgi-console run: no parent of {inventory_path} holds site.yml: "
            "give the collection's root with --project-dir",
            file=err,
        )
        return 2
    problems = project_problems(project.resolve())
    if problems:
        for problem in problems:
            print(f"wsgi-console run: {problem}", file=err)
        return 2
    try:
        spec = build_spec(args, str(inventory_path.resolve()), str(project.resolve()))
    except SpecError as exc:
        print(f"wsgi-console run: {exc}", file=err)
        return 2
    inventory = load_inventory(spec.inventory, cwd=spec.project_dir)
    if not inventory.ok:
        print(f"wsgi-console run: inventory error: {inventory.errors[0]}", file=err)
        return 2
    hosts = inventory.target_hosts(spec.limit)
    refused = spec.validate()
    if not hosts:
        refused.append("no target host")
    if spec.action is Action.SWITCH_STACK and spec.stack:
        refused += stack_switch_problems(inventory, hosts, spec.sites, spec.stack)
        already, noop = switch_noops(inventory, hosts, spec.sites, spec.stack)
        if noop:
            refused.append(f"no-op: {', '.join(already)} already on {spec.stack}")
    issues = validate_extra_vars(
        spec.extra_vars, load_argument_specs(Path(spec.project_dir) / "roles")
    )
    if has_errors(issues):
        refused += [f"{i.path}: {i.message}" for i in issues if i.level == "error"]
    if inventory.is_production and not spec.check and args.confirm != inventory.name:
        refused.append(f"production inventory: add --confirm {inventory.name} to apply")
    if refused:
        for problem in refused:
            print(f"wsgi-console run: refused: {problem}", file=err)
        return 2

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    history = History(data_dir / "history.sqlite3")
    writer = HistoryWriter(history)
    notifier = Notifier.from_env(args.notify_command, args.notify_url)
    notifier.on_error = lambda message: print(f"wsgi-console run: {message}", file=err)
    engine = RunEngine(history, writer, Owner.current(), notifier=notifier)
    redactor = inventory.redactor()
    state = engine.launch(spec, inventory, redactor)
    print(f"run {state.run_id}: {state.command}", file=out, flush=True)

    def cancel(signum: int, frame: Any) -> None:
        if engine.cancel(state):
            print(f"run {state.run_id}: cancelling ({signal.Signals(signum).name})", file=err)

    previous = {sig: signal.signal(sig, cancel) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        follow(engine, state, redactor, out)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        writer.close()
        notifier.wait(60)
    record = history.get_run(state.run_id)
    history.close()
    if record is None:
        return 4
    summary = run_summary(record, state.aggregate)
    print_recap(summary, out)
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True), file=out)
    return EXIT.get(record.status, 4)


def follow(engine: RunEngine, state: RunState, redactor: Any, out: TextIO) -> None:
    """Drive the run to its end, printing each new task and a periodic progress line."""
    seen_tasks: set[str] = set()
    last_line = time.monotonic()
    last_total: tuple[int, ...] = ()
    while True:
        _, finished = engine.drain(state, redactor, budget=0.2, batch=20_000)
        agg = state.aggregate
        elapsed = time.time() - state.started
        for task in agg.ordered_tasks(failures_first=False):
            if task.key not in seen_tasks:
                seen_tasks.add(task.key)
                play = agg.plays[task.play_key].name if task.play_key in agg.plays else ""
                print(f"{elapsed:7.1f}s  {play} | {task.name}", file=out, flush=True)
                last_line = time.monotonic()
        total = agg.grand_total()
        key = tuple(total.as_dict().values())
        if finished or (time.monotonic() - last_line >= PROGRESS_EVERY and key != last_total):
            print(f"{elapsed:7.1f}s  {progress_line(state)}", file=out, flush=True)
            last_line = time.monotonic()
            last_total = key
        if finished:
            return
        time.sleep(0.1)


def progress_line(state: RunState) -> str:
    agg = state.aggregate
    total = agg.grand_total()
    status = "cancelling" if state.cancel_requested_at and state.finished is None else state.status
    return (
        f"{status}: hosts {len(agg.summary())} ok={total.ok} changed={total.changed} "
        f"failed={total.failed} unreachable={total.unreachable} skipped={total.skipped}"
    )


def print_recap(summary: dict[str, Any], out: TextIO) -> None:
    print("", file=out)
    print(f"{'host':30} {'outcome':12} ok changed failed unreach skipped", file=out)
    for host, row in summary["hosts"].items():
        print(
            f"{host:30} {row['outcome']:12} {row['ok']:>2} {row['changed']:>7} "
            f"{row['failed']:>6} {row['unreachable']:>7} {row['skipped']:>7}",
            file=out,
        )
    unfinished = summary["unfinished_hosts"]
    tail = f"; unfinished: {', '.join(unfinished)}" if unfinished else ""
    print(f"run {summary['run_id']} {summary['result']}{tail}", file=out, flush=True)
