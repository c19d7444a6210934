"""Run history in SQLite: every run, its settings, per-host results and its (redacted) events."""

from __future__ import annotations

import getpass
import json
import os
import queue
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from .events import UNFINISHED_OUTCOMES, HostTotals, RunAggregate
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
    note TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    target_hosts TEXT NOT NULL DEFAULT '[]'
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
    outcome TEXT NOT NULL DEFAULT '',
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

# Columns added after the first release: (table, column, declaration) added when missing.
MIGRATIONS = (
    ("runs", "owner", "TEXT NOT NULL DEFAULT ''"),
    ("runs", "target_hosts", "TEXT NOT NULL DEFAULT '[]'"),
    ("host_results", "outcome", "TEXT NOT NULL DEFAULT ''"),
)
RUN_COLUMNS = (
    "id, started, finished, user, inventory, inventory_name, action, mode, targets, spec_json,"
    " command, status, rc, event_count, parent_id, note, owner, target_hosts"
)
LIVE_STATUSES = ("running", "starting")

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
    owner: str = ""
    target_hosts: list[str] = field(default_factory=list)
    hosts: dict[str, HostTotals] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)  # host → its outcome (see events)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def result(self) -> str:
        if self.live:
            return "running"
        unfinished = self.unfinished_hosts()
        total = len(set(self.hosts) | set(self.target_hosts))
        if self.status in ("canceled", "interrupted", "error") and unfinished:
            return f"{self.status} ({len(unfinished)}/{total} hosts unfinished)"
        if not self.hosts:
            return self.status
        failed = sum(1 for t in self.hosts.values() if t.failed or t.unreachable)
        if failed:
            return f"{self.status} ({failed}/{len(self.hosts)} hosts failed)"
        return f"{self.status} ({len(self.hosts)} hosts)"

    def failed_hosts(self) -> list[str]:
        return sorted(h for h, t in self.hosts.items() if t.failed or t.unreachable)

    def unfinished_hosts(self) -> list[str]:
        """Hosts that did not complete the run: failed or unreachable, cut short by a cancel or
        an interruption, or targeted and never reached."""
        out = set(self.failed_hosts())
        out |= {h for h, outcome in self.outcomes.items() if outcome in UNFINISHED_OUTCOMES}
        if self.status != "successful" or not self.hosts:
            out |= {h for h in self.target_hosts if h not in self.hosts}
        if self.status in ("canceled", "interrupted", "error") and not self.outcomes:
            out |= set(self.hosts)  # stored before outcomes existed: nothing completed
        return sorted(out)


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no passwd entry
        return os.environ.get("USER", "unknown")


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_start(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot), "" if it does not exist.

    With the pid and the boot id it names one process for good: a pid reused later by another
    process has another start time.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


