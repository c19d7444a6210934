"""Live run view (also used to replay history): summary, failures, tasks → hosts, detail, log."""

from __future__ import annotations

import heapq
import json
import time
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Static,
    TabbedContent,
    TabPane,
)

from ..events import STATUS_RANK, HostResult, RunAggregate, TaskNode, result_message
from .base import ConsoleScreen, status_text
from .live_table import LiveTable
from .log_view import LogView

MAX_LOG_LINES = 20000
MAX_TASK_HOST_ROWS = 200
# Work per UI tick is bounded: what does not fit waits for the next tick (the app's drain timer
# calls ``catch_up``), so a 5,000-host run never stalls the screen for long.
HOST_ROWS_PER_TICK = 100  # Hosts-table rows written per tick (the rows in view first)
LOG_LINES_PER_TICK = 5000
DETAIL_INTERVAL = 0.5  # seconds between refreshes of the selected task's hosts and detail
PLAY_WIDTH = 24  # play names are cut to this (the task name matters more)
NARROW = 120  # below this many columns the tasks and the detail are stacked, not side by side


class LiveScreen(ConsoleScreen):
    BINDINGS = [
        Binding("c", "cancel", "Cancel"),
        Binding("f", "relaunch_failed", "Failed hosts"),
        Binding("u", "relaunch_unfinished", "Unfinished hosts"),
        Binding("a", "apply", "Check→apply"),
        Binding("e", "export", "Export", show=False),
        Binding("1", "tab('tab-tasks')", "Tasks", show=False),
        Binding("2", "tab('tab-hosts')", "Hosts", show=False),
        Binding("3", "tab('tab-log')", "Log", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.run_id: str | None = None
        self.selected_task: str | None = None
        self._task_rows: set[str] = set()
        self._failure_sig: tuple[Any, ...] = ()
        self._pending_log: list[str] = []
        self._pending_hosts: set[str] = set()
        self._last_detail = 0.0
        self._detail_stale = False
        self._task_hosts_task: str | None = None  # the task whose hosts #task-hosts lists
        self._task_hosts: list[str] = []  # #task-hosts rows are positional: row i = host i

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "No run yet: press [b]n[/] to start one, or replay one from [b]h[/]istory.",
            id="summary",
        )
        with TabbedContent(id="live-tabs", initial="tab-tasks"):
            with TabPane("Tasks", id="tab-tasks"):
                with Horizontal(id="tasks-split"):
                    with Vertical(id="live-left"):
                        yield LiveTable(id="failures", cursor_type="row")
                        yield LiveTable(id="tasks", cursor_type="row", zebra_stripes=True)
                    with Vertical(id="live-right"):
                        yield LiveTable(id="task-hosts", cursor_type="row")
                        with VerticalScroll(id="detail-scroll"):
                            yield Static("", id="detail")
            with TabPane("Hosts", id="tab-hosts"):
                yield LiveTable(id="hosts", cursor_type="row", zebra_stripes=True)
            with TabPane("Log", id="tab-log"):
                yield LogView(MAX_LOG_LINES, id="log")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#failures", LiveTable).add_columns("failure", "task", "message", "hosts")
        # Task names first, short counter headers, the play last (long play names used to
        # push the task names out of view).
        self.query_one("#tasks", LiveTable).add_columns(
            "status", "task", "ok", "chg", "fail", "unr", "skip", "play"
        )
        self.query_one("#task-hosts", LiveTable).add_columns("host", "status", "message")
        self.query_one("#hosts", LiveTable).add_columns(
            "host",
            "status",
            "ok",
            "changed",
            "failed",
            "unreachable",
            "skipped",
            "rescued",
            "ignored",
        )
        self.query_one("#failures", LiveTable).display = False
        if self.console.viewed_run:
            self.run_viewed(self.console.viewed_run)
        self.set_interval(1.0, self._tick_elapsed)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "narrow")

    # -- app notifications ------------------------------------------------------------
    def run_viewed(self, run_id: str) -> None:
        self.run_id = run_id
        self.selected_task = None
        self._task_rows.clear()
        self._failure_sig = ()
        self._pending_log = []
        self._pending_hosts = set()
        self._detail_stale = False
        self._task_hosts_task = None
        self._task_hosts = []
        for table_id in ("#tasks", "#task-hosts", "#hosts", "#failures"):
            self.query_one(table_id, LiveTable).clear()
        self.query_one("#log", LogView).clear()
        self.show_text(self.query_one("#detail", Static), Text(""))
        state = self.console.runs.get(run_id)
        if state is None:
            return
        agg = state.aggregate
        agg.new_log_from = 0
        agg.dirty_tasks = set(agg.tasks)
        agg.dirty_summary = True
        agg.dirty_failures = True
        agg.dirty_hosts = set(agg.hosts)
        self.run_updated(run_id)

    def run_updated(self, run_id: str) -> None:
        if run_id != self.run_id:
            # Another run changed: only the summary mentions it (running count).
            self._update_summary()
            return
        state = self.console.runs.get(run_id)
        if state is None:
            return
        agg = state.aggregate
        tasks, _summary, failures, lines = agg.pop_dirty()
        # The log and hosts tabs are written by catch_up, a bounded slice per tick, and only
        # while visible (caught up on activation).
        self._pending_log.extend(lines)
        if len(self._pending_log) > MAX_LOG_LINES:
            del self._pending_log[:-MAX_LOG_LINES]
        self._pending_hosts |= agg.pop_dirty_hosts()
        if failures:
            self._update_failures(agg)
        if tasks:
            self._update_tasks(agg, tasks)
        self._update_summary()
        if self.selected_task in tasks:
            self._detail_stale = True

    def _active_tab(self) -> str | None:
        """The id of the visible tab; None while the screen is not composed (or torn down)."""
        tabs = next(self.query("#live-tabs").results(TabbedContent), None)
        return tabs.active if tabs is not None else None

    @property
    def backlog(self) -> int:
        """Rows and lines not yet written to the visible tab (catch_up writes them)."""
        active_tab = self._active_tab()
        if active_tab == "tab-hosts":
            return len(self._pending_hosts)
        if active_tab == "tab-log":
            return len(self._pending_log)
        return 0

    def catch_up(self) -> bool:
        """Deferred display work, a bounded slice per call (the app's tick calls it).

        Returns True when something was written.
        """
        state = self.console.runs.get(self.run_id or "")
        if state is None or self.app.screen is not self:
            return False
        active_tab = self._active_tab()
        if active_tab is None:
            return False
        done = False
        if active_tab == "tab-log" and self._pending_log:
            self._flush_log(LOG_LINES_PER_TICK)
            done = True
        if active_tab == "tab-hosts" and self._pending_hosts:
            self._flush_hosts(state.aggregate, HOST_ROWS_PER_TICK)
            done = True
        if self._detail_stale and time.monotonic() - self._last_detail >= DETAIL_INTERVAL:
            self._show_task(self.selected_task)
            done = True
        return done

    def history_changed(self) -> None:
        self._update_summary()

    def _tick_elapsed(self) -> None:
        state = self.console.runs.get(self.run_id or "")
        if state is not None and state.running:
            self._update_summary()

    # -- rendering --------------------------------------------------------------------
    def _update_summary(self) -> None:
        state = self.console.runs.get(self.run_id or "")
        widget = self.query_one("#summary", Static)
        if state is None:
            return
        agg = state.aggregate
        total = agg.grand_total()
        hosts = agg.summary()
        failed_hosts = agg.failed_host_count()
        kind = "replay" if state.replay else ("running" if state.running else "finished")
        if state.following:
            owner = state.follow_owner.describe() if state.follow_owner else "another console"
            kind = f"following (read-only, owned by {owner})"
        status = state.status
        if state.running and state.cancel_requested_at:
            status = "cancelling"
        if state.replay or state.finished is None:
            elapsed = ""
        else:
            elapsed = f"  {state.finished - state.started:.1f}s"
        if state.running:
            elapsed = f"  {time.time() - state.started:.0f}s"
        others = len([s for s in self.console.active_runs() if s.run_id != state.run_id])
        line1 = Text.assemble(
            (f" {state.run_id} ", "bold reverse"),
            f"  {kind}: ",
            (
                status,
                "bold red" if status in ("failed", "error", "canceled", "interrupted") else "bold",
            ),
            f"  {state.spec.mode}  ",
            (state.spec.playbook, "bold"),
            f"  targets: {state.spec.limit or 'all'}",
            elapsed,
            (f"  (+{others} other run(s) in progress)" if others else "", "yellow"),
        )
        line2 = Text.assemble(
            f" hosts {len(hosts)}  ",
            (f"ok={total.ok}", "green"),
            "  ",
            (f"changed={total.changed}", "yellow"),
            "  ",
            (f"failed={total.failed}", "bold red" if total.failed else ""),
            "  ",
            (f"unreachable={total.unreachable}", "bold magenta" if total.unreachable else ""),
            "  ",
            (f"skipped={total.skipped}", "cyan"),
            "  ",
            (f"rescued={total.rescued}  " if total.rescued else ""),
            (f"ignored={total.ignored}  " if total.ignored else ""),
            (f"{failed_hosts} host(s) failed" if failed_hosts else "", "bold red"),
            ("  stats ✔" if agg.stats is not None else "", "dim"),
            (
                f"  {agg.closed}: no host completed the run (u relaunches them)"
                if agg.closed
                else "",
                "bold red",
            ),
        )
        parts = [line1, line2]
        for error in agg.errors[:2]:
            parts.append(Text(" " + error, style="bold red"))
        self.show_text(widget, Text("\n").join(parts))

    def _update_failures(self, agg: RunAggregate) -> None:
        """Failure groups: new ones are appended and counts rewritten in place (no clear, so the
        cursor stays where it is); a group that disappeared or moved rebuilds the table."""
        table = self.query_one("#failures", LiveTable)
        groups = agg.failure_groups()
        sig = tuple((g.task_key, g.message, g.status, len(g.hosts)) for g in groups)
        if sig == self._failure_sig:
            return
        self._failure_sig = sig
        keys = [f"{g.task_key}|{g.status}|{g.message}" for g in groups]
        shown = [str(row.value) for row in table.rows]
        if keys[: len(shown)] != shown:
            table.clear()
            shown = []
        for key, group in zip(keys, groups, strict=True):
            hosts = ", ".join(group.hosts[:6]) + (
                f" +{len(group.hosts) - 6}" if len(group.hosts) > 6 else ""
            )
            cells = [
                status_text(group.status),
                Text(group.task),
                Text(group.message),
                f"{len(group.hosts)}: {hosts}",
            ]
            if key in table.rows:
                table.update_row(key, cells)
            else:
                table.add_row(*cells, key=key)
        table.display = bool(groups)

    def _task_cells(self, agg: RunAggregate, task: TaskNode) -> list[Any]:
        counts = task.counts()
        play = agg.plays[task.play_key].name if task.play_key in agg.plays else ""
        name = ("[handler] " if task.is_handler else "") + task.name
        if len(play) > PLAY_WIDTH:
            play = play[: PLAY_WIDTH - 1] + "…"
        return [
            status_text(task.worst),
            Text(name),
            str(counts.get("ok", 0) + counts.get("ignored", 0) + counts.get("rescued", 0)),
            str(counts.get("changed", 0)),
            str(counts.get("failed", 0)),
            str(counts.get("unreachable", 0)),
            str(counts.get("skipped", 0)),
            Text(play, style="dim"),
        ]

    def _update_tasks(self, agg: RunAggregate, dirty: set[str]) -> None:
        table = self.query_one("#tasks", LiveTable)
        new_failure = False
        for key in sorted(dirty, key=lambda k: agg.tasks[k].order if k in agg.tasks else 0):
            task = agg.tasks.get(key)
            if task is None:
                continue
            cells = self._task_cells(agg, task)
            if key in self._task_rows:
                table.update_row(key, cells)
            else:
                table.add_row(*cells, key=key)
                self._task_rows.add(key)
            if task.worst in ("failed", "unreachable"):
                new_failure = True
        if new_failure:
            order = {t.key: i for i, t in enumerate(agg.ordered_tasks(failures_first=True))}
            current = [str(r.value) for r in table.rows]
            if current != sorted(current, key=lambda k: order.get(k, 0)):
                self._rebuild_tasks(agg)

    def _rebuild_tasks(self, agg: RunAggregate) -> None:
        table = self.query_one("#tasks", LiveTable)
        cursor = table.cursor_row
        table.clear()
        self._task_rows.clear()
        for task in agg.ordered_tasks(failures_first=True):
            table.add_row(*self._task_cells(agg, task), key=task.key)
            self._task_rows.add(task.key)
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def _flush_log(self, limit: int | None = None) -> None:
        if not self._pending_log:
            return
        if limit is None or len(self._pending_log) <= limit:
            lines, self._pending_log = self._pending_log, []
        else:
            lines = self._pending_log[:limit]
            del self._pending_log[:limit]
        self.query_one("#log", LogView).write_lines(lines)

    def _flush_hosts(self, agg: RunAggregate, limit: int | None = None) -> None:
        """Write pending host rows: all of them, or ``limit`` of them (the rows in view first,
        then the others in name order; new rows are appended)."""
        pending = self._pending_hosts
        if not pending:
            return
        if limit is None or len(pending) <= limit:
            hosts = sorted(pending)
            self._pending_hosts = set()
        else:
            table = self.query_one("#hosts", LiveTable)
            hosts = [host for host in table.visible_row_keys() if host in pending][:limit]
            pending.difference_update(hosts)
            others = heapq.nsmallest(limit - len(hosts), pending)
            pending.difference_update(others)
            hosts += others
        self._update_hosts(agg, hosts)

    @on(TabbedContent.TabActivated, "#live-tabs")
    def _tab_activated(self) -> None:
        state = self.console.runs.get(self.run_id or "")
        if state is None:
            return
        self._flush_log(LOG_LINES_PER_TICK)
        self._flush_hosts(state.aggregate, HOST_ROWS_PER_TICK)

    def _update_hosts(self, agg: RunAggregate, hosts: list[str]) -> None:
        table = self.query_one("#hosts", LiveTable)
        summary = agg.summary()
        existing = table.rows
        for host in hosts:
            if host not in summary:
                continue
            totals = summary[host]
            cells = [
                host,
                status_text(agg.host_outcome(host)),
                *(str(v) for v in totals.as_dict().values()),
            ]
            if host in existing:
                table.update_row(host, cells)
            else:
                table.add_row(*cells, key=host)

    def _show_task(self, key: str | None) -> None:
        """List the hosts of task ``key`` (worst first, at most MAX_TASK_HOST_ROWS) + detail."""
        self._detail_stale = False
        self._last_detail = time.monotonic()
        state = self.console.runs.get(self.run_id or "")
        table = self.query_one("#task-hosts", LiveTable)
        if state is None or key is None or key not in state.aggregate.tasks:
            table.clear()
            self._task_hosts = []
            self._task_hosts_task = None
            return
        task = state.aggregate.tasks[key]
        ordered = heapq.nsmallest(
            MAX_TASK_HOST_ROWS, task.results.values(), key=lambda r: (_rank(r.status), r.host)
        )
        same_task = key == self._task_hosts_task
        if not same_task or len(ordered) < table.row_count:
            table.clear()
        self._task_hosts_task = key
        self._task_hosts = [result.host for result in ordered]
        # Rows are keyed by position and updated in place: a refresh rewrites changed cells only.
        for index, result in enumerate(ordered):
            message = ""
            if result.status in ("failed", "unreachable"):
                message = result_message(result.res, str((result.event or {}).get("stdout", "")))
            cells = [result.host, status_text(result.status), Text(message)]
            if index < table.row_count:
                table.update_row(str(index), cells)
            else:
                table.add_row(*cells, key=str(index))
        if ordered:
            row = table.cursor_row if same_task else 0
            self._show_detail(task, ordered[row if 0 <= row < len(ordered) else 0])

    def _show_detail(self, task: TaskNode, result: HostResult) -> None:
        self.show_text(self.query_one("#detail", Static), format_detail(task, result))

    # -- events -----------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#tasks")
    def _task_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.selected_task = str(event.row_key.value)
        self._show_task(self.selected_task)

    @on(DataTable.RowHighlighted, "#failures")
    def _failure_highlighted(self, event: DataTable.RowHighlighted) -> None:
        task_key = str(event.row_key.value).split("|", 1)[0]
        self.selected_task = task_key
        self._show_task(task_key)

    @on(DataTable.RowHighlighted, "#task-hosts")
    def _host_highlighted(self, event: DataTable.RowHighlighted) -> None:
        state = self.console.runs.get(self.run_id or "")
        if state is None or self.selected_task not in state.aggregate.tasks:
            return
        task = state.aggregate.tasks[self.selected_task]
        index = int(str(event.row_key.value))
        host = self._task_hosts[index] if index < len(self._task_hosts) else ""
        result = task.results.get(host)
        if result is not None:
            self._show_detail(task, result)

    # -- actions ----------------------------------------------------------------------
    def action_cancel(self) -> None:
        state = self.console.runs.get(self.run_id or "")
        if state is not None and state.following:
            owner = state.follow_owner.describe() if state.follow_owner else "another console"
            self.notify(f"This run belongs to {owner}: cancel it there.", severity="warning")
            return
        self.console.action_cancel_run()

    def action_tab(self, tab: str) -> None:
        self.query_one("#live-tabs", TabbedContent).active = tab

    def _record(self) -> Any:
        if self.run_id is None:
            return None
        return self.console.history.get_run(self.run_id)

    def _finished_record(self) -> Any:
        record = self._record()
        if record is None or record.finished is None or record.live:
            self.notify("The run is not finished yet.", severity="warning")
            return None
        return record

    def action_relaunch_failed(self) -> None:
        record = self._finished_record()
        if record is not None:
            self.console.relaunch(record, failed_only=True)

    def action_relaunch_unfinished(self) -> None:
        record = self._finished_record()
        if record is not None:
            self.console.relaunch(record, unfinished_only=True)

    def action_apply(self) -> None:
        record = self._finished_record()
        if record is not None:
            self.console.relaunch(record, as_apply=True)

    def action_export(self) -> None:
        record = self._finished_record()
        if record is not None:
            path = self.console.export_run(record.id)
            self.notify(f"Exported to {path}", title="ansible-runner artifacts")


