"""Run setup: action, targets, tags, check/apply, verbosity, extra vars, preview, confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Footer,
    Header,
    Input,
    Label,
    RadioSet,
    Select,
    SelectionList,
    Static,
)

from ..argspec import Issue, has_errors, validate_extra_vars
from ..runspec import (
    ACTION_LABELS,
    LAUNCH_ACTIONS,
    STACKS,
    Action,
    RunSpec,
    SpecError,
    parse_extra_vars,
)
from ..switch import current_stacks, other_stack, stack_switch_problems, switch_noops
from .widgets import MarkedRadioButton, MarkedSelectionList

if TYPE_CHECKING:
    from ..app import WsgiConsole

MAX_PREVIEW_HOSTS = 40


class RunSetupScreen(Screen[None]):
    """Compose a RunSpec; launching hands it to the app (which owns the run)."""

    BINDINGS = [
        Binding("ctrl+s", "launch", "Launch", priority=True),
        Binding("escape", "dismiss_setup", "Back"),
    ]

    def __init__(self, spec: RunSpec, parent_id: str | None = None, note: str = "") -> None:
        super().__init__()
        self.initial = spec
        self.parent_id = parent_id
        self.note = note
        self.issues: list[Issue] = []
        self.problems: list[str] = []
        self.warnings: list[str] = []
        # The switch's stack follows the selected sites (the other stack) until the operator
        # picks one.
        self._stack_chosen = spec.stack in STACKS
        self._auto_stack: str | None = None  # the value this screen set (not the operator)

    @property
    def console(self) -> WsgiConsole:
        return cast("WsgiConsole", self.app)

    def compose(self) -> ComposeResult:
        spec = self.initial
        inv = self.console.inventory
        sites = inv.site_names() if inv else []
        yield Header()
        with Horizontal(id="setup-body"):
            with VerticalScroll(id="setup-form"):
                if self.note:
                    yield Static(f"[b]{self.note}[/] of run {self.parent_id}", id="setup-note")
                yield Label("Action")
                yield Select(
                    [(ACTION_LABELS[action], action.value) for action in LAUNCH_ACTIONS],
                    value=spec.action.value,
                    allow_blank=False,
                    id="action",
                )
                yield Label("Sites (deploy / remove / switch / roll back)")
                yield MarkedSelectionList(
                    *[(name, name, name in spec.sites) for name in sites], id="sites"
                )
                yield Label("New stack (switch)")
                self._auto_stack = self._default_stack(spec)
                yield Select(
                    [(s, s) for s in STACKS],
                    value=spec.stack if spec.stack in STACKS else self._auto_stack,
                    allow_blank=False,
                    id="stack",
                )
                yield Label("Release id (rollback; empty = each site's previous release)")
                yield Input(
                    value=spec.release or "", placeholder="20261201T120000Z-3f2a9c1b", id="release"
                )
                yield Label("Targets: hosts, groups or patterns (empty = all wsgi_servers)")
                yield Input(
                    value=" ".join(spec.targets), placeholder="web1 web:!web2", id="targets"
                )
                yield Label("Tags")
                tags = list(dict.fromkeys([*self.console.tags, *spec.tags]))
                yield MarkedSelectionList(*[(t, t, t in spec.tags) for t in tags], id="tags")
                yield Label("Mode")
                with RadioSet(id="mode"):
                    yield MarkedRadioButton(
                        "Check + diff (dry run)", value=spec.check, id="mode-check"
                    )
                    yield MarkedRadioButton("Apply", value=not spec.check, id="mode-apply")
                yield Label("Verbosity")
                yield Select(
                    [("normal", 0), ("-v", 1), ("-vv", 2), ("-vvv", 3), ("-vvvv", 4)],
                    value=spec.verbosity,
                    allow_blank=False,
                    id="verbosity",
                )
                yield Label("Extra vars (YAML mapping or key=value …)")
                yield Input(
                    value=_extra_text(spec.extra_vars),
                    placeholder="apache_listen_port=8080",
                    id="extra",
                )
            with Vertical(id="setup-preview"):
                yield Static("", id="preview")
                yield Input(placeholder="type the inventory name to confirm", id="confirm")
                with Horizontal(id="setup-buttons"):
                    yield Button("Launch (ctrl+s)", variant="primary", id="launch")
                    yield Button("Back", id="back")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refresh_preview()

    def _default_stack(self, spec: RunSpec) -> str:
        """The other stack of the selected sites (when they are on one), else nginx_gunicorn."""
        inv = self.console.inventory
        if inv is not None:
            hosts = inv.target_hosts(spec.limit)
            stacks: set[str] = set()
            for on in current_stacks(inv, hosts, spec.sites or tuple(inv.site_names())).values():
                stacks |= on
            choice = other_stack(stacks, STACKS)
            if choice:
                return choice
        return STACKS[1]

    # -- building the spec ------------------------------------------------------------
    def current_spec(self) -> RunSpec:
        action = Action(str(self.query_one("#action", Select).value))
        sites = tuple(self.query_one("#sites", SelectionList).selected)
        stack_value = self.query_one("#stack", Select).value
        targets = tuple(self.query_one("#targets", Input).value.split())
        release = self.query_one("#release", Input).value.strip() or None
        tags = tuple(self.query_one("#tags", SelectionList).selected)
        check = self.query_one("#mode-check", MarkedRadioButton).value
        verbosity = self.query_one("#verbosity", Select).value
        extra_text = self.query_one("#extra", Input).value
        self.problems = []
        try:
            extra = parse_extra_vars(extra_text)
        except SpecError as exc:
            extra = {}
            self.problems.append(str(exc))
        return RunSpec(
            inventory=self.initial.inventory,
            project_dir=self.initial.project_dir,
            action=action,
            targets=targets,
            tags=tags,
            skip_tags=self.initial.skip_tags,
            check=bool(check),
            diff=bool(check) or self.initial.diff,
            verbosity=int(cast(Any, verbosity)) if isinstance(verbosity, int) else 0,
            sites=sites,
            stack=str(stack_value) if action is Action.SWITCH_STACK else None,
            release=release if action is Action.ROLLBACK else None,
            extra_vars=extra,
            forks=self.initial.forks,
        )

    def needs_confirmation(self, spec: RunSpec) -> bool:
        inv = self.console.inventory
        return bool(inv and inv.is_production and not spec.check)

    def refresh_preview(self) -> RunSpec:
        """Rebuild the spec from the form, gather its problems, show the preview."""
        spec = self.current_spec()
        inv = self.console.inventory
        self.problems.extend(spec.validate())
        self.problems.extend(self.console.project_problems)
        if inv is not None and inv.from_cache:
            self.problems.append(
                "the inventory is still being read (this is the cached view): a moment…"
            )
        self.warnings = []
        self.issues = validate_extra_vars(spec.extra_vars, self.console.argspecs)
        hosts = inv.target_hosts(spec.limit) if inv else []
        if inv and spec.action is Action.SWITCH_STACK and spec.stack and spec.sites:
            already, noop = switch_noops(inv, hosts, spec.sites, spec.stack)
            if noop:
                self.problems.append(
                    f"no-op: {', '.join(already)} already on {spec.stack} on every target "
                    "host (choose the other stack, or another action)"
                )
            elif already:
                self.warnings.append(
                    f"{', '.join(already)} already on {spec.stack}: only the others move"
                )
        lines: list[str] = []
        lines.append(
            f"[b]{ACTION_LABELS[spec.action]}[/] — [b]{spec.mode}[/]"
            + (" + diff" if spec.diff else "")
        )
        lines.append(f"[b]Target hosts ({len(hosts)})[/]")
        shown = ", ".join(hosts[:MAX_PREVIEW_HOSTS])
        if len(hosts) > MAX_PREVIEW_HOSTS:
            shown += f", … (+{len(hosts) - MAX_PREVIEW_HOSTS})"
        lines.append(shown or "[bold red]no host matches[/]")
        if not hosts:
            self.problems.append("no target host")
        if inv and spec.action is Action.SWITCH_STACK and spec.stack:
            self.problems.extend(stack_switch_problems(inv, hosts, spec.sites, spec.stack))
        lines.append("")
        lines.append("[b]Command[/]")
        preview = spec.for_run("<run id>", self.console.engine.run_by)
        lines.append(_escape(preview.command_line(self.console.redactor())))
        for problem in self.problems:
            lines.append(f"[bold red]✘ {_escape(problem)}[/]")
        for warning in self.warnings:
            lines.append(f"[yellow]⚠ {_escape(warning)}[/]")
        for issue in self.issues:
            color = "red" if issue.level == "error" else "yellow"
            lines.append(
                f"[{color}]{issue.level}: {_escape(issue.path)}: {_escape(issue.message)}[/]"
            )
        confirm = self.query_one("#confirm", Input)
        if self.needs_confirmation(spec):
            assert inv is not None
            lines.append("")
            lines.append(
                f"[bold white on red] PRODUCTION [/] type [b]{inv.name}[/] "
                "below to confirm the apply"
            )
            confirm.display = True
        else:
            confirm.display = False
        self.query_one("#preview", Static).update("\n".join(lines))
        return spec

    def can_launch(self, spec: RunSpec) -> tuple[bool, str]:
        if self.problems:
            return False, self.problems[0]
        if has_errors(self.issues):
            return False, "extra vars do not match the roles' argument specs"
        if self.needs_confirmation(spec):
            inv = self.console.inventory
            assert inv is not None
            if self.query_one("#confirm", Input).value.strip() != inv.name:
                return False, f"type {inv.name!r} to confirm an apply on production"
        return True, ""

    # -- events -----------------------------------------------------------------------
    @on(Select.Changed, "#stack")
    def _stack_changed(self, event: Select.Changed) -> None:
        if event.value != self._auto_stack:
            self._stack_chosen = True
        self.refresh_preview()

    @on(SelectionList.SelectedChanged, "#sites")
    @on(Input.Changed, "#targets")
    def _selection_changed(self) -> None:
        if not self._stack_chosen:
            spec = self.current_spec()
            default = self._default_stack(spec)
            stack = self.query_one("#stack", Select)
            if stack.value != default:
                self._auto_stack = default
                stack.value = default
        self.refresh_preview()

    @on(Select.Changed, "#action, #verbosity")
    @on(SelectionList.SelectedChanged, "#tags")
    @on(RadioSet.Changed)
    @on(Input.Changed, "#extra")
    def _changed(self) -> None:
        self.refresh_preview()

    @on(Button.Pressed, "#launch")
    def _launch_pressed(self) -> None:
        self.action_launch()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_dismiss_setup()

    def action_launch(self) -> None:
        # refresh_preview gathers every problem (spec, project, targets, switch rules, no-op)
        # exactly as the preview shows them.
        spec = self.refresh_preview()
        ok, reason = self.can_launch(spec)
        if not ok:
            self.notify(reason, severity="error", title="Cannot launch")
            return
        self.app.pop_screen()
        self.console.launch(spec, parent_id=self.parent_id, note=self.note)

    def action_dismiss_setup(self) -> None:
        self.app.pop_screen()


def _extra_text(extra: dict[str, Any]) -> str:
    if not extra:
        return ""
    import json

    return json.dumps(extra)


def _escape(text: str) -> str:
    return text.replace("[", "\\[")
