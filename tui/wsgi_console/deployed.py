"""What the hosts say is deployed: the per-site deployed-state records the playbooks write on
each target (``/var/lib/wsgi-deploy/sites/<site>.json``), read by ``playbooks/status.yml``.

Records are read tolerantly (schema 1): unknown keys are ignored, missing ones are None (shown
as unknown), a file that is not JSON is reported as unreadable rather than dropped. Reading
runs the read-only playbook through ansible-runner (no history entry: it changes nothing);
the last reading is cached in the data directory so the matrix shows it at the next start,
with its time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .redact import Redactor
from .runner import RunMessage, start_run
from .runspec import Action, RunSpec

STATUS_PLAYBOOK = "playbooks/status.yml"
REPORT_KEY = "wsgi_deployed_state"
READ_TIMEOUT = 600.0  # seconds for one reading (a slow machine, many hosts)


@dataclass(frozen=True)
class DeployedRecord:
    """One site's record on one host (None: the record does not say)."""

    site: str
    state: str | None = None
    stack: str | None = None
    mode: str | None = None
    kind: str | None = None
    domain: str | None = None
    path: str | None = None
    release: str | None = None
    source_version: str | None = None
    source_commit: str | None = None
    deployed_at: str | None = None
    deployed_by: str | None = None
    run_id: str | None = None
    collection_version: str | None = None
    schema: int | None = None
    tls_mode: str | None = None  # off, self_signed, provided, acme
    cert_not_after: str | None = None  # ISO time the served certificate expires
    cert_issuer: str | None = None
    processes: tuple[str, ...] = ()  # the site's long-running processes (role wsgi_workers)
    timers: tuple[tuple[str, str], ...] = ()  # (name, OnCalendar) of its scheduled jobs
    error: str | None = None  # the file could not be read as a record

    def cert_days_left(self, now: float | None = None) -> int | None:
        """Whole days until the served certificate expires (None: no TLS or not known)."""
        if not self.cert_not_after:
            return None
        from datetime import datetime

        try:
            when = datetime.fromisoformat(self.cert_not_after.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
        return int((when - (time.time() if now is None else now)) // 86400)

    @classmethod
    def parse(cls, raw: Any, name: str = "") -> DeployedRecord:
        if not isinstance(raw, dict):
            return cls(site=name or "?", error="not a JSON object")

        def text(key: str, data: dict[str, Any] | None = None) -> str | None:
            value = (data if data is not None else raw).get(key)
            return str(value) if isinstance(value, str | int | float) and value != "" else None

        source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
        tls = raw.get("tls") if isinstance(raw.get("tls"), dict) else {}
        services = raw.get("services") if isinstance(raw.get("services"), dict) else {}
        processes = services.get("processes") if isinstance(services.get("processes"), list) else []
        timers = services.get("timers") if isinstance(services.get("timers"), dict) else {}
        schema = raw.get("schema")
        return cls(
            site=text("site") or name or "?",
            state=text("state"),
            stack=text("stack"),
            mode=text("mode"),
            kind=text("kind"),
            domain=text("domain"),
            path=text("path"),
            release=text("release"),
            source_version=text("version", source),
            source_commit=text("commit", source),
            deployed_at=text("deployed_at"),
            deployed_by=text("deployed_by"),
            run_id=text("run_id"),
            collection_version=text("collection_version"),
            schema=schema if isinstance(schema, int) else None,
            tls_mode=text("mode", tls),
            cert_not_after=text("not_after", tls),
            cert_issuer=text("issuer", tls),
            processes=tuple(str(p) for p in processes if isinstance(p, str)),
            timers=tuple((str(k), str(v)) for k, v in sorted(timers.items())),
        )


@dataclass
class HostState:
    """What one host reported: its records by site, or why it could not report."""

    host: str
    records: dict[str, DeployedRecord] = field(default_factory=dict)
    error: str | None = None  # unreachable, failed, no answer


@dataclass
class StatusReading:
    """One reading of the records: per host, when, and whether it worked at all."""

    hosts: dict[str, HostState] = field(default_factory=dict)
    read_at: float = 0.0
    status: str = ""
    error: str | None = None

    def record(self, host: str, site: str) -> DeployedRecord | None:
        state = self.hosts.get(host)
        return state.records.get(site) if state is not None else None

    def record_sites(self, host: str) -> list[str]:
        state = self.hosts.get(host)
        return list(state.records) if state is not None else []

    # -- cache ----------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(
            {
                "read_at": self.read_at,
                "status": self.status,
                "error": self.error,
                "hosts": {
                    name: {
                        "error": state.error,
                        "records": {site: asdict(r) for site, r in state.records.items()},
                    }
                    for name, state in self.hosts.items()
                },
            }
        )

    @classmethod
    def from_json(cls, text: str) -> StatusReading:
        data = json.loads(text)
        reading = cls(
            read_at=float(data.get("read_at") or 0),
            status=str(data.get("status") or ""),
            error=data.get("error"),
        )
        for name, entry in (data.get("hosts") or {}).items():
            records = {
                site: DeployedRecord(**{k: v for k, v in rec.items() if k in _RECORD_FIELDS})
                for site, rec in (entry.get("records") or {}).items()
            }
            reading.hosts[name] = HostState(name, records, entry.get("error"))
        return reading


_RECORD_FIELDS = set(DeployedRecord.__dataclass_fields__)


def decode_records(report: Any) -> dict[str, DeployedRecord]:
    """The records of one host from the playbook's report (base64 file contents)."""
    out: dict[str, DeployedRecord] = {}
    if not isinstance(report, dict):
        return out
    for index, content in enumerate(report.get("records") or []):
        try:
            raw = json.loads(base64.b64decode(str(content)).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            name = f"unreadable-{index + 1}"
            out[name] = DeployedRecord(site=name, error=f"not JSON: {exc}")
            continue
        record = DeployedRecord.parse(raw)
        out[record.site] = record
    return out


def parse_status_events(events: list[dict[str, Any]], hosts: list[str]) -> StatusReading:
    """Fold status.yml's runner events into a reading (hosts that did not answer get why)."""
    reading = StatusReading(read_at=time.time())
    for event in events:
        kind = event.get("event")
        data = event.get("event_data") or {}
        host = str(data.get("host") or "")
        if not host:
            continue
        res = data.get("res") if isinstance(data.get("res"), dict) else {}
        if kind == "runner_on_ok":
            msg = res.get("msg")
            if isinstance(msg, dict) and REPORT_KEY in msg:
                state = reading.hosts.setdefault(host, HostState(host))
                state.records = decode_records(msg[REPORT_KEY])
                state.error = None
        elif kind in ("runner_on_failed", "runner_on_unreachable"):
            message = str(res.get("msg") or kind.replace("runner_on_", ""))
            state = reading.hosts.setdefault(host, HostState(host))
            state.error = message.splitlines()[0][:200] if message else kind
    for host in hosts:
        reading.hosts.setdefault(host, HostState(host, error="no answer"))
    return reading


def status_spec(inventory: str, project_dir: str, hosts: list[str]) -> RunSpec:
    return RunSpec(
        inventory=inventory,
        project_dir=project_dir,
        action=Action.STATUS,
        targets=tuple(hosts),
        check=False,
        diff=False,
    )


def read_deployed_state(
    spec: RunSpec,
    hosts: list[str],
    redactor: Redactor,
    envvars: dict[str, str] | None = None,
    timeout: float = READ_TIMEOUT,
) -> StatusReading:
    """Run status.yml and return what the hosts reported (blocking: call it from a thread)."""
    playbook = Path(spec.project_dir) / STATUS_PLAYBOOK
    if not playbook.is_file():
        return StatusReading(
            read_at=time.time(), status="error", error=f"{STATUS_PLAYBOOK} is missing"
        )
    run_id = "status-" + uuid.uuid4().hex[:8]
    run = start_run(spec, run_id, redactor, envvars=envvars)
    events: list[dict[str, Any]] = []
    status = "error"
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            run.cancel()
            status = "timeout"
            break
        try:
            msg: RunMessage = run.queue.get(timeout=min(left, 1.0))
        except queue.Empty:
            continue
        if msg.kind == "event" and msg.event is not None:
            events.append(msg.event)
        elif msg.kind == "finished":
            status = msg.status or "error"
            break
    reading = parse_status_events(events, hosts)
    reading.status = status
    if status not in ("successful", "failed"):
        errors = [
            str((e.get("event_data") or {}).get("msg") or e.get("stdout") or "")
            for e in events
            if e.get("event") in ("error", "verbose")
        ]
        reading.error = next((m for m in errors if m), f"status.yml {status}")
    return reading


def cache_path(data_dir: Path, inventory: str) -> Path:
    digest = hashlib.sha256(inventory.encode()).hexdigest()[:16]
    return data_dir / "deployed-state" / f"{digest}.json"


def save_reading(data_dir: Path, inventory: str, reading: StatusReading) -> None:
    path = cache_path(data_dir, inventory)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(reading.to_json())
    tmp.replace(path)


def load_reading(data_dir: Path, inventory: str) -> StatusReading | None:
    path = cache_path(data_dir, inventory)
    try:
        return StatusReading.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, AttributeError):
        return None
