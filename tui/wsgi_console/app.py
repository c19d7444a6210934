"""The Textual application: owns the inventory, the history and every run."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .argspec import ArgSpecs, load_argument_specs
from .gcguard import GcGuard
from .history import History, HistoryWriter, Owner, RunRecord
from .inventory import (
    Inventory,
    inventory_signature,
    load_cached_inventory,
    load_inventory,
    save_inventory_cache,
)
from .notify import Notifier
from .paths import default_data_dir, find_project_dir, project_problems
from .playbooks import project_tags
from .redact import Redactor
from .runner import start_run
from .runs import RunEngine, RunState, Starter
from .runspec import RunSpec
from .screens.dialogs import ChoiceScreen
from .screens.history import HistoryScreen
from .screens.inventory import InventoryScreen
from .screens.live import LiveScreen
from .screens.matrix import MatrixScreen
from .screens.run_setup import RunSetupScreen

DRAIN_INTERVAL = 0.1
RELOAD_INTERVAL = 2.0
SETTLE_HOSTS = 500  # a fresh model this big is frozen out of the GC's full passes (GcGuard.settle)
TICK_HISTORY = 100_000  # UI tick durations kept (for the benchmark)

InventoryLoader = Callable[[str, str], Inventory]
NAV_HINT = "i inventory · l live · h history · m matrix"


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
        # The screen keys are listed in the header (NAV_HINT): the footer keeps each screen's
        # own keys readable at 100 columns.
        Binding("i", "switch_mode('inventory')", "Inventory", show=False),
        Binding("n", "new_run", "New run"),
        Binding("l", "switch_mode('live')", "Live", show=False),
        Binding("h", "switch_mode('history')", "History", show=False),
        Binding("m", "switch_mode('matrix')", "Matrix", show=False),
        Binding("t", "toggle_theme", "Theme", show=False),
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
        notifier: Notifier | None = None,
        starter: Starter = start_run,
    ) -> None:
        super().__init__()
        self.inventory_path = str(Path(inventory).resolve())
        found = project_dir or find_project_dir(Path(inventory))
        self.project_dir = str(Path(found).resolve()) if found else str(Path.cwd())
        # What is wrong with the project directory (no site.yml, playbooks missing): shown at
        # start and refusing every launch, rather than a run failing on a missing playbook.
        self.project_problems: list[str] = (
            project_problems(Path(self.project_dir))
            if found
            else [
                f"no project directory: no parent of {inventory} holds site.yml; "
                "start with --project-dir DIR (the collection's root)"
            ]
        )
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.history = History(self.data_dir / "history.sqlite3")
        self.history_writer = HistoryWriter(self.history)
        self.owner = Owner.current()
        self.notifier = notifier or Notifier.from_env()
        self.notifier.on_error = self._notify_hook_error
        self.engine = RunEngine(
            self.history,
            self.history_writer,
            self.owner,
            notifier=self.notifier,
            envvars=envvars,
            starter=starter,
        )
        self.quit_when_done = False
        self.argspecs: ArgSpecs = load_argument_specs(Path(self.project_dir) / "roles")
        self.tags: list[str] = project_tags(Path(self.project_dir))
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
        self.sub_title = f"{Path(self.inventory_path).name}  │  {NAV_HINT}"

    # -- lifecycle --------------------------------------------------------------------
    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.gc_guard.install()
        self.switch_mode("inventory")
        self.reload_inventory()
        self._close_orphans()
        self.set_interval(DRAIN_INTERVAL, self.drain_queues, name="drain")
        if self._watch_inventory:
            self.set_interval(RELOAD_INTERVAL, self._check_inventory_changed, name="watch")
        for problem in self.project_problems:
            self.notify(problem, title="Project directory", severity="error", timeout=30)

    def on_unmount(self) -> None:
        # Quitting asks first (action_quit); a run still live here (a signal, a crash of the
        # UI) is cancelled and closed off as cancelled rather than left 'running'.
        for state in list(self.runs.values()):
            if state.running:
                self.engine.abandon(state, self.redactor())
        self.history_writer.close()
        self.notifier.wait(5)
        self.history.close()
        self.gc_guard.uninstall()

    @work(thread=True, exclusive=True, group="orphans")
    def _close_orphans(self) -> None:
        """Close off the runs whose owning process died (never those of a live console)."""
        if self.history.mark_interrupted():
            self.call_from_thread(self._notify_screens, "history_changed")

    def _notify_hook_error(self, message: str) -> None:
        try:
            self.call_from_thread(self.notify, message, severity="warning", title="Notify hook")
        except RuntimeError:  # the app is gone (or this is its own thread)
            pass

    # -- inventory --------------------------------------------------------------------
    def reload_inventory(self) -> None:
        self.inventory_loading = True
        self._notify_screens("inventory_loading")
        self._load_inventory_worker()

    @work(thread=True, exclusive=True, group="inventory")
    def _load_inventory_worker(self) -> None:
        """The cached model first when the files did not change (a big inventory shows at
        once), then ansible-inventory's fresh one (which alone can launch runs)."""
        signature = inventory_signature(self.inventory_path)
        cache = self.data_dir / "cache"
        if self.inventory is None:
            cached = load_cached_inventory(self.inventory_path, cache, signature)
            if cached is not None:
                self.call_from_thread(self._set_inventory, cached, signature)
        inventory = self._inventory_loader(self.inventory_path, self.project_dir)
        if len(inventory.hosts) >= SETTLE_HOSTS:
            self.gc_guard.settle()  # not the cached model: it is replaced seconds later
        if inventory.ok:
            try:
                save_inventory_cache(inventory, cache, signature)
            except OSError:
                pass  # a cache that cannot be written only costs the next start some time
        self.call_from_thread(self._set_inventory, inventory, signature)

    def _set_inventory(self, inventory: Inventory, signature: tuple[Any, ...]) -> None:
        self.inventory = inventory
        self.inventory_loading = inventory.from_cache
        self._inventory_signature = signature
        env = f" [{inventory.environment}]" if inventory.environment else ""
        self.sub_title = f"{inventory.name}{env}  │  {NAV_HINT}"
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
        state = self.engine.launch(
            spec, self.inventory, self.redactor(), parent_id=parent_id, note=note
        )
        self.runs[state.run_id] = state
        self.view_run(state.run_id)
        return state

    def cancel_run(self, run_id: str | None = None) -> bool:
        run_id = run_id or self.viewed_run
        state = self.runs.get(run_id or "")
        if state is None or not self.engine.cancel(state):
            return False
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
        ended: list[RunState] = []
        followed_ended = False
        live = False
        for state in list(self.runs.values()):
            if state.following:
                read, done = self.engine.poll(state)
                if read or done:
                    touched.append(state.run_id)
                if done:
                    followed_ended = True
                continue
            if state.active is None or state.finished is not None:
                continue
            live = True
            handled, done = self.engine.drain(state, self.redactor())
            if handled:
                touched.append(state.run_id)
            if done:
                ended.append(state)
        if live:
            self.gc_guard.run_started()
        elif self.gc_guard.active:
            self.gc_guard.runs_over()
        else:
            self.gc_guard.tick()
        for state in ended:
            severity = "information" if state.status == "successful" else "warning"
            self.notify(f"Run {state.run_id} {state.status}", severity=severity)
        if ended or followed_ended:
            self._notify_screens("history_changed")
        for run_id in touched:
            self._notify_screens("run_updated", run_id)
        caught_up = any(self._notify_screens("catch_up"))
        if touched or caught_up:
            self.tick_times.append(time.perf_counter() - started)
            self.tick_cpu_times.append(time.thread_time() - started_cpu)
        if self.quit_when_done and not self.active_runs():
            self.exit()

    def replay(self, run_id: str) -> RunState | None:
        """Show a stored run: replayed, or followed read-only while another process owns it."""
        current = self.runs.get(run_id)
        if current is not None and (current.active is not None or current.following):
            self.view_run(run_id)
            return current
        record = self.history.get_run(run_id)
        if record is None:
            return None
        if record.live:
            state = self.engine.follow(record)
        else:
            state = self.engine.replay(record)
        self.runs[run_id] = state
        self.view_run(run_id)
        return state

    def export_run(self, run_id: str, directory: Path | None = None) -> Path:
        """Write a stored run as ansible-runner artifacts (what ansible-navigator replays)."""
        from .export import export_run

        return export_run(self.history, run_id, directory or self.data_dir / "artifacts")

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
        self,
        record: RunRecord,
        failed_only: bool = False,
        as_apply: bool = False,
        unfinished_only: bool = False,
        confirmed: bool = False,
    ) -> None:
        if record.live:
            self.notify("That run is still running.", severity="warning")
            return
        spec = RunSpec.from_dict(record.spec.to_dict())
        spec = RunSpec(
            **{**spec.__dict__, "inventory": self.inventory_path, "project_dir": self.project_dir}
        )
        note = "relaunch"
        if failed_only:
            hosts = record.failed_hosts()
            if not hosts:
                unfinished = record.unfinished_hosts()
                hint = (
                    f"; {len(unfinished)} host(s) did not finish: relaunch them with u"
                    if unfinished
                    else ""
                )
                self.notify(
                    f"That run has no failed or unreachable host{hint}.", severity="warning"
                )
                return
            spec = spec.with_targets(hosts)
            note = "relaunch failed/unreachable"
        if unfinished_only:
            hosts = record.unfinished_hosts()
            if not hosts:
                self.notify("Every host of that run finished it.", severity="warning")
                return
            spec = spec.with_targets(hosts)
            note = "relaunch unfinished"
        if as_apply:
            if record.mode != "check":
                self.notify("Only a check run can be turned into an apply.", severity="warning")
                return
            if record.status != "successful" and not confirmed:
                self._confirm_apply_of(record)
                return
            spec = spec.as_apply()
            note = "apply of check run"
            if record.status != "successful":
                note += f" ({record.status})"
        self.open_run_setup(spec, parent_id=record.id, note=note)

    def _confirm_apply_of(self, record: RunRecord) -> None:
        unfinished = record.unfinished_hosts()
        detail = (
            f"{len(unfinished)} host(s) did not finish it ({', '.join(unfinished[:5])}"
            + (", …" if len(unfinished) > 5 else "")
            + "): their changes were never previewed."
            if unfinished
            else "its preview is not a clean one."
        )

        def chosen(choice: str | None) -> None:
            if choice == "apply":
                self.relaunch(record, as_apply=True, confirmed=True)

        self.push_screen(
            ChoiceScreen(
                f"The check run {record.id} {record.status}",
                f"Turning it into an apply runs changes that check did not show: {detail}",
                [
                    ("apply", "Set up the apply anyway", "warning"),
                    ("back", "Back", "primary"),
                ],
            ),
            chosen,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Screen-switching keys are off while the run setup form or a dialog is open."""
        if isinstance(self.screen, RunSetupScreen | ChoiceScreen) and action in (
            "switch_mode",
            "new_run",
            "toggle_theme",
            "quit",
        ):
            return False
        return True

    # -- actions ----------------------------------------------------------------------
    async def action_quit(self) -> None:
        """Quit; with runs still live, ask: wait for them, cancel them, or stay.

        Runs do not outlive the console: the events stream through this process into the
        history, so a run left behind could not be recorded nor closed off (see README).
        """
        live = self.active_runs()
        if not live:
            self.exit()
            return
        names = ", ".join(f"{s.run_id} ({s.spec.playbook})" for s in live)

        def chosen(choice: str | None) -> None:
            if choice == "wait":
                self.quit_when_done = True
                self.notify("Quitting when the run(s) end.", title="Quit")
            elif choice == "cancel":
                for state in live:
                    self.engine.cancel(state)
                self.quit_when_done = True
                self.notify("Cancelling, then quitting.", title="Quit")

        self.push_screen(
            ChoiceScreen(
                f"{len(live)} run(s) still running",
                f"{names}. A run does not outlive the console: quitting now would cut it "
                "short. Wait for it to end and quit, or cancel it (recorded as cancelled) "
                "and quit?",
                [
                    ("wait", "Wait, then quit", "primary"),
                    ("cancel", "Cancel the run(s) and quit", "error"),
                    ("stay", "Stay", "default"),
                ],
            ),
            chosen,
        )

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
