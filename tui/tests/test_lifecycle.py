"""Issue 15: the run lifecycle (quit with a live run, two consoles on one data directory,
cancelled and interrupted runs closed off, relaunch unfinished, the check → apply warning),
the non-interactive ``wsgi-console run``, notification hooks and the artifacts export.

Each test drives the real app (``App.run_test``) or the real command against the fixture
project's playbooks (local connection): no runner, server or database is mocked.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import Button, DataTable, Input, Static

from wsgi_console.app import WsgiConsole
from wsgi_console.history import History, Owner
from wsgi_console.notify import Notifier
from wsgi_console.redact import Redactor
from wsgi_console.runspec import Action, RunSpec
from wsgi_console.screens.dialogs import ChoiceScreen
from wsgi_console.screens.history import HistoryScreen
from wsgi_console.screens.live import LiveScreen
from wsgi_console.screens.run_setup import RunSetupScreen

from .conftest import DEMO_INV, PROD_INV, PROJECT, TUI, wait_for

SIZE = (140, 44)
AppFactory = Callable[..., WsgiConsole]


async def started(pilot: Any, app: WsgiConsole) -> None:
    await wait_for(pilot, lambda: app.inventory is not None)
    await pilot.pause()


async def launch(
    pilot: Any, app: WsgiConsole, extra: str = "", apply: bool = False, targets: str = ""
) -> str:
    """Open the run setup, set the extra vars/mode/targets, launch; returns the run id."""
    await pilot.press("n")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunSetupScreen)
    if extra:
        screen.query_one("#extra", Input).value = extra
    if targets:
        screen.query_one("#targets", Input).value = targets
    if apply:
        screen.query_one("#mode-apply").value = True  # type: ignore[attr-defined]
    await pilot.pause()
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, LiveScreen), "the launch was refused"
    assert app.viewed_run is not None
    return app.viewed_run


async def until_slow_task_runs(pilot: Any, app: WsgiConsole, run_id: str) -> None:
    state = app.runs[run_id]

    def slow_running() -> bool:
        return any(
            t.name.startswith("Slow") and "running" in t.counts()
            for t in state.aggregate.tasks.values()
        )

    await wait_for(pilot, slow_running)


def press_choice(app: WsgiConsole, choice: str) -> None:
    screen = app.screen
    assert isinstance(screen, ChoiceScreen), type(screen)
    screen.query_one(f"#choice-{choice}", Button).press()


# -- 1. quitting during a run -------------------------------------------------------------------


async def test_quit_with_a_live_run_asks_and_cancel_closes_it_off(
    make_app: AppFactory, data_dir: Path
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        run_id = await launch(pilot, app, "fixture_slow=true")
        await until_slow_task_runs(pilot, app, run_id)
        await pilot.press("q")
        await pilot.pause()
        # Not gone: it asks, and the run goes on meanwhile.
        assert isinstance(app.screen, ChoiceScreen)
        assert app.is_running and app.runs[run_id].running
        press_choice(app, "cancel")
        await wait_for(pilot, lambda: not app.is_running, timeout=15)
    history = History(data_dir / "history.sqlite3")
    record = history.get_run(run_id)
    assert record is not None
    assert record.status == "canceled" and record.finished is not None
    assert set(record.outcomes.values()) == {"cancelled"}
    assert record.unfinished_hosts() == ["demo-edge1", "demo-web1", "demo-web2"]
    history.close()


async def test_quit_and_wait_lets_the_run_finish(make_app: AppFactory, data_dir: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        run_id = await launch(pilot, app, targets="web")
        await pilot.press("q")
        await pilot.pause()
        press_choice(app, "wait")
        await wait_for(pilot, lambda: not app.is_running, timeout=90)
    history = History(data_dir / "history.sqlite3")
    record = history.get_run(run_id)
    assert record is not None and record.status == "successful", record
    history.close()


async def test_quit_dialog_stay_keeps_the_console(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        run_id = await launch(pilot, app, "fixture_slow=true")
        await pilot.press("q")
        await pilot.pause()
        press_choice(app, "stay")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen) and app.runs[run_id].running
        await pilot.press("c")
        await wait_for(pilot, lambda: app.runs[run_id].finished is not None, timeout=15)


async def test_an_unmount_with_a_live_run_records_it_cancelled(
    make_app: AppFactory, data_dir: Path
) -> None:
    """A way out without the dialog (a signal, a crash of the UI): never left 'running'."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        run_id = await launch(pilot, app, "fixture_slow=true")
        await until_slow_task_runs(pilot, app, run_id)
        app.exit()
    history = History(data_dir / "history.sqlite3")
    record = history.get_run(run_id)
    assert record is not None and record.status == "canceled" and record.finished
    history.close()