def _rank(status: str) -> int:
    return STATUS_RANK.get(status, 99)


def format_detail(task: TaskNode, result: HostResult) -> Text:
    """The result detail of one task on one host: msg, stdout, stderr, diff, items."""
    res = result.res
    out = Text()
    out.append(f"{task.name}", style="bold")
    out.append(f" on {result.host}: ")
    out.append_text(status_text(result.status))
    out.append("\n")
    if task.action:
        out.append(f"action: {task.action}\n", style="dim")
    for key in ("msg", "reason", "cmd", "rc"):
        if key in res and res[key] not in (None, ""):
            value = res[key] if isinstance(res[key], str) else json.dumps(res[key])
            out.append(f"{key}: ", style="bold")
            out.append(f"{value}\n")
    for key in ("stdout", "stderr", "module_stdout", "module_stderr"):
        value = res.get(key)
        if isinstance(value, str) and value.strip():
            out.append(f"── {key} ──\n", style="bold")
            out.append(value.rstrip() + "\n")
    diffs = res.get("diff")
    if isinstance(diffs, dict):
        diffs = [diffs]
    if isinstance(diffs, list):
        for diff in diffs:
            out.append_text(format_diff(diff))
    if result.items:
        out.append(f"── {len(result.items)} loop item(s) ──\n", style="bold")
        for item_event in result.items[:50]:
            item_res = item_event.get("event_data", {}).get("res", {}) or {}
            label = item_res.get("_ansible_item_label", item_res.get("item", "?"))
            kind = item_event.get("event", "").replace("runner_item_on_", "")
            out.append(f"  {kind:8} {json.dumps(label)[:80]}\n")
            for diff in (
                (item_res.get("diff") or []) if isinstance(item_res.get("diff"), list) else []
            ):
                out.append_text(format_diff(diff))
    if not res and result.status == "running":
        out.append("running…\n", style="dim")
    return out


def format_diff(diff: Any) -> Text:
    out = Text()
    if not isinstance(diff, dict):
        return out
    if "prepared" in diff:
        out.append(str(diff["prepared"]) + "\n")
        return out
    before_header = diff.get("before_header", "before")
    after_header = diff.get("after_header", "after")
    out.append(f"--- {before_header}\n", style="red")
    out.append(f"+++ {after_header}\n", style="green")
    before = diff.get("before")
    after = diff.get("after")
    if isinstance(before, str) and isinstance(after, str):
        import difflib

        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2):
            if line.startswith(("---", "+++")):
                continue
            style = (
                "green"
                if line.startswith("+")
                else "red"
                if line.startswith("-")
                else "cyan"
                if line.startswith("@@")
                else ""
            )
            out.append(line + "\n", style=style)
    else:
        out.append(f"- {json.dumps(before)}\n+ {json.dumps(after)}\n")
    return out