@dataclass(frozen=True)
class Owner:
    """The process (and console instance in it) that owns a run: it alone writes the run."""

    host: str
    boot: str
    pid: int
    start: str
    instance: str

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()
        return cls(socket.gethostname(), _boot_id(), pid, process_start(pid), uuid.uuid4().hex[:8])

    def encode(self) -> str:
        return json.dumps(
            {
                "host": self.host,
                "boot": self.boot,
                "pid": self.pid,
                "start": self.start,
                "instance": self.instance,
            },
            sort_keys=True,
        )

    @classmethod
    def decode(cls, text: str) -> Owner | None:
        try:
            data = json.loads(text)
            return cls(
                str(data["host"]),
                str(data["boot"]),
                int(data["pid"]),
                str(data["start"]),
                str(data.get("instance", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def alive(self) -> bool | None:
        """Is the owning process still running? None when that cannot be known from here (the
        run belongs to another machine sharing the data directory)."""
        if self.host != socket.gethostname():
            return None
        if self.boot and self.boot != _boot_id():
            return False
        if not self.start:  # no /proc here: the pid alone (a reused pid reads as alive)
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        return process_start(self.pid) == self.start

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


class History:
    """Thread-safe access to the history database."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # Several consoles (and `wsgi-console run`) may share a data directory: wait for the
        # other writers' short transactions rather than fail.
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA busy_timeout = 30000")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(SCHEMA)
        for table, column, declaration in MIGRATIONS:
            columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
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
        owner: Owner | None = None,
        target_hosts: list[str] | None = None,
    ) -> None:
        spec_json = json.dumps(spec.to_dict(redactor), sort_keys=True)
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO runs (id, started, user, inventory, inventory_name, action, mode,"
                " targets, spec_json, command, status, parent_id, note, owner, target_hosts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
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
                    owner.encode() if owner else "",
                    json.dumps(target_hosts or []),
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
                "INSERT INTO host_results (run_id, host, ok, changed, failed, unreachable,"
                " skipped, rescued, ignored, outcome) VALUES (?,?,?,?,?,?,?,?,?,?)",
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
                        aggregate.host_outcome(host),
                    )
                    for host, t in aggregate.summary().items()
                ],
            )
            self._db.execute("COMMIT")

    def orphaned_runs(self) -> list[str]:
        """Runs still marked live whose owning process is gone (it died, or the machine
        rebooted). Runs of a live process, this one's included, are not orphans: another
        console can follow them; runs owned on another machine cannot be judged from here."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, owner FROM runs WHERE status IN ('running', 'starting')"
            ).fetchall()
        out: list[str] = []
        for run_id, encoded in rows:
            owner = Owner.decode(encoded) if encoded else None
            if owner is None or owner.alive() is False:
                out.append(run_id)
        return out

    def mark_interrupted(self, run_ids: list[str] | None = None) -> int:
        """Close off runs whose owner died: status 'interrupted', the events replayed so that
        each host's results (and the task that was in flight) are stored as interrupted."""
        done = 0
        for run_id in self.orphaned_runs() if run_ids is None else run_ids:
            record = self.get_run(run_id)
            if record is None or not record.live:
                continue
            aggregate = RunAggregate()
            aggregate.add_many(self.iter_events(run_id))
            aggregate.close_off("interrupted")
            with self._lock:
                row = self._db.execute(
                    "SELECT max(json_extract(data, '$.created')) FROM events WHERE run_id=?",
                    (run_id,),
                ).fetchone()
            finished = _parse_created(row[0] if row else None) or time.time()
            # Only if it is still live: its owner may have finished it meanwhile.
            with self._lock:
                current = self._db.execute(
                    "SELECT status FROM runs WHERE id=?", (run_id,)
                ).fetchone()
            if current is None or current[0] not in LIVE_STATUSES:
                continue
            self.finish_run(run_id, "interrupted", None, aggregate, finished=finished)
            done += 1
        return done

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
            owner,
            target_hosts,
        ) = row
        try:
            targets_list = [str(h) for h in json.loads(target_hosts or "[]")]
        except ValueError:
            targets_list = []
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
            owner=owner,
            target_hosts=targets_list,
        )

    def _hosts(
        self, run_ids: list[str]
    ) -> tuple[dict[str, dict[str, HostTotals]], dict[str, dict[str, str]]]:
        out: dict[str, dict[str, HostTotals]] = {rid: {} for rid in run_ids}
        outcomes: dict[str, dict[str, str]] = {rid: {} for rid in run_ids}
        if not run_ids:
            return out, outcomes
        marks = ",".join("?" * len(run_ids))
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id, host, ok, changed, failed, unreachable, skipped, rescued,"
                f" ignored, outcome FROM host_results WHERE run_id IN ({marks})",
                run_ids,
            ).fetchall()
        for rid, host, *counts, outcome in rows:
            out[rid][host] = HostTotals(*counts)
            if outcome:
                outcomes[rid][host] = outcome
        return out, outcomes

    def list_runs(self, limit: int = 500) -> list[RunRecord]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {RUN_COLUMNS} FROM runs ORDER BY started DESC LIMIT ?", (limit,)
            ).fetchall()
        records = [self._record(r) for r in rows]
        hosts, outcomes = self._hosts([r.id for r in records])
        for record in records:
            record.hosts = hosts[record.id]
            record.outcomes = outcomes[record.id]
        return records

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE id=?", (run_id,)
            ).fetchone()
        if row is None:
            return None
        record = self._record(row)
        hosts, outcomes = self._hosts([run_id])
        record.hosts = hosts[run_id]
        record.outcomes = outcomes[run_id]
        return record

    def iter_events(
        self, run_id: str, batch: int = 2000, after: int = -1
    ) -> Iterator[dict[str, Any]]:
        """The stored events of a run, in order (those with a sequence number > ``after``)."""
        last = after
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


def _parse_created(value: Any) -> float | None:
    """An event's ``created`` (ISO 8601, UTC, from ansible-runner) as a timestamp."""
    if not isinstance(value, str) or not value:
        return None
    from datetime import datetime

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


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
