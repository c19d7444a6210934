"""The ansible-runner wrapper, with real (local) runs of the fixture project."""

from __future__ import annotations

import json
import os
import queue
import time

from wsgi_console.events import RunAggregate
from wsgi_console.redact import Redactor
from wsgi_console.runner import RunMessage, _children_map, start_run
from wsgi_console.runspec import RunSpec

from .conftest import CANCEL_CUT_SHORT, DEMO_INV, PROJECT


def drain(q: queue.Queue[RunMessage]) -> list[RunMessage]:
    out: list[RunMessage] = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


def test_check_run_streams_redacted_events_and_cleans_up() -> None:
    spec = RunSpec(
        inventory=str(DEMO_INV),
        project_dir=str(PROJECT),
        targets=("demo-web1",),
        extra_vars={"note": "hello-token-abcdef"},
    )
    run = start_run(spec, "t-check", Redactor(["hello-token-abcdef"]))
    assert run.wait(120)
    messages = drain(run.queue)
    assert messages[-1].kind == "finished" and messages[-1].status == "successful"
    assert run.rc == 0
    events = [m.event for m in messages if m.kind == "event" and m.event]
    statuses = [m.status for m in messages if m.kind == "status"]
    assert "running" in statuses and "successful" in statuses
    agg = RunAggregate()
    agg.add_many(events)
    assert agg.matches_stats()
    assert set(agg.summary()) == {"demo-web1"}
    assert "hello-token-abcdef" not in json.dumps(events)
    assert not os.path.exists(run.private_dir), "artifacts dir removed after the run"


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def slow_sleeps(root: int | None, timeout: float = 60) -> list[int]:
    """The pids of the slow task's `sleep 30` among the descendants of `root` (once it runs)."""
    deadline = time.monotonic() + timeout
    while root and time.monotonic() < deadline:
        children, found, pending = _children_map(), [], [root]
        while pending:
            pid = pending.pop()
            pending.extend(children.get(pid, []))
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    if fh.read().split(b"\0")[:2] == [b"sleep", b"30"]:
                        found.append(pid)
            except OSError:
                continue
        if found:
            return found
        time.sleep(0.05)
    return []


def test_cancel_cuts_the_run_short() -> None:
    spec = RunSpec(
        inventory=str(DEMO_INV),
        project_dir=str(PROJECT),
        extra_vars={"fixture_slow": True},
        tags=("preflight",),
    )
    run = start_run(spec, "t-cancel", Redactor())
    # Wait until the slow task is running.
    deadline = time.monotonic() + 60
    seen: list[RunMessage] = []
    while time.monotonic() < deadline:
        seen.extend(drain(run.queue))
        if any(
            m.event and m.event.get("event_data", {}).get("task", "").startswith("Slow")
            for m in seen
        ):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("slow task never started")
    sleeps = slow_sleeps(run.playbook_pid)
    assert sleeps, "the slow task's sleep was not found under ansible-playbook"
    asked = time.monotonic()
    run.cancel()
    # The slow task sleeps 30 s: a run that ends well before that was cut short by the cancel.
    # The time is reported, not asserted to the second (about 0.1 s idle; a loaded CI machine
    # running the Molecule lanes beside this suite makes it what it makes it).
    assert run.wait(CANCEL_CUT_SHORT), f"run did not stop within {CANCEL_CUT_SHORT} s of the cancel"
    print(f"the cancel took {time.monotonic() - asked:.2f} s")
    # What makes a cancel quick: the task's own process (in a session of its own, which
    # ansible-runner's kill of the playbook's process group misses, and which would keep the run
    # waiting on its pty) is killed with the run, not left to finish its 30 s.
    assert not [pid for pid in sleeps if alive(pid)], "the slow task's sleep outlived the cancel"
    assert run.status == "canceled"
    assert drain(run.queue)[-1].kind == "finished"


def test_bad_configuration_is_reported_not_raised() -> None:
    spec = RunSpec(inventory=str(DEMO_INV), project_dir="/nonexistent-project-dir")
    run = start_run(spec, "t-bad", Redactor())
    assert run.wait(60)
    messages = drain(run.queue)
    assert messages[-1].kind == "finished"
    assert run.status in ("failed", "error")
