"""A run's life cycle, without any UI: launch, fold events, store, close off, notify; and the
read-only following of a run that another console (or ``wsgi-console run``) owns.

The interactive app and the non-interactive ``wsgi-console run`` both drive runs through a
:class:`RunEngine`, so both record the same history (owner process, target hosts, per-host
outcomes) and fire the same notification hooks.

Ownership: a run is written by the process that launched it (its :class:`~.history.Owner`:
host, boot id, pid and start time, and the console instance). Another console sharing the
data directory sees the owner alive and follows the run from the stored events (read-only);
only a run whose owner is gone is closed off as interrupted.
"""

from __future__ import annotations

import getpass
import queue
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .events import CANCELLED, INTERRUPTED, RunAggregate
from .history import History, HistoryWriter, Owner, RunRecord, new_run_id
from .inventory import Inventory
from .matrix import sites_for_run
from .notify import Notifier
from .redact import Redactor
from .runner import ActiveRun, RunMessage, start_run
from .runspec import RunSpec

DRAIN_BATCH = 5000
DRAIN_BUDGET = 0.012  # seconds of folding per tick, at most
FOLLOW_INTERVAL = 0.5  # seconds between two reads of a followed run's new events
FOLLOW_BATCH = 5000  # events read per poll of a followed run

Starter = Callable[..., ActiveRun]


def run_by() -> str:
    """``user@controller``: who launches the runs from here (``wsgi_run_by``)."""
    try:
        user = getpass.getuser()
    except Exception:  # pragma: no cover - no passwd entry
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass
class RunState:
    """A run as a console knows it: live (with an ActiveRun), replayed from history, or
    followed read-only while another process owns it."""

    run_id: str
    spec: RunSpec
    aggregate: RunAggregate = field(default_factory=RunAggregate)
    active: ActiveRun | None = None
    status: str = "starting"
    rc: int | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    replay: bool = False
    command: str = ""
    next_seq: int = 0
    cancel_requested_at: float | None = None
    end: RunMessage | None = None  # the "finished" message, held until the history caught up
    target_hosts: list[str] = field(default_factory=list)
    # Following another process's run: its owner, and when its events were last read.
    follow_owner: Owner | None = None
    last_poll: float = 0.0

    @property
    def running(self) -> bool:
        return self.active is not None and self.finished is None

    @property
    def following(self) -> bool:
        return self.follow_owner is not None and self.finished is None


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def run_summary(record: RunRecord, aggregate: RunAggregate | None = None) -> dict[str, Any]:
    """What a notification hook receives (JSON-ready; nothing secret: built from the history)."""
    totals: dict[str, int] = {}
    for host_totals in record.hosts.values():
        for key, value in host_totals.as_dict().items():
            totals[key] = totals.get(key, 0) + value
    hosts = {
        host: {**t.as_dict(), "outcome": record.outcomes.get(host, t.worst)}
        for host, t in sorted(record.hosts.items())
    }
    return {
        "run_id": record.id,
        "status": record.status,
        "rc": record.rc,
        "result": record.result,
        "action": record.action,
        "mode": record.mode,
        "playbook": record.spec.playbook,
        "inventory": record.inventory_name,
        "targets": record.targets or "all",
        "sites": list(record.spec.sites),
        "user": record.user,
        "started": iso(record.started),
        "finished": iso(record.finished),
        "duration": round(record.finished - record.started, 1) if record.finished else None,
        "totals": totals,
        "hosts": hosts,
        "failed_hosts": record.failed_hosts(),
        "unfinished_hosts": record.unfinished_hosts(),
        "command": record.command,
        "errors": list(aggregate.errors[:5]) if aggregate is not None else [],
    }