# -- 2. two consoles on one data directory --------------------------------------------------


async def test_a_second_console_follows_a_live_run_and_never_marks_it_interrupted(
    make_app: AppFactory,
) -> None:
    first = make_app()
    async with first.run_test(size=SIZE) as pilot:
        await started(pilot, first)
        run_id = await launch(pilot, first, "fixture_slow=true")
        await until_slow_task_runs(pilot, first, run_id)

        second = make_app()  # same data dir
        async with second.run_test(size=SIZE) as other:
            await started(other, second)
            # Its start-up pass over the history (a worker thread, started at mount) has run.
            await wait_for(
                other,
                lambda: not any(w.group == "orphans" and not w.is_finished for w in second.workers),
            )
            record = second.history.get_run(run_id)
            assert record is not None and record.status == "running", record.status
            await other.press("h")
            await other.pause()
            assert isinstance(second.screen, HistoryScreen)
            assert "running" in str(second.screen.query_one("#runs", DataTable).get_row_at(0)[5])
            await other.press("enter")
            await other.pause()
            assert isinstance(second.screen, LiveScreen)
            followed = second.runs[run_id]
            assert followed.following and followed.active is None
            await wait_for(
                other,
                lambda: any(t.name.startswith("Slow") for t in followed.aggregate.tasks.values()),
            )
            summary = str(second.screen.query_one("#summary", Static).render())
            assert "following (read-only" in summary, summary
            # Read-only: the second console cannot cancel it.
            await other.press("c")
            await other.pause()
            assert first.runs[run_id].running

            # The owner cancels: the follower sees the end, closed off as cancelled.
            await pilot.press("c")
            await wait_for(other, lambda: followed.finished is not None, timeout=20)
            assert followed.status == "canceled"
            assert followed.aggregate.closed == "cancelled"
            assert set(followed.aggregate.unfinished_hosts()) == {
                "demo-web1",
                "demo-web2",
                "demo-edge1",
            }


async def test_a_run_whose_owner_died_is_closed_off_as_interrupted(
    make_app: AppFactory, data_dir: Path
) -> None:
    """The stale record of issue 15: a dead owner's run becomes interrupted, and its replay
    shows the task that was in flight as interrupted, not still running."""
    history = History(data_dir / "history.sqlite3")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    owner = Owner.current()
    ghost = Owner(owner.host, owner.boot, dead.pid, "1", "gone")  # a start time no process has
    spec = RunSpec(inventory=str(DEMO_INV), project_dir=str(PROJECT), check=False)
    history.start_run("dead", spec, "demo", "cmd", Redactor(), owner=ghost, target_hosts=["h1"])
    events = [
        {"event": "playbook_on_play_start", "event_data": {"play": "P", "play_uuid": "p"}},
        {
            "event": "playbook_on_task_start",
            "event_data": {"play_uuid": "p", "task": "Gathering Facts", "task_uuid": "t"},
        },
        {
            "event": "runner_on_start",
            "event_data": {
                "play_uuid": "p",
                "task": "Gathering Facts",
                "task_uuid": "t",
                "host": "h1",
            },
            "created": "2026-12-01T10:00:00.000000",
        },
    ]
    history.add_events("dead", events, Redactor(), 0)
    history.close()

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await wait_for(pilot, lambda: (app.history.get_run("dead") or spec).status == "interrupted")  # type: ignore[union-attr]
        record = app.history.get_run("dead")
        assert record is not None and record.finished is not None
        assert record.outcomes == {"h1": "interrupted"}
        assert record.unfinished_hosts() == ["h1"]
        state = app.replay("dead")
        await pilot.pause()
        assert state is not None
        task = next(iter(state.aggregate.tasks.values()))
        assert task.results["h1"].status == "interrupted"  # not "running Gathering Facts"
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "interrupted" in summary


# -- 3. a cancelled apply looks cancelled --------------------------------------------------------


