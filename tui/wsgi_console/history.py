"""Run history in SQLite: every run, its settings, per-host results and its (redacted) events."""

from __future__ import annotations

import getpass
import json
import os
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .events import HostTotals, RunAggregate
from .redact import Redactor
from .runspec import RunSpec

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    started REAL NOT NULL,
    finished REAL,
    user TEXT NOT NULL,
    inventory TEXT NOT NULL,
    inventory_name TEXT NOT NULL,
    action TEXT NOT NULL,
    mode TEXT NOT NULL,
    targets TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    command TEXT NOT NULL,
    status TEXT NOT NULL,
    rc INTEGER,
    event_count INTEGER NOT NULL DEFAULT 0,
    parent_id TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS host_results (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    ok INTEGER NOT NULL, changed INTEGER NOT NULL, failed INTEGER NOT NULL,
    unreachable INTEGER NOT NULL, skipped INTEGER NOT NULL,
    rescued INTEGER NOT NULL, ignored INTEGER NOT NULL,
    PRIMARY KEY (run_id, host)
);
CREATE TABLE IF NOT EXISTS run_sites (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    site TEXT NOT NULL,
    stack TEXT NOT NULL,
    PRIMARY KEY (run_id, host, site)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started);
"""

DEPLOY_ACTIONS = ("site", "deploy_sites", "switch_stack")
YIELD_EVERY = 100  # events serialised between two offers of the GIL to other threads


@dataclass
class RunRecord:
    id: str
    started: float
    finished: float | None
    user: str
    inventory: str
    inventory_name: str
    action: str
    mode: str
    targets: str
    spec: RunSpec
    command: str
    status: str
    rc: int | None
    event_count: int
    parent_id: str | None
    note: str = ""
    hosts: dict[str, HostTotals] = field(default_factory=dict)

    @property
    def result(self) -> str:
        if self.status in ("running", "starting"):
            return "running"
        if not self.hosts:
            return self.status
        failed = sum(1 for t in self.hosts.values() if t.failed or t.unreachable)
        if failed:
            return f"{self.status} ({failed}/{len(self.hosts)} hosts failed)"
        return f"{self.status} ({len(self.hosts)} hosts)"

    def failed_hosts(self) -> list[str]:
        return sorted(h for h, t in self.hosts.items() if t.failed or t.unreachable)


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no passwd entry
        return os.environ.get("USER", "unknown")


class History:
    """Thread-safe access to the history database."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(SCHEMA)
        if str(path) != ":memory:":
            os.chmod(self.path, 0o600)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writing ----------------------------------------------------------------------
    def start_run(
        self,
        run_id: str,
        spec: RunSpec,
        inventory_name: str,
        command: str,
        redactor: Redactor,
        sites: dict[str, list[tuple[str, str]]] | None = None,
        parent_id: str | None = None,
        note: str = "",
        user: str | None = None,
        started: float | None = None,
    ) -> None:
        spec_json = json.dumps(spec.to_dict(redactor), sort_keys=True)
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO runs (id, started, user, inventory, inventory_name, action, mode,"
                " targets, spec_json, command, status, parent_id, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                (
                    run_id,
                    started if started is not None else time.time(),
                    user or current_user(),
                    spec.inventory,
                    inventory_name,
                    spec.action.value,
                    spec.mode,
                    spec.limit or "",
                    spec_json,
                    redactor.text(command),
                    parent_id,
                    note,
                ),
            )
            for host, host_sites in (sites or {}).items():
                self._db.executemany(
                    "INSERT OR IGNORE INTO run_sites (run_id, host, site, stack) VALUES (?,?,?,?)",
                    [(run_id, host, site, stack) for site, stack in host_sites],
                )
            self._db.execute("COMMIT")

    def add_events(
        self, run_id: str, events: Iterable[dict[str, Any]], redactor: Redactor, first_seq: int
    ) -> int:
        """Store events (redacted again, defensively); returns the next sequence number."""
        rows = []
        seq = first_seq
        for event in events:
            rows.append((run_id, seq, json.dumps(redactor.data(event), separators=(",", ":"))))
            seq += 1
            if not seq % YIELD_EVERY:
                # Called from the writer thread: give the GIL to the UI thread if it waits for
                # it, rather than make it wait for the interpreter's switch interval (5 ms).
                time.sleep(0)
        if rows:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT INTO events (run_id, seq, data) VALUES (?,?,?)", rows)
                self._db.execute("COMMIT")
        return seq

    def finish_run(
        self,
        run_id: str,
        status: str,
        rc: int | None,
        aggregate: RunAggregate,
        finished: float | None = None,
    ) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "UPDATE runs SET finished=?, status=?, rc=?, event_count=? WHERE id=?",
                (
                    finished if finished is not None else time.time(),
                    status,
                    rc,
                    aggregate.event_count,
                    run_id,
                ),
            )
            self._db.execute("DELETE FROM host_results WHERE run_id=?", (run_id,))
            self._db.executemany(
                "INSERT INTO host_results VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        run_id,
                        host,
                        t.ok,
                        t.changed,
                        t.failed,
                        t.unreachable,
                        t.skipped,
                        t.rescued,
                        t.ignored,
                    )
                    for host, t in aggregate.summary().items()
                ],
            )
            self._db.execute("COMMIT")

    def mark_interrupted(self) -> int:
        """Runs left 'running' by a previous process that died."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE runs SET status='interrupted' WHERE status IN ('running', 'starting')"
            )
            return cur.rowcount

    # -- reading ----------------------------------------------------------------------
    def _record(self, row: sqlite3.Row | tuple[Any, ...]) -> RunRecord:
        (
            rid,
            started,
            finished,
            user,
            inventory,
            inv_name,
            action,
            mode,
            targets,
            spec_json,
            command,
            status,
            rc,
            event_count,
            parent_id,
            note,
        ) = row
        return RunRecord(
            id=rid,
            started=started,
            finished=finished,
            user=user,
            inventory=inventory,
            inventory_name=inv_name,
            action=action,
            mode=mode,
            targets=targets,
            spec=RunSpec.from_dict(json.loads(spec_json)),
            command=command,
            status=status,
            rc=rc,
            event_count=event_count,
            parent_id=parent_id,
            note=note,
        )

    def _hosts(self, run_ids: list[str]) -> dict[str, dict[str, HostTotals]]:
        out: dict[str, dict[str, HostTotals]] = {rid: {} for rid in run_ids}
        if not run_ids:
            return out
        marks = ",".join("?" * len(run_ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM host_results WHERE run_id IN ({marks})", run_ids
            ).fetchall()
        for rid, host, *counts in rows:
            out[rid][host] = HostTotals(*counts)
        return out

    def list_runs(self, limit: int = 500) -> list[RunRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM runs ORDER BY started DESC LIMIT ?", (limit,)
            ).fetchall()
        records = [self._record(r) for r in rows]
        hosts = self._hosts([r.id for r in records])
        for record in records:
            record.hosts = hosts[record.id]
        return records

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            return None
        record = self._record(row)
        record.hosts = self._hosts([run_id])[run_id]
        return record

    def iter_events(self, run_id: str, batch: int = 2000) -> Iterator[dict[str, Any]]:
        last = -1
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT seq, data FROM events WHERE run_id=? AND seq>? ORDER BY seq LIMIT ?",
                    (run_id, last, batch),
                ).fetchall()
            if not rows:
                return
            for seq, data in rows:
                last = seq
                yield json.loads(data)

    def last_deploys(self, inventory: str) -> dict[tuple[str, str], tuple[float, str, str]]:
        """(host, site) → (time, run id, stack) of the last successful apply that deployed it."""
        marks = ",".join("?" * len(DEPLOY_ACTIONS))
        with self._lock:
            rows = self._db.execute(
                "SELECT s.host, s.site, s.stack, r.finished, r.id FROM run_sites s"
                " JOIN runs r ON r.id = s.run_id"
                " JOIN host_results h ON h.run_id = s.run_id AND h.host = s.host"
                f" WHERE r.mode='apply' AND r.action IN ({marks}) AND r.inventory=?"
                " AND h.failed=0 AND h.unreachable=0 AND r.finished IS NOT NULL"
                " AND r.status IN ('successful', 'failed')"
                " ORDER BY r.finished",
                (*DEPLOY_ACTIONS, inventory),
            ).fetchall()
        out: dict[tuple[str, str], tuple[float, str, str]] = {}
        for host, site, stack, finished, rid in rows:
            out[(host, site)] = (finished, rid, stack)
        return out


class HistoryWriter:
    """Writes events to the history from a background thread (keeps the UI tick short)."""

    def __init__(self, history: History) -> None:
        self.history = history
        self._queue: queue.Queue[tuple[str, list[dict[str, Any]], Redactor, int] | None] = (
            queue.Queue()
        )
        self._pending: dict[str, int] = {}  # run id → queued writes not done yet
        self._lock = threading.Lock()
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._loop, name="history-writer", daemon=True)
        self._thread.start()

    def add_events(
        self, run_id: str, events: list[dict[str, Any]], redactor: Redactor, first_seq: int
    ) -> int:
        with self._lock:
            self._pending[run_id] = self._pending.get(run_id, 0) + 1
        self._queue.put((run_id, events, redactor, first_seq))
        return first_seq + len(events)

    def flush(self) -> None:
        """Block until every queued write is done."""
        self._queue.join()

    def idle(self, run_id: str) -> bool:
        """True when every queued write of ``run_id`` is done (never blocks)."""
        with self._lock:
            return not self._pending.get(run_id)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                run_id, events, redactor, first_seq = item
                try:
                    self.history.add_events(run_id, events, redactor, first_seq)
                except Exception as exc:  # keep writing the other batches (and finishing runs)
                    self.errors.append(f"history write failed for run {run_id}: {exc}")
                finally:
                    with self._lock:
                        self._pending[run_id] -= 1
                        if not self._pending[run_id]:
                            del self._pending[run_id]
            finally:
                self._queue.task_done()
