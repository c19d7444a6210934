"""The ansible-runner wrapper, with real (local) runs of the fixture project."""

from __future__ import annotations

import json
import os
import queue
import time

from wsgi_console.events import RunAggregate
from wsgi_console.redact import Redactor
from wsgi_console.runner import RunMessage, start_run
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
    asked = time.monotonic()
    run.cancel()
    # The slow task sleeps 30 s: a run that ends well before that was cut short by the cancel.
    # The time is reported, not asserted to the second (about 0.1 s idle; a loaded CI machine
    # running the Molecule lanes beside this suite makes it what it makes it).
    assert run.wait(CANCEL_CUT_SHORT), f"run did not stop within {CANCEL_CUT_SHORT} s of the cancel"
    print(f"the cancel took {time.monotonic() - asked:.2f} s")
    assert run.status == "canceled"
    assert drain(run.queue)[-1].kind == "finished"


def test_bad_configuration_is_reported_not_raised() -> None:
    spec = RunSpec(inventory=str(DEMO_INV), project_dir="/nonexistent-project-dir")
    run = start_run(spec, "t-bad", Redactor())
    assert run.wait(60)
    messages = drain(run.queue)
    assert messages[-1].kind == "finished"
    assert run.status in ("failed", "error")
