"""What to run: a run specification, turned into ansible-runner arguments and a command line."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from . import sitemodel
from .redact import MASK, Redactor, is_secret_key


class Action(StrEnum):
    SITE = "site"
    DEPLOY_SITES = "deploy_sites"
    REMOVE_SITE = "remove_site"
    SWITCH_STACK = "switch_stack"
    ROLLBACK = "rollback"
    PREFLIGHT = "preflight"
    STATUS = "status"  # read-only: the deployed-state records (the matrix reads them)


ACTION_LABELS: dict[Action, str] = {
    Action.SITE: "Full site.yml",
    Action.DEPLOY_SITES: "Deploy selected sites",
    Action.REMOVE_SITE: "Remove a site",
    Action.SWITCH_STACK: "Switch sites to another stack",
    Action.ROLLBACK: "Roll sites back to their previous release",
    Action.PREFLIGHT: "Preflight checks only",
}
# Actions an operator launches from the run setup (STATUS is the matrix's own reading).
LAUNCH_ACTIONS = tuple(ACTION_LABELS)
ACTION_LABELS[Action.STATUS] = "Read the deployed state"

ACTION_PLAYBOOKS: dict[Action, str] = {
    Action.SITE: "site.yml",
    Action.DEPLOY_SITES: "site.yml",
    Action.REMOVE_SITE: "playbooks/remove_site.yml",
    Action.SWITCH_STACK: "site.yml",
    Action.ROLLBACK: "playbooks/rollback.yml",
    Action.PREFLIGHT: "playbooks/preflight.yml",
    Action.STATUS: "playbooks/status.yml",
}

STACKS: tuple[str, ...] = tuple(sitemodel.stacks())  # the collection's stack registry
KNOWN_TAGS: tuple[str, ...] = ("preflight", "hosts", "venv", "app", "apache", "nginx", "gunicorn")
DEFAULT_GROUP = "wsgi_servers"


class SpecError(ValueError):
    """A run specification that cannot be launched."""


@dataclass(frozen=True)
class RunSpec:
    """Everything needed to launch one ansible-playbook run."""

    inventory: str
    project_dir: str
    action: Action = Action.SITE
    targets: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    skip_tags: tuple[str, ...] = ()
    check: bool = True
    diff: bool = True
    verbosity: int = 0
    sites: tuple[str, ...] = ()
    stack: str | None = None
    release: str | None = None  # a rollback's target release id (None: the previous one)
    extra_vars: dict[str, Any] = field(default_factory=dict)
    forks: int | None = None
    # Who runs it and as which run: passed to the playbooks (``wsgi_run_id``, ``wsgi_run_by``),
    # which record them in each site's deployed-state record. Set at launch (for_run), never
    # stored with the spec (a relaunch is a new run).
    run_id: str = ""
    run_by: str = ""

    # -- derived values ---------------------------------------------------------------
    @property
    def mode(self) -> str:
        return "check" if self.check else "apply"

    @property
    def playbook(self) -> str:
        return ACTION_PLAYBOOKS[self.action]

    @property
    def playbook_path(self) -> str:
        return str(Path(self.project_dir) / self.playbook)

    @property
    def limit(self) -> str | None:
        targets = [t.strip() for t in self.targets if t.strip()]
        return ":".join(targets) if targets else None

    @property
    def host_pattern(self) -> str:
        """The pattern that selects target hosts: the playbooks' group, narrowed by the limit."""
        return self.limit or DEFAULT_GROUP

    def validate(self) -> list[str]:
        """Problems that prevent a launch (empty when the spec is launchable)."""
        problems: list[str] = []
        if self.action in (
            Action.DEPLOY_SITES,
            Action.REMOVE_SITE,
            Action.SWITCH_STACK,
            Action.ROLLBACK,
        ):
            if not self.sites:
                problems.append(f"{ACTION_LABELS[self.action]}: choose at least one site")
        if self.action is Action.REMOVE_SITE and len(self.sites) > 1:
            problems.append(f"{ACTION_LABELS[self.action]}: choose exactly one site")
        if self.action is Action.SWITCH_STACK and self.stack not in STACKS:
            problems.append(f"Switch stack: choose a stack among {', '.join(STACKS)}")
        if not 0 <= self.verbosity <= 4:
            problems.append("verbosity must be between 0 and 4")
        return problems

    def action_vars(self) -> dict[str, Any]:
        """Extra vars implied by the action (the playbooks' contract)."""
        if self.action is Action.DEPLOY_SITES:
            return {"wsgi_only_sites": list(self.sites)}
        if self.action is Action.REMOVE_SITE:
            return {"wsgi_remove_site": self.sites[0]} if self.sites else {}
        if self.action is Action.ROLLBACK:
            rollback: dict[str, Any] = {"wsgi_rollback_sites": list(self.sites)}
            if self.release:
                rollback["wsgi_rollback_to"] = self.release
            return rollback
        if self.action is Action.SWITCH_STACK and self.sites:
            return {
                "wsgi_only_sites": list(self.sites),
                "wsgi_stack_overrides": {site: self.stack for site in self.sites},
            }
        return {}

    def all_extra_vars(self) -> dict[str, Any]:
        merged = dict(self.extra_vars)
        merged.update(self.action_vars())
        if self.run_id:
            merged["wsgi_run_id"] = self.run_id
        if self.run_by:
            merged["wsgi_run_by"] = self.run_by
        return merged

    def cmdline_args(self) -> list[str]:
        args: list[str] = []
        if self.check:
            args.append("--check")
        if self.diff:
            args.append("--diff")
        return args

    # -- ansible-runner ---------------------------------------------------------------------
    def runner_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``ansible_runner.run``/``run_async`` (callbacks excluded)."""
        kwargs: dict[str, Any] = {
            "playbook": self.playbook_path,
            "project_dir": self.project_dir,
            "inventory": self.inventory,
            "verbosity": self.verbosity or None,
            "quiet": True,
            "suppress_env_files": True,
        }
        if self.limit:
            kwargs["limit"] = self.limit
        if self.tags:
            kwargs["tags"] = ",".join(self.tags)
        if self.skip_tags:
            kwargs["skip_tags"] = ",".join(self.skip_tags)
        if self.forks:
            kwargs["forks"] = self.forks
        extra = self.all_extra_vars()
        if extra:
            kwargs["extravars"] = extra
        cmdline = self.cmdline_args()
        if cmdline:
            kwargs["cmdline"] = shlex.join(cmdline)
        return kwargs

    def argv(
        self, redactor: Redactor | None = None, executable: str = "ansible-playbook"
    ) -> list[str]:
        """The command ansible-runner builds from :meth:`runner_kwargs`, in the same order.

        With a redactor, secret extra vars (by name or by value) are masked.
        """
        argv = [executable, *self.cmdline_args(), "-i", self.inventory]
        if self.limit:
            argv += ["--limit", self.limit]
        extra = self.all_extra_vars()
        if extra:
            if redactor is not None:
                extra = redactor.data(extra)
            # Same serialisation as ansible-runner's RunnerConfig.generate_ansible_command.
            pairs = ",".join(f'"{k}":{json.dumps(v)}' for k, v in extra.items())
            argv += ["-e", "{" + pairs + "}"]
        if self.verbosity:
            argv.append("-" + "v" * self.verbosity)
        if self.tags:
            argv += ["--tags", ",".join(self.tags)]
        if self.skip_tags:
            argv += ["--skip-tags", ",".join(self.skip_tags)]
        if self.forks:
            argv += ["--forks", str(self.forks)]
        argv.append(self.playbook_path)
        return argv

    def command_line(self, redactor: Redactor | None = None) -> str:
        """The printable command line, secrets redacted."""
        return shlex.join(self.argv(redactor or Redactor()))

    # -- variations -------------------------------------------------------------------
    def as_apply(self) -> RunSpec:
        return replace(self, check=False)

    def with_targets(self, targets: list[str] | tuple[str, ...]) -> RunSpec:
        return replace(self, targets=tuple(targets))

    def for_run(self, run_id: str, run_by: str) -> RunSpec:
        return replace(self, run_id=run_id, run_by=run_by)

    # -- persistence ------------------------------------------------------------------
    def to_dict(self, redactor: Redactor | None = None) -> dict[str, Any]:
        data = asdict(self)
        del data["run_id"], data["run_by"]
        data["action"] = self.action.value
        data["extra_vars"] = (redactor or Redactor()).data(self.extra_vars)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        return cls(
            inventory=str(data["inventory"]),
            project_dir=str(data["project_dir"]),
            action=Action(data.get("action", Action.SITE.value)),
            targets=tuple(data.get("targets", ())),
            tags=tuple(data.get("tags", ())),
            skip_tags=tuple(data.get("skip_tags", ())),
            check=bool(data.get("check", True)),
            diff=bool(data.get("diff", True)),
            verbosity=int(data.get("verbosity", 0)),
            sites=tuple(data.get("sites", ())),
            stack=data.get("stack"),
            extra_vars=dict(data.get("extra_vars", {})),
            forks=data.get("forks"),
        )


def has_masked_values(extra_vars: dict[str, Any]) -> bool:
    """True when a stored spec lost secret values to redaction (it cannot be relaunched as is)."""
    for key, value in extra_vars.items():
        if is_secret_key(key) or value == MASK:
            return True
        if isinstance(value, dict) and has_masked_values(value):
            return True
    return False


def parse_extra_vars(text: str) -> dict[str, Any]:
    """Parse operator-typed extra vars: a YAML/JSON mapping, or ``key=value`` pairs.

    ``key=value`` values are read as YAML scalars (``3`` is an int, ``true`` a bool, ``[a, b]``
    a list). Raises :class:`SpecError` on anything else.
    """
    text = text.strip()
    if not text:
        return {}
    if "=" in text and ":" not in text.split("=", 1)[0] and not text.startswith("{"):
        result: dict[str, Any] = {}
        try:
            tokens = shlex.split(text)
        except ValueError as exc:
            raise SpecError(f"extra vars: {exc}") from exc
        for token in tokens:
            if "=" not in token:
                raise SpecError(f"extra vars: expected key=value, got {token!r}")
            key, raw = token.split("=", 1)
            if not key.isidentifier():
                raise SpecError(f"extra vars: invalid variable name {key!r}")
            try:
                result[key] = yaml.safe_load(raw) if raw else ""
            except yaml.YAMLError:
                result[key] = raw
        return result
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"extra vars: invalid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise SpecError("extra vars: expected a mapping (key: value) or key=value pairs")
    for key in loaded:
        if not isinstance(key, str) or not key.isidentifier():
            raise SpecError(f"extra vars: invalid variable name {key!r}")
    return loaded