async def test_cancelled_apply_is_not_shown_ok_and_unfinished_hosts_relaunch(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        run_id = await launch(pilot, app, "fixture_slow=true", apply=True)
        await until_slow_task_runs(pilot, app, run_id)
        await pilot.press("c")
        state = app.runs[run_id]
        await wait_for(pilot, lambda: state.finished is not None, timeout=15)
        await pilot.pause(0.2)
        assert state.status == "canceled"
        # The task in flight is marked cancelled, for every host it was running on.
        slow = next(t for t in state.aggregate.tasks.values() if t.name.startswith("Slow"))
        assert {r.status for r in slow.results.values()} == {"cancelled"}
        # The Hosts tab: no host looks like it completed.
        await pilot.press("2")
        hosts = app.screen.query_one("#hosts", DataTable)
        await wait_for(pilot, lambda: hosts.row_count == 3)
        statuses = {str(hosts.get_row(h)[1]) for h in ("demo-web1", "demo-web2", "demo-edge1")}
        assert statuses == {"⊘ cancelled"}, statuses
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "cancelled: no host completed the run" in summary
        # No failed host, but unfinished ones: f says so, u relaunches them.
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, RunSetupScreen)
        assert sorted(app.screen.query_one("#targets", Input).value.split()) == [
            "demo-edge1",
            "demo-web1",
            "demo-web2",
        ]
        assert app.screen.note == "relaunch unfinished"


async def test_check_to_apply_of_a_cancelled_check_warns_first(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        run_id = await launch(pilot, app, "fixture_slow=true")
        await until_slow_task_runs(pilot, app, run_id)
        await pilot.press("c")
        await wait_for(pilot, lambda: app.runs[run_id].finished is not None, timeout=15)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen), "no warning before the apply"
        text = str(app.screen.query_one("#choice-text", Static).render())
        assert "never previewed" in text
        press_choice(app, "back")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)
        await pilot.press("a")
        await pilot.pause()
        press_choice(app, "apply")
        await pilot.pause()
        assert isinstance(app.screen, RunSetupScreen)
        assert app.screen.query_one("#mode-apply").value  # type: ignore[attr-defined]
        assert "canceled" in app.screen.note


# -- build: notification hooks, export, the run id passed to the playbooks --------------------


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's API)
        length = int(self.headers.get("Content-Length", 0))
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


async def test_notification_hooks_get_the_run_summary(make_app: AppFactory, tmp_path: Path) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received = []
    out = tmp_path / "hook.json"
    notifier = Notifier(
        command=f"cat > {out}; echo $WSGI_RUN_STATUS > {out}.status",
        url=f"http://127.0.0.1:{server.server_port}/hook",
    )
    try:
        app = make_app(notifier=notifier)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            run_id = await launch(pilot, app, "fixture_fail_host=demo-web2")
            await wait_for(pilot, lambda: app.runs[run_id].finished is not None)
            await wait_for(pilot, lambda: bool(_Hook.received) and out.exists(), timeout=30)
        summary = json.loads(out.read_text())
        assert summary == _Hook.received[0]
        assert summary["run_id"] == run_id and summary["status"] == "failed"
        assert summary["failed_hosts"] == ["demo-web2"]
        assert summary["hosts"]["demo-web1"]["outcome"] == "ok"
        assert summary["hosts"]["demo-web2"]["outcome"] == "failed"
        assert "hello-token-abcdef" not in out.read_text()  # nothing secret
        assert (tmp_path / "hook.json.status").read_text().strip() == "failed"
        assert not notifier.errors
    finally:
        server.shutdown()


async def test_export_as_runner_artifacts(make_app: AppFactory, data_dir: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        run_id = await launch(pilot, app, targets="web")
        await wait_for(pilot, lambda: app.runs[run_id].finished is not None)
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        out = data_dir / "artifacts" / run_id
        assert out.is_dir()
        events = sorted(
            (out / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0])
        )
        record = app.history.get_run(run_id)
        assert record is not None and len(events) == record.event_count
        assert json.loads(events[-1].read_text())["event"] == "playbook_on_stats"
        assert (out / "status").read_text() == "successful"
        assert (out / "rc").read_text() == "0"
        assert "PLAY RECAP" in (out / "stdout").read_text()
        assert oct((out / "stdout").stat().st_mode & 0o777) == "0o600"
        (artifact,) = out.glob("site-artifact-*.json")
        data = json.loads(artifact.read_text())
        assert data["version"].startswith("2.") and data["status"] == "successful"
        assert [p["__play_name"] for p in data["plays"]][:2] == [
            "Preflight checks",
            "Hosts entries",
        ]
        tasks = data["plays"][0]["tasks"]
        assert {t["__host"] for t in tasks} == {"demo-web1", "demo-web2"}
        assert all(t["__result"] in ("Ok", "Skipped") for t in tasks)


