"""Launch ansible-playbook through ansible-runner, in the background, events into a queue.

Nothing is written to the terminal (``quiet=True``), no env files are written
(``suppress_env_files=True``), events are redacted before they leave the runner thread and are
not written as job_events files, and the private data dir (artifacts) is deleted when the run
ends. Cancellation is polled by the runner every ``PEXPECT_TIMEOUT`` seconds, so a cancel stops
the playbook well within two seconds.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import ansible_runner

from .paths import subprocess_path
from .redact import Redactor
from .runspec import RunSpec

PEXPECT_TIMEOUT = 0.25


@dataclass(frozen=True)
class RunMessage:
    """One item on a run's queue: an event, a status change, or the end of the run."""

    kind: Literal["event", "status", "finished"]
    run_id: str
    event: dict[str, Any] | None = None
    status: str | None = None
    rc: int | None = None


@dataclass
class ActiveRun:
    """A run in progress (owned by whoever started it, typically the App)."""

    run_id: str
    spec: RunSpec
    queue: queue.Queue[RunMessage]
    private_dir: str = ""
    started: float = field(default_factory=time.time)
    status: str = "starting"
    rc: int | None = None
    finished: threading.Event = field(default_factory=threading.Event)
    _cancel: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _runner: Any = None

    playbook_pid: int | None = None

    def cancel(self) -> None:
        """Ask the runner to stop, and kill ansible-playbook's whole process tree now.

        ansible-runner kills the process group of ansible-playbook on its next poll, but
        module processes started in their own session (``sleep`` in a command task, an ssh
        connection…) would keep the pty open for its 5 s EOF wait; they are killed here.
        """
        self._cancel.set()
        if self.playbook_pid and self.is_running():
            kill_tree(self.playbook_pid)

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def is_running(self) -> bool:
        return not self.finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)


def base_envvars() -> dict[str, str]:
    return {
        "PATH": subprocess_path(),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
    }


def start_run(
    spec: RunSpec,
    run_id: str,
    redactor: Redactor,
    out: queue.Queue[RunMessage] | None = None,
    envvars: dict[str, str] | None = None,
    work_dir: str | None = None,
) -> ActiveRun:
    """Start ``spec`` with ``ansible_runner.run_async``; returns immediately."""
    q: queue.Queue[RunMessage] = out if out is not None else queue.Queue()
    private_dir = tempfile.mkdtemp(prefix="wsgi-console-run-", dir=work_dir)
    os.chmod(private_dir, 0o700)
    run = ActiveRun(run_id=run_id, spec=spec, queue=q, private_dir=private_dir)

    def event_handler(event: dict[str, Any]) -> bool:
        if run.playbook_pid is None:
            pid = event.get("pid", (event.get("event_data") or {}).get("pid"))
            if isinstance(pid, int):
                run.playbook_pid = pid
        clean = redactor.data(_strip_event(event))
        q.put(RunMessage("event", run_id, event=clean))
        return False  # never write job_events/*.json (they could hold secrets)

    def status_handler(data: dict[str, Any], runner_config: Any = None) -> None:
        status = str(data.get("status", ""))
        run.status = status
        q.put(RunMessage("status", run_id, status=status))

    def cancel_callback() -> bool:
        return run.cancel_requested

    def finished_callback(runner: Any) -> None:
        run.rc = runner.rc

    env = base_envvars()
    if envvars:
        env.update(envvars)
    kwargs = spec.runner_kwargs()
    kwargs.update(
        private_data_dir=private_dir,
        ident=run_id,
        envvars=env,
        settings={"pexpect_timeout": PEXPECT_TIMEOUT, "suppress_ansible_output": True},
        event_handler=event_handler,
        status_handler=status_handler,
        cancel_callback=cancel_callback,
        finished_callback=finished_callback,
        rotate_artifacts=0,
    )

    try:
        thread, runner = ansible_runner.run_async(**kwargs)
    except Exception as exc:  # configuration errors surface here, before any process starts
        shutil.rmtree(private_dir, ignore_errors=True)
        run.status = "error"
        run.rc = -1
        q.put(RunMessage("event", run_id, event=_error_event(run_id, str(exc))))
        q.put(RunMessage("finished", run_id, status="error", rc=-1))
        run.finished.set()
        return run

    run._thread = thread
    run._runner = runner

    def watch() -> None:
        thread.join()
        status = getattr(runner, "status", None) or run.status
        if status in ("starting", "running", "unstarted"):
            status = "error"
        run.status = status
        run.rc = getattr(runner, "rc", None)
        shutil.rmtree(private_dir, ignore_errors=True)
        q.put(RunMessage("finished", run_id, status=status, rc=run.rc))
        run.finished.set()

    threading.Thread(target=watch, name=f"wsgi-console-watch-{run_id}", daemon=True).start()
    return run


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        # Field 4 (ppid) follows the command name in parentheses.
        try:
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and all its descendants (Linux /proc; a no-op elsewhere)."""
    if not os.path.isdir("/proc"):
        return
    children = _children_map()
    victims: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        victims.append(current)
        pending.extend(children.get(current, []))
    for victim in reversed(victims):
        try:
            os.kill(victim, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


_KEEP_EVENT_KEYS = (
    "uuid",
    "counter",
    "event",
    "event_data",
    "stdout",
    "start_line",
    "end_line",
    "created",
    "parent_uuid",
)


def _strip_event(event: dict[str, Any]) -> dict[str, Any]:
    """Drop runner bookkeeping that is not needed to display or replay an event."""
    return {k: event[k] for k in _KEEP_EVENT_KEYS if k in event}


def _error_event(run_id: str, message: str) -> dict[str, Any]:
    return {
        "uuid": f"{run_id}-error",
        "counter": 0,
        "event": "error",
        "stdout": f"ERROR: {message}",
        "event_data": {"msg": message},
    }
