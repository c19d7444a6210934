"""The Textual application: owns the inventory, the history and every run."""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .argspec import ArgSpecs, load_argument_specs
from .events import RunAggregate
from .gcguard import GcGuard
from .history import History, HistoryWriter, RunRecord, new_run_id
from .inventory import Inventory, inventory_signature, load_inventory
from .matrix import sites_for_run
from .paths import default_data_dir, find_project_dir
from .redact import Redactor
from .runner import ActiveRun, RunMessage, start_run
from .runspec import RunSpec
from .screens.history import HistoryScreen
from .screens.inventory import InventoryScreen
from .screens.live import LiveScreen
from .screens.matrix import MatrixScreen
from .screens.run_setup import RunSetupScreen

DRAIN_INTERVAL = 0.1
DRAIN_BATCH = 5000
DRAIN_BUDGET = 0.012  # seconds of folding per tick, at most
RELOAD_INTERVAL = 2.0
TICK_HISTORY = 100_000  # UI tick durations kept (for the benchmark)

InventoryLoader = Callable[[str, str], Inventory]


@dataclass
class RunState:
    """A run as the app knows it: live (with an ActiveRun) or replayed from history."""

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

    @property
    def running(self) -> bool:
        return self.active is not None and self.finished is None


class WsgiConsole(App[None]):
    """wsgi-console: browse the inventory, run the playbooks, watch and replay runs."""

    TITLE = "wsgi-console"
    CSS_PATH = "app.tcss"
    MODES = {
        "inventory": InventoryScreen,
        "live": LiveScreen,
        "history": HistoryScreen,
        "matrix": MatrixScreen,
    }
    BINDINGS = [
        Binding("i", "switch_mode('inventory')", "Inventory"),
        Binding("n", "new_run", "New run"),
        Binding("l", "switch_mode('live')", "Live"),
        Binding("h", "switch_mode('history')", "History"),
        Binding("m", "switch_mode('matrix')", "Matrix"),
        Binding("t", "toggle_theme", "Theme"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        inventory: str | Path,
        data_dir: str | Path | None = None,
        project_dir: str | Path | None = None,
        inventory_loader: InventoryLoader | None = None,
        watch_inventory: bool = True,
        envvars: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.inventory_path = str(Path(inventory).resolve())
        self.project_dir = str(Path(project_dir or find_project_dir(Path(inventory))).resolve())
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.history = History(self.data_dir / "history.sqlite3")
        self.history.mark_interrupted()
        self.history_writer = HistoryWriter(self.history)
        self.argspecs: ArgSpecs = load_argument_specs(Path(self.project_dir) / "roles")
        self.inventory: Inventory | None = None
        self.inventory_loading = False
        self._inventory_loader = inventory_loader or (lambda src, cwd: load_inventory(src, cwd=cwd))
        self._inventory_signature: tuple[Any, ...] = ()
        self._watch_inventory = watch_inventory
        self.envvars = envvars or {}
        self.runs: dict[str, RunState] = {}
        self.viewed_run: str | None = None
        self.selected_targets: list[str] = []
        # Durations of the UI ticks that did something (wall clock, and CPU time of this thread).
        self.tick_times: deque[float] = deque(maxlen=TICK_HISTORY)
        self.tick_cpu_times: deque[float] = deque(maxlen=TICK_HISTORY)
        self.gc_guard = GcGuard()
        self.listeners: list[Any] = []
        self.sub_title = Path(self.inventory_path).name

    # -- lifecycle --------------------------------------------------------------------
    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.gc_guard.install()
        self.switch_mode("inventory")
        self.reload_inventory()
        self.set_interval(DRAIN_INTERVAL, self.drain_queues, name="drain")
        if self._watch_inventory:
            self.set_interval(RELOAD_INTERVAL, self._check_inventory_changed, name="watch")

    def on_unmount(self) -> None:
        for state in self.runs.values():
            if state.active is not None and state.finished is None:
                state.active.cancel()
        self.history_writer.close()
        self.history.close()
        self.gc_guard.uninstall()

    # -- inventory --------------------------------------------------------------------
    def reload_inventory(self) -> None:
        self.inventory_loading = True
        self._notify_screens("inventory_loading")
        self._load_inventory_worker()

    @work(thread=True, exclusive=True, group="inventory")
    def _load_inventory_worker(self) -> None:
        signature = inventory_signature(self.inventory_path)
        inventory = self._inventory_loader(self.inventory_path, self.project_dir)
        self.call_from_thread(self._set_inventory, inventory, signature)

    def _set_inventory(self, inventory: Inventory, signature: tuple[Any, ...]) -> None:
        self.inventory = inventory
        self.inventory_loading = False
        self._inventory_signature = signature
        env = f" [{inventory.environment}]" if inventory.environment else ""
        self.sub_title = f"{inventory.name}{env}"
        self._notify_screens("inventory_changed")

    @work(thread=True, exclusive=True, group="inventory-watch")
    def _check_inventory_changed(self) -> None:
        if self.inventory_loading:
            return
        signature = inventory_signature(self.inventory_path)
        if signature != self._inventory_signature:
            self.call_from_thread(self.reload_inventory)

    def redactor(self) -> Redactor:
        return self.inventory.redactor() if self.inventory else Redactor()

    def _notify_screens(self, method: str, *args: Any) -> list[Any]:
        """Call ``method`` on every mounted screen that defines it (screens subscribe on mount).

        Returns what the handlers returned.
        """
        results: list[Any] = []
        for screen in list(self.listeners):
            if not screen.is_attached:
                self.listeners.remove(screen)
                continue
            handler = getattr(screen, method, None)
            if handler is not None:
                results.append(handler(*args))
        return results

    # -- runs -------------------------------------------------------------------------
    def launch(self, spec: RunSpec, parent_id: str | None = None, note: str = "") -> RunState:
        """Start a run (it belongs to the app) and show it in the live view."""
        run_id = new_run_id()
        redactor = self.redactor()
        command = spec.command_line(redactor)
        hosts = self.inventory.target_hosts(spec.limit) if self.inventory else []
        sites = sites_for_run(self.inventory, spec, hosts) if self.inventory else {}
        self.history.start_run(
            run_id,
            spec,
            self.inventory.name if self.inventory else Path(spec.inventory).name,
            command,
            redactor,
            sites=sites,
            parent_id=parent_id,
            note=note,
        )
        state = RunState(run_id=run_id, spec=spec, command=command)
        self.runs[run_id] = state
        state.active = start_run(
            spec,
            run_id,
            redactor,
            envvars=self.envvars,
            work_dir=None,
        )
        self.view_run(run_id)
        return state

    def cancel_run(self, run_id: str | None = None) -> bool:
        run_id = run_id or self.viewed_run
        state = self.runs.get(run_id or "")
        if state is None or state.active is None or state.finished is not None:
            return False
        state.active.cancel()
        state.cancel_requested_at = time.time()
        self.notify(f"Cancelling run {run_id}…")
        return True

    def view_run(self, run_id: str) -> None:
        self.viewed_run = run_id
        self.switch_mode("live")
        self._notify_screens("run_viewed", run_id)

    def active_runs(self) -> list[RunState]:
        return [s for s in self.runs.values() if s.running]

    def drain_queues(self) -> None:
        """Timer callback (the UI tick): fold queued events into aggregates, in budgeted
        batches, tell the screens, and let them do a bounded slice of deferred display work."""
        started = time.perf_counter()
        started_cpu = time.thread_time()
        touched: list[str] = []
        live = False
        for state in list(self.runs.values()):
            if state.active is None or state.finished is not None:
                continue
            live = True
            batch = self._drain_one(state)
            if batch:
                touched.append(state.run_id)
        if live:
            self.gc_guard.run_started()
        elif self.gc_guard.active:
            self.gc_guard.runs_over()
        for run_id in touched:
            self._notify_screens("run_updated", run_id)
        caught_up = any(self._notify_screens("catch_up"))
        if touched or caught_up:
            self.tick_times.append(time.perf_counter() - started)
            self.tick_cpu_times.append(time.thread_time() - started_cpu)

    def _drain_one(self, state: RunState) -> int:
        assert state.active is not None
        q: queue.Queue[RunMessage] = state.active.queue
        events: list[dict[str, Any]] = []
        handled = 0
        deadline = time.perf_counter() + DRAIN_BUDGET
        aggregate = state.aggregate
        while handled < DRAIN_BATCH and state.end is None:
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
            state.next_seq = self.history_writer.add_events(
                state.run_id, events, self.redactor(), state.next_seq
            )
        # The run is finished once its events are all stored: waiting for the writer here
        # would freeze the UI for as long as its backlog, so later ticks check again.
        if state.end is not None and self.history_writer.idle(state.run_id):
            finished = state.end
            state.status = finished.status or state.status
            state.rc = finished.rc
            state.finished = time.time()
            self.history.finish_run(state.run_id, state.status, state.rc, state.aggregate)
            severity = "information" if state.status == "successful" else "warning"
            self.notify(f"Run {state.run_id} {state.status}", severity=severity)
            self._notify_screens("history_changed")
            handled += 1
        return handled

    def replay(self, run_id: str) -> RunState | None:
        record = self.history.get_run(run_id)
        if record is None:
            return None
        state = RunState(
            run_id=run_id,
            spec=record.spec,
            status=record.status,
            rc=record.rc,
            started=record.started,
            finished=record.finished or record.started,
            replay=True,
            command=record.command,
        )
        state.aggregate.add_many(self.history.iter_events(run_id))
        state.aggregate.pop_dirty()
        state.aggregate.dirty_summary = True
        if run_id not in self.runs or self.runs[run_id].replay:
            self.runs[run_id] = state
        else:
            state = self.runs[run_id]
        self.view_run(run_id)
        return state

    # -- run setup --------------------------------------------------------------------
    def open_run_setup(
        self,
        spec: RunSpec | None = None,
        parent_id: str | None = None,
        note: str = "",
    ) -> None:
        if spec is None:
            spec = RunSpec(
                inventory=self.inventory_path,
                project_dir=self.project_dir,
                targets=tuple(self.selected_targets),
            )
        self.push_screen(RunSetupScreen(spec, parent_id=parent_id, note=note))

    def relaunch(
        self, record: RunRecord, failed_only: bool = False, as_apply: bool = False
    ) -> None:
        spec = RunSpec.from_dict(record.spec.to_dict())
        spec = RunSpec(
            **{**spec.__dict__, "inventory": self.inventory_path, "project_dir": self.project_dir}
        )
        note = "relaunch"
        if failed_only:
            hosts = record.failed_hosts()
            if not hosts:
                self.notify("That run has no failed or unreachable host.", severity="warning")
                return
            spec = spec.with_targets(hosts)
            note = "relaunch failed/unreachable"
        if as_apply:
            spec = spec.as_apply()
            note = "apply of check run"
        self.open_run_setup(spec, parent_id=record.id, note=note)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Screen-switching keys are off while the run setup form is open."""
        if isinstance(self.screen, RunSetupScreen) and action in (
            "switch_mode",
            "new_run",
            "toggle_theme",
            "quit",
        ):
            return False
        return True

    # -- actions ----------------------------------------------------------------------
    def action_new_run(self) -> None:
        self.open_run_setup()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def action_cancel_run(self) -> None:
        if not self.cancel_run():
            self.notify("No running run to cancel here.", severity="warning")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Inventory", "Browse groups, hosts and sites", self._mode("inventory"))
        yield SystemCommand("New run", "Choose what to run and on which hosts", self.action_new_run)
        yield SystemCommand("Live run", "Watch the current run", self._mode("live"))
        yield SystemCommand("History", "Past runs: replay, relaunch", self._mode("history"))
        yield SystemCommand(
            "Deployment matrix", "Host × site: stack, last deploy", self._mode("matrix")
        )
        yield SystemCommand(
            "Cancel run", "Cancel the run shown in the live view", self.action_cancel_run
        )
        yield SystemCommand("Reload inventory", "Read the inventory again", self.reload_inventory)
        yield SystemCommand(
            "Toggle light/dark theme", "Switch between light and dark", self.action_toggle_theme
        )

    def _mode(self, mode: str) -> Callable[[], None]:
        def switch() -> None:
            self.switch_mode(mode)

        return switch