async def test_runs_pass_their_id_and_operator_to_the_playbooks(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        run_id = await launch(pilot, app, targets="web")
        await wait_for(pilot, lambda: app.runs[run_id].finished is not None)
        record = app.history.get_run(run_id)
        assert record is not None
        assert f'"wsgi_run_id":"{run_id}"' in record.command
        assert '"wsgi_run_by":' in record.command
        # A relaunch is a new run: the stored spec carries no run id.
        assert record.spec.run_id == "" and "wsgi_run_id" not in record.spec.extra_vars


# -- build: the non-interactive mode -------------------------------------------------------------


def console_run(
    data_dir: Path, *args: str, inventory: Path = DEMO_INV, **kwargs: Any
) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop("WSGI_CONSOLE_NOTIFY_COMMAND", None)
    env.pop("WSGI_CONSOLE_NOTIFY_URL", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wsgi_console",
            "run",
            "-i",
            str(inventory),
            "--project-dir",
            str(PROJECT),
            "--data-dir",
            str(data_dir),
            *args,
        ],
        cwd=TUI,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_wsgi_console_run_prints_the_live_summary_and_records_the_run(
    data_dir: Path, tmp_path: Path
) -> None:
    hook = tmp_path / "summary.json"
    proc = console_run(
        data_dir,
        "--limit",
        "web",
        "-e",
        "fixture_fail_host=demo-web2",
        "--notify-command",
        f"cat > {hook}",
        "--json",
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (out, err)  # a host failed
    lines = out.splitlines()
    assert lines[0].startswith("run ") and "ansible-playbook --check --diff" in lines[0]
    assert any("Preflight checks | Fail on purpose" in line for line in lines)
    assert any(line.startswith("demo-web2") and " failed " in line for line in lines)
    assert any("failed (1/2 hosts failed)" in line for line in lines)
    summary = json.loads(out[out.index("\n{") :])
    assert summary["failed_hosts"] == ["demo-web2"]
    assert json.loads(hook.read_text())["run_id"] == summary["run_id"]
    history = History(data_dir / "history.sqlite3")
    record = history.get_run(summary["run_id"])
    assert record is not None and record.status == "failed" and record.mode == "check"
    assert Owner.decode(record.owner) is not None
    history.close()


def test_wsgi_console_run_refuses_what_the_setup_screen_refuses(data_dir: Path) -> None:
    proc = console_run(data_dir, "--action", "remove_site")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "choose at least one site" in err, (out, err)
    proc = console_run(data_dir, "--limit", "nosuchhost")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "no target host" in err, (out, err)
    proc = console_run(data_dir, "--apply", inventory=PROD_INV)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "add --confirm production" in err, (out, err)
    proc = console_run(data_dir, "--action", "switch_stack", "--sites", "hello,shop",
                       "--stack", "nginx_gunicorn", "--limit", "edge")  # fmt: skip
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "no-op" in err, (out, err)
    history = History(data_dir / "history.sqlite3")
    assert history.list_runs() == []  # nothing refused was launched
    history.close()


async def test_a_console_follows_a_headless_run_and_sees_its_cancellation(
    make_app: AppFactory, data_dir: Path
) -> None:
    """Two processes: `wsgi-console run` owns the run, the console follows it read-only; the
    run's SIGTERM cancels it (recorded as cancelled, which the console then shows)."""
    proc = console_run(data_dir, "--action", "preflight", "-e", "fixture_slow=true")
    try:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)

            def live_run() -> str | None:
                runs = [r for r in app.history.list_runs() if r.live]
                return runs[0].id if runs else None

            await wait_for(pilot, lambda: live_run() is not None, timeout=60)
            run_id = live_run() or ""
            state = app.replay(run_id)
            assert state is not None and state.following
            await wait_for(
                pilot,
                lambda: any(t.name.startswith("Slow") for t in state.aggregate.tasks.values()),
            )
            assert app.history.get_run(run_id).status == "running"  # type: ignore[union-attr]
            proc.send_signal(signal.SIGTERM)
            await wait_for(pilot, lambda: state.finished is not None, timeout=30)
            assert state.status == "canceled"
            assert state.aggregate.closed == "cancelled"
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 3, (out, err)
        assert "cancelling (SIGTERM)" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_headless_spec_matches_the_setup_screen_spec() -> None:
    from wsgi_console.__main__ import build_run_parser
    from wsgi_console.headless import build_spec

    args = build_run_parser().parse_args(
        [
            "-i",
            "inv",
            "--action",
            "switch_stack",
            "--sites",
            "hello,shop",
            "--stack",
            "nginx_gunicorn",
            "--limit",
            "web",
            "--apply",
            "--tags",
            "app,django",
            "-e",
            "a=1",
        ]
    )
    spec = build_spec(args, "inv", "proj")
    assert spec == RunSpec(
        inventory="inv",
        project_dir="proj",
        action=Action.SWITCH_STACK,
        targets=("web",),
        tags=("app", "django"),
        check=False,
        diff=True,
        sites=("hello", "shop"),
        stack="nginx_gunicorn",
        extra_vars={"a": 1},
    )
