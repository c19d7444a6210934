"""Aggregation of ansible-runner events: per-host totals, plays → tasks → hosts, failures.

Counting follows ansible-core's own ``playbook_on_stats`` rules (strategy plugin):

* one count per task result (``runner_on_*``), never per loop item (``runner_item_on_*``);
* a changed result counts ``ok`` and ``changed``;
* a failure with ``ignore_errors`` counts ``ok`` + ``ignored`` (and ``changed`` if changed);
* a failure inside a block that is then rescued counts ``rescued``, not ``failures`` (detected
  here when the host goes on producing results in the same play);
* an ``include_tasks``/``include_role`` result counts one ``ok`` per included file, i.e. per
  non-skipped loop item.

When the ``playbook_on_stats`` event arrives it is kept as the authoritative summary and
:meth:`RunAggregate.matches_stats` tells whether the derived totals agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

COUNTED_EVENTS = {
    "runner_on_ok",
    "runner_on_failed",
    "runner_on_skipped",
    "runner_on_unreachable",
}
ITEM_EVENTS = {"runner_item_on_ok", "runner_item_on_failed", "runner_item_on_skipped"}
INCLUDE_ACTIONS = {
    "include_tasks",
    "include_role",
    "ansible.builtin.include_tasks",
    "ansible.builtin.include_role",
    "ansible.legacy.include_tasks",
    "ansible.legacy.include_role",
}

# How a run that did not end by itself leaves its hosts and the task in flight.
CANCELLED = "cancelled"
INTERRUPTED = "interrupted"
UNFINISHED_OUTCOMES = (CANCELLED, INTERRUPTED, "failed", "unreachable")

# Display order of statuses, worst first.
STATUS_ORDER = (
    "failed",
    "unreachable",
    CANCELLED,
    INTERRUPTED,
    "running",
    "changed",
    "rescued",
    "ignored",
    "ok",
    "skipped",
)
STATUS_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}

STATS_FIELDS = {
    "ok": "ok",
    "changed": "changed",
    "failures": "failed",
    "dark": "unreachable",
    "skipped": "skipped",
    "rescued": "rescued",
    "ignored": "ignored",
}


@dataclass
class HostTotals:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "ok": self.ok,
            "changed": self.changed,
            "failed": self.failed,
            "unreachable": self.unreachable,
            "skipped": self.skipped,
            "rescued": self.rescued,
            "ignored": self.ignored,
        }

    def add(self, other: HostTotals) -> None:
        for key, value in other.as_dict().items():
            setattr(self, key, getattr(self, key) + value)

    @property
    def worst(self) -> str:
        if self.failed:
            return "failed"
        if self.unreachable:
            return "unreachable"
        if self.changed:
            return "changed"
        if self.ok or self.rescued or self.ignored:
            return "ok"
        if self.skipped:
            return "skipped"
        return "ok"


@dataclass
class HostResult:
    """What one task did on one host."""

    host: str
    status: str
    event: dict[str, Any] | None = None
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def res(self) -> dict[str, Any]:
        if self.event is None:
            return {}
        res = self.event.get("event_data", {}).get("res")
        return res if isinstance(res, dict) else {}


@dataclass
class TaskNode:
    key: str
    name: str
    action: str
    play_key: str
    is_handler: bool
    order: int
    results: dict[str, HostResult] = field(default_factory=dict)
    # Hosts per status, kept up to date by set_result (O(1) counts and worst status).
    _counts: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def set_result(self, host: str, status: str, event: dict[str, Any] | None = None) -> HostResult:
        """Record (or update) what the task did on ``host``; ``event`` None keeps the old one."""
        result = self.results.get(host)
        if result is None:
            result = HostResult(host, status, event)
            self.results[host] = result
        else:
            self._counts[result.status] -= 1
            result.status = status
            if event is not None:
                result.event = event
        self._counts[status] = self._counts.get(status, 0) + 1
        return result

    def counts(self) -> dict[str, int]:
        return {status: n for status, n in self._counts.items() if n}

    @property
    def worst(self) -> str:
        present = [status for status, n in self._counts.items() if n]
        if not present:
            return "ok"
        return min(present, key=lambda s: STATUS_RANK.get(s, 99))


@dataclass
class PlayNode:
    key: str
    name: str
    pattern: str
    tasks: list[str] = field(default_factory=list)


@dataclass
class FailureGroup:
    """Hosts that failed the same task with the same message."""

    task_key: str
    task: str
    message: str
    status: str
    hosts: list[str] = field(default_factory=list)


def result_message(res: dict[str, Any], stdout: str = "") -> str:
    """A one-line message summarising a failed/unreachable result."""
    for key in ("msg", "reason", "stderr", "module_stderr", "exception"):
        value = res.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().splitlines()[0][:300]
    results = res.get("results")
    if isinstance(results, list):
        for item in results:
            if isinstance(item, dict) and item.get("failed"):
                return result_message(item)
    if stdout.strip():
        return stdout.strip().splitlines()[-1][:300]
    return "(no message)"


class RunAggregate:
    """Incrementally folds events into the structures the live and replay views display."""

    def __init__(self) -> None:
        self.plays: dict[str, PlayNode] = {}
        self.play_order: list[str] = []
        self.tasks: dict[str, TaskNode] = {}
        self.hosts: dict[str, HostTotals] = {}
        self.total = HostTotals()
        self.stats: dict[str, HostTotals] | None = None
        self._stats_total = HostTotals()
        self._failing: set[str] = set()  # hosts with a failure or unreachable (derived)
        self._stats_failing: set[str] = set()  # the same, from playbook_on_stats
        self.failures: dict[tuple[str, str, str], FailureGroup] = {}
        self.log: list[str] = []
        self.event_count = 0
        self.errors: list[str] = []
        self.no_hosts_matched = False
        # Set by close_off when the run ended without its recap (cancelled, interrupted).
        self.closed: str | None = None
        self._current_play = ""
        self._pending_failure: dict[str, tuple[str, str]] = {}
        # Incremental display support.
        self.dirty_tasks: set[str] = set()
        self.dirty_hosts: set[str] = set()
        self.dirty_summary = False
        self.dirty_failures = False
        self.new_log_from = 0

    # -- folding ----------------------------------------------------------------------
    def add_many(self, events: Iterable[dict[str, Any]]) -> None:
        for event in events:
            self.add(event)

    def add(self, event: dict[str, Any]) -> None:
        self.event_count += 1
        stdout = event.get("stdout")
        if stdout:
            self.log.extend(stdout.replace("\r\n", "\n").split("\n"))
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind == "playbook_on_play_start":
            self._play(data)
        elif kind == "playbook_on_task_start":
            self._task(data)
        elif kind == "runner_on_start":
            task = self._task_for(data)
            host = data.get("host")
            if task is not None and host and host not in task.results:
                task.set_result(host, "running")
                self.hosts.setdefault(host, HostTotals())
                self.dirty_tasks.add(task.key)
        elif kind in COUNTED_EVENTS:
            self._result(kind, event, data)
        elif kind in ITEM_EVENTS:
            task = self._task_for(data)
            host = data.get("host")
            if task is not None and host:
                result = task.results.get(host) or task.set_result(host, "running")
                result.items.append(event)
        elif kind == "playbook_on_stats":
            self._stats(data)
        elif kind == "playbook_on_no_hosts_matched":
            self.no_hosts_matched = True
        elif kind == "error":
            self.errors.append(str(data.get("msg", stdout or "error")))
        elif kind == "verbose" and stdout and ("[ERROR]" in stdout or stdout.startswith("ERROR!")):
            self.errors.append(stdout.strip())
            self.dirty_summary = True

    def _play(self, data: dict[str, Any]) -> None:
        key = str(data.get("play_uuid") or data.get("uuid") or len(self.plays))
        if key not in self.plays:
            self.plays[key] = PlayNode(
                key,
                str(data.get("play") or data.get("name") or ""),
                str(data.get("play_pattern") or ""),
            )
            self.play_order.append(key)
        self._current_play = key
        self._pending_failure.clear()

    def _ensure_play(self, data: dict[str, Any]) -> str:
        key = str(data.get("play_uuid") or self._current_play or "play")
        if key not in self.plays:
            self.plays[key] = PlayNode(key, str(data.get("play") or ""), "")
            self.play_order.append(key)
        return key

    def _task(self, data: dict[str, Any]) -> TaskNode:
        play_key = self._ensure_play(data)
        task_uuid = str(data.get("task_uuid") or data.get("uuid") or len(self.tasks))
        key = f"{play_key}/{task_uuid}"
        task = self.tasks.get(key)
        if task is None:
            task = TaskNode(
                key=key,
                name=str(data.get("task") or data.get("name") or "(unnamed task)"),
                action=str(data.get("task_action") or ""),
                play_key=play_key,
                is_handler=bool(data.get("is_conditional")),
                order=len(self.tasks),
            )
            self.tasks[key] = task
            self.plays[play_key].tasks.append(key)
            self.dirty_tasks.add(key)
        return task

    def _task_for(self, data: dict[str, Any]) -> TaskNode | None:
        if not data.get("task_uuid") and not data.get("task"):
            return None
        play_key = self._ensure_play(data)
        key = f"{play_key}/{data.get('task_uuid')}"
        task = self.tasks.get(key)
        return task if task is not None else self._task(data)

    def _result(self, kind: str, event: dict[str, Any], data: dict[str, Any]) -> None:
        host = str(data.get("host") or "")
        task = self._task_for(data)
        if not host or task is None:
            return
        totals = self.hosts.setdefault(host, HostTotals())
        before = totals.as_dict()
        res = data.get("res") if isinstance(data.get("res"), dict) else {}
        assert isinstance(res, dict)
        changed = bool(res.get("changed"))

        # A failed host that produces another result in the same play was rescued.
        pending = self._pending_failure.pop(host, None)
        if pending is not None and pending[0] == task.play_key and not task.is_handler:
            failed_task = self.tasks.get(pending[1])
            totals.failed -= 1
            totals.rescued += 1
            if failed_task is not None and host in failed_task.results:
                failed_task.set_result(host, "rescued")
                self._remove_failure(failed_task, host)
                self.dirty_tasks.add(failed_task.key)

        if kind == "runner_on_ok":
            status = "changed" if changed else "ok"
            if task.action in INCLUDE_ACTIONS:
                items = res.get("results")
                if isinstance(items, list):
                    totals.ok += sum(
                        1 for item in items if isinstance(item, dict) and not item.get("skipped")
                    )
                else:
                    totals.ok += 1
            else:
                totals.ok += 1
                totals.changed += int(changed)
        elif kind == "runner_on_failed":
            if data.get("ignore_errors"):
                status = "ignored"
                totals.ok += 1
                totals.ignored += 1
                totals.changed += int(changed)
            else:
                status = "failed"
                totals.failed += 1
                self._pending_failure[host] = (task.play_key, task.key)
        elif kind == "runner_on_skipped":
            status = "skipped"
            totals.skipped += 1
        else:
            status = "unreachable"
            totals.unreachable += 1

        for key, value in totals.as_dict().items():
            if value != before[key]:
                setattr(self.total, key, getattr(self.total, key) + value - before[key])
        if totals.failed or totals.unreachable:
            self._failing.add(host)
        else:
            self._failing.discard(host)
        self.dirty_hosts.add(host)
        task.set_result(host, status, event)
        if status in ("failed", "unreachable"):
            message = result_message(res, str(event.get("stdout") or ""))
            group_key = (task.key, status, message)
            group = self.failures.get(group_key)
            if group is None:
                group = FailureGroup(task.key, task.name, message, status)
                self.failures[group_key] = group
            group.hosts.append(host)
            self.dirty_failures = True
        self.dirty_tasks.add(task.key)
        self.dirty_summary = True

    def _remove_failure(self, task: TaskNode, host: str) -> None:
        for key, group in list(self.failures.items()):
            if group.task_key == task.key and host in group.hosts:
                group.hosts.remove(host)
                if not group.hosts:
                    del self.failures[key]
                self.dirty_failures = True

    def _stats(self, data: dict[str, Any]) -> None:
        stats: dict[str, HostTotals] = {}
        for field_name, attr in STATS_FIELDS.items():
            per_host = data.get(field_name) or {}
            if not isinstance(per_host, dict):
                continue
            for host, count in per_host.items():
                setattr(stats.setdefault(host, HostTotals()), attr, int(count))
        for host in data.get("processed") or {}:
            stats.setdefault(host, HostTotals())
        self.stats = stats
        self._stats_total = HostTotals()
        for totals in stats.values():
            self._stats_total.add(totals)
        self._stats_failing = {h for h, t in stats.items() if t.failed or t.unreachable}
        self.dirty_hosts.update(stats)
        for host in stats:
            self.hosts.setdefault(host, HostTotals())
        self.dirty_summary = True

    def close_off(self, reason: str) -> None:
        """The run ended without its ``playbook_on_stats`` (``reason``: cancelled or
        interrupted): the task results still in flight take ``reason`` as their status, and no
        host counts as having completed the run. A run that has its recap is left as it is."""
        if self.stats is not None or self.closed is not None:
            return
        self.closed = reason
        for task in self.tasks.values():
            if task.results and task._counts.get("running"):
                for host, result in task.results.items():
                    if result.status == "running":
                        task.set_result(host, reason)
                self.dirty_tasks.add(task.key)
        self.dirty_hosts.update(self.hosts)
        self.dirty_summary = True

    # -- queries ----------------------------------------------------------------------
    def host_outcome(self, host: str) -> str:
        """How ``host`` ended the run: failed/unreachable, cancelled/interrupted (it did not
        complete the run), or its worst result (changed, ok, skipped) once completed."""
        totals = self.summary().get(host) or self.hosts.get(host) or HostTotals()
        if totals.failed:
            return "failed"
        if totals.unreachable:
            return "unreachable"
        if self.closed:
            return self.closed
        return totals.worst

    def unfinished_hosts(self) -> list[str]:
        """Hosts that did not complete the run (what "relaunch unfinished" targets)."""
        return sorted(h for h in self.summary() if self.host_outcome(h) in UNFINISHED_OUTCOMES)

    def summary(self) -> dict[str, HostTotals]:
        """Per-host totals: the playbook's own stats once known, the derived ones until then."""
        return self.stats if self.stats is not None else self.hosts

    def grand_total(self) -> HostTotals:
        if self.stats is None:
            return self.total
        return HostTotals(**self._stats_total.as_dict())

    def matches_stats(self) -> bool:
        if self.stats is None:
            return False
        hosts = set(self.stats) | {h for h, t in self.hosts.items() if any(t.as_dict().values())}
        return all(
            self.hosts.get(h, HostTotals()) == self.stats.get(h, HostTotals()) for h in hosts
        )

    def host_status(self) -> dict[str, str]:
        return {host: totals.worst for host, totals in self.summary().items()}

    def failed_hosts(self) -> list[str]:
        """Hosts with a failure or unreachable at the end (what "relaunch failed" targets)."""
        return sorted(self._stats_failing if self.stats is not None else self._failing)

    def failed_host_count(self) -> int:
        """How many hosts :meth:`failed_hosts` lists (O(1), for a per-tick summary line)."""
        return len(self._stats_failing if self.stats is not None else self._failing)

    def failure_groups(self) -> list[FailureGroup]:
        return sorted(
            self.failures.values(),
            key=lambda g: (
                self.tasks[g.task_key].order if g.task_key in self.tasks else 0,
                g.message,
            ),
        )

    def ordered_tasks(self, failures_first: bool = True) -> list[TaskNode]:
        tasks = [self.tasks[key] for play in self.play_order for key in self.plays[play].tasks]
        if failures_first:
            tasks.sort(key=lambda t: (0 if t.worst in ("failed", "unreachable") else 1, t.order))
        return tasks

    def all_hosts(self) -> list[str]:
        return sorted(self.hosts)

    def pop_dirty_hosts(self) -> set[str]:
        hosts, self.dirty_hosts = self.dirty_hosts, set()
        return hosts

    def pop_dirty(self) -> tuple[set[str], bool, bool, list[str]]:
        """What changed since the last call: tasks, summary?, failures?, new log lines."""
        tasks, summary, failures = self.dirty_tasks, self.dirty_summary, self.dirty_failures
        lines = self.log[self.new_log_from :]
        self.dirty_tasks = set()
        self.dirty_summary = False
        self.dirty_failures = False
        self.new_log_from = len(self.log)
        return tasks, summary, failures, lines
