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
    RadioButton,
    RadioSet,
    Select,
    SelectionList,
    Static,
)

from ..argspec import Issue, has_errors, validate_extra_vars
from ..runspec import (
    ACTION_LABELS,
    KNOWN_TAGS,
    STACKS,
    Action,
    RunSpec,
    SpecError,
    parse_extra_vars,
)
from ..switch import stack_switch_problems

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
                    [(label, action.value) for action, label in ACTION_LABELS.items()],
                    value=spec.action.value,
                    allow_blank=False,
                    id="action",
                )
                yield Label("Sites (deploy / remove / switch)")
                yield SelectionList[str](
                    *[(name, name, name in spec.sites) for name in sites], id="sites"
                )
                yield Label("New stack (switch)")
                yield Select(
                    [(s, s) for s in STACKS],
                    value=spec.stack if spec.stack in STACKS else STACKS[1],
                    allow_blank=False,
                    id="stack",
                )
                yield Label("Targets: hosts, groups or patterns (empty = all wsgi_servers)")
                yield Input(
                    value=" ".join(spec.targets), placeholder="web1 web:!web2", id="targets"
                )
                yield Label("Tags")
                yield SelectionList[str](*[(t, t, t in spec.tags) for t in KNOWN_TAGS], id="tags")
                yield Label("Mode")
                with RadioSet(id="mode"):
                    yield RadioButton("Check + diff (dry run)", value=spec.check, id="mode-check")
                    yield RadioButton("Apply", value=not spec.check, id="mode-apply")
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
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_preview()

    # -- building the spec ------------------------------------------------------------
    def current_spec(self) -> RunSpec:
        action = Action(str(self.query_one("#action", Select).value))
        sites = tuple(self.query_one("#sites", SelectionList).selected)
        stack_value = self.query_one("#stack", Select).value
        targets = tuple(self.query_one("#targets", Input).value.split())
        tags = tuple(self.query_one("#tags", SelectionList).selected)
        check = self.query_one("#mode-check", RadioButton).value
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
            extra_vars=extra,
            forks=self.initial.forks,
        )

    def needs_confirmation(self, spec: RunSpec) -> bool:
        inv = self.console.inventory
        return bool(inv and inv.is_production and not spec.check)

    def refresh_preview(self) -> None:
        spec = self.current_spec()
        inv = self.console.inventory
        self.problems.extend(spec.validate())
        self.issues = validate_extra_vars(spec.extra_vars, self.console.argspecs)
        hosts = inv.target_hosts(spec.limit) if inv else []
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
        lines.append(_escape(spec.command_line(self.console.redactor())))
        for problem in self.problems:
            lines.append(f"[bold red]✘ {_escape(problem)}[/]")
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
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    @on(RadioSet.Changed)
    @on(Input.Changed, "#targets, #extra")
    def _changed(self) -> None:
        self.refresh_preview()

    @on(Button.Pressed, "#launch")
    def _launch_pressed(self) -> None:
        self.action_launch()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_dismiss_setup()

    def action_launch(self) -> None:
        self.refresh_preview()
        spec = self.current_spec()
        self.problems.extend(spec.validate())
        inv = self.console.inventory
        hosts = inv.target_hosts(spec.limit) if inv is not None else []
        if inv is not None and not hosts:
            self.problems.append("no target host")
        if inv is not None and spec.action is Action.SWITCH_STACK and spec.stack:
            self.problems.extend(stack_switch_problems(inv, hosts, spec.sites, spec.stack))
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