class RunEngine:
    """Launches runs and moves their events into aggregates and the history."""

    def __init__(
        self,
        history: History,
        writer: HistoryWriter,
        owner: Owner,
        notifier: Notifier | None = None,
        envvars: dict[str, str] | None = None,
        starter: Starter = start_run,
    ) -> None:
        self.history = history
        self.writer = writer
        self.owner = owner
        self.notifier = notifier or Notifier()
        self.envvars = envvars or {}
        self.starter = starter
        self.run_by = run_by()

    # -- launching ----------------------------------------------------------------------
    def launch(
        self,
        spec: RunSpec,
        inventory: Inventory | None,
        redactor: Redactor,
        parent_id: str | None = None,
        note: str = "",
        run_id: str | None = None,
    ) -> RunState:
        run_id = run_id or new_run_id()
        spec = spec.for_run(run_id, self.run_by)
        command = spec.command_line(redactor)
        hosts = inventory.target_hosts(spec.limit) if inventory else []
        sites = sites_for_run(inventory, spec, hosts) if inventory else {}
        self.history.start_run(
            run_id,
            spec,
            inventory.name if inventory else spec.inventory.rsplit("/", 1)[-1],
            command,
            redactor,
            sites=sites,
            parent_id=parent_id,
            note=note,
            owner=self.owner,
            target_hosts=hosts,
        )
        state = RunState(run_id=run_id, spec=spec, command=command, target_hosts=hosts)
        state.active = self.starter(spec, run_id, redactor, envvars=self.envvars, work_dir=None)
        return state

    def cancel(self, state: RunState) -> bool:
        if state.active is None or state.finished is not None:
            return False
        state.active.cancel()
        if state.cancel_requested_at is None:
            state.cancel_requested_at = time.time()
        return True

    # -- folding ------------------------------------------------------------------------
    def drain(
        self,
        state: RunState,
        redactor: Redactor,
        budget: float = DRAIN_BUDGET,
        batch: int = DRAIN_BATCH,
    ) -> tuple[int, bool]:
        """Fold queued events (within ``budget`` seconds), hand them to the history writer;
        finish the run once its end arrived and its events are stored.

        Returns (messages handled, finished by this call).
        """
        assert state.active is not None
        q: queue.Queue[RunMessage] = state.active.queue
        events: list[dict[str, Any]] = []
        handled = 0
        deadline = time.perf_counter() + budget
        aggregate = state.aggregate
        while handled < batch and state.end is None:
            try:
                msg = q.get_nowait()
            except queue.Empty:
                break
            handled += 1
            if msg.kind == "event" and msg.event is not None:
                events.append(msg.event)
                aggregate.add(msg.event)
                if not handled % 128 and time.perf_counter() > deadline:
                    break
            elif msg.kind == "status" and msg.status:
                state.status = msg.status
            elif msg.kind == "finished":
                state.end = msg
        if events:
            state.next_seq = self.writer.add_events(state.run_id, events, redactor, state.next_seq)
        # The run is finished once its events are all stored: waiting for the writer here
        # would block the caller for as long as its backlog, so later calls check again.
        if state.end is not None and self.writer.idle(state.run_id):
            self._finish(state, state.end.status or state.status, state.end.rc)
            return handled + 1, True
        return handled, False

    def _finish(self, state: RunState, status: str, rc: int | None) -> None:
        if status in ("canceled", "timeout") or state.cancel_requested_at is not None:
            state.aggregate.close_off(CANCELLED)
        elif status == "error" and state.aggregate.stats is None:
            state.aggregate.close_off(INTERRUPTED)
        state.status = status
        state.rc = rc
        state.finished = time.time()
        self.history.finish_run(state.run_id, status, rc, state.aggregate)
        self._notify(state)

    def _notify(self, state: RunState) -> None:
        if not self.notifier.enabled:
            return
        record = self.history.get_run(state.run_id)
        if record is not None:
            self.notifier.send(run_summary(record, state.aggregate))

    def abandon(self, state: RunState, redactor: Redactor, timeout: float = 10.0) -> None:
        """The owner is going away with the run still live (an unmount without the quit
        dialog, e.g. a signal): cancel it and close it off as cancelled, not left 'running'."""
        if state.active is None or state.finished is not None:
            return
        self.cancel(state)
        state.active.wait(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            handled, finished = self.drain(state, redactor, budget=1.0, batch=100_000)
            if finished:
                return
            if not handled:
                self.writer.flush()
                if state.end is None and not state.active.is_running():
                    time.sleep(0.05)
        self._finish(state, "canceled", None)

    # -- following another process's run ---------------------------------------------------
    def follow(self, record: RunRecord) -> RunState:
        """A read-only view of a live run owned by another process (or console)."""
        state = RunState(
            run_id=record.id,
            spec=record.spec,
            status=record.status,
            started=record.started,
            command=record.command,
            replay=True,
            target_hosts=record.target_hosts,
            follow_owner=Owner.decode(record.owner),
            next_seq=-1,
        )
        self.poll(state, force=True)
        return state

    def poll(self, state: RunState, force: bool = False) -> tuple[int, bool]:
        """Read a followed run's new events; returns (events read, finished by this call)."""
        now = time.monotonic()
        if state.finished is not None or (not force and now - state.last_poll < FOLLOW_INTERVAL):
            return 0, False
        state.last_poll = now
        record = self.history.get_run(state.run_id)
        done = record is None or not record.live
        read = 0
        # Read to the end on the last poll: the owner stored every event before finishing.
        while True:
            got = 0
            for event in self.history.iter_events(
                state.run_id, after=state.next_seq, batch=FOLLOW_BATCH
            ):
                state.aggregate.add(event)
                state.next_seq += 1
                got += 1
                if got >= FOLLOW_BATCH:
                    break
            read += got
            if not done or got < FOLLOW_BATCH:
                break
        if done:
            state.status = record.status if record is not None else "interrupted"
            state.rc = record.rc if record is not None else None
            state.finished = (record.finished if record is not None else None) or time.time()
            if state.status in ("canceled", "timeout"):
                state.aggregate.close_off(CANCELLED)
            elif state.status in ("interrupted", "error"):
                state.aggregate.close_off(INTERRUPTED)
            state.follow_owner = None
            return read, True
        if record is not None:
            state.status = record.status
            owner = Owner.decode(record.owner)
            if owner is not None and owner.alive() is False:
                # The owner died while we followed it: close it off (once, for everyone).
                self.history.mark_interrupted([state.run_id])
        return read, False

    # -- replaying ------------------------------------------------------------------------
    def replay(self, record: RunRecord) -> RunState:
        state = RunState(
            run_id=record.id,
            spec=record.spec,
            status=record.status,
            rc=record.rc,
            started=record.started,
            finished=record.finished or record.started,
            replay=True,
            command=record.command,
            target_hosts=record.target_hosts,
        )
        state.aggregate.add_many(self.history.iter_events(record.id))
        if record.status in ("canceled", "timeout"):
            state.aggregate.close_off(CANCELLED)
        elif record.status in ("interrupted", "error"):
            state.aggregate.close_off(INTERRUPTED)
        state.aggregate.pop_dirty()
        state.aggregate.dirty_summary = True
        return state
