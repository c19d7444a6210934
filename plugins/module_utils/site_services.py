"""The long-running processes and scheduled jobs of a site (`processes`, `timers`): their
validation and their normalised form (README "Workers and scheduled jobs").

Each process is a systemd service `wsgi-<site>-<name>.service`, each timer a oneshot service and
a timer `wsgi-<site>-<name>.{service,timer}` (role wsgi_workers). Both run their command through
the site's `bin/run` wrapper (the current release, the site's environment, the venv first on
PATH) as the site's user. A command is a string (split like a shell would, without expanding
anything) or an argument vector; every argument is written into the unit's ExecStart= quoted the
systemd way (`%` and `$` escaped), so what the program receives is exactly what the site says.

Pure Python: the site model imports it on the controller, in the console and on targets.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

Report = Callable[[str, str], None]

SERVICE_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
PROCESS_KEYS = {"run", "restart_sec"}
TIMER_KEYS = {"run", "on_calendar"}
DEFAULT_RESTART_SEC = 2
# systemd's limit on a unit name (with its suffix).
UNIT_NAME_MAX = 255
# What an OnCalendar= expression is made of ("daily", "Mon..Fri 09:00", "*:*:0/10",
# "2026-01-01 00:00:00 UTC"); systemd-analyze verify checks the rest before anything runs.
CALENDAR_RE = re.compile(r"^[A-Za-z0-9*][A-Za-z0-9 :*/,.~+_-]{0,127}$")
# Any ASCII control character (TAB included): none may reach a unit file.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# An argument written as is (no quoting needed in ExecStart=).
PLAIN_ARG_RE = re.compile(r"^[A-Za-z0-9_./:=@+,-]+$")
MAX_ARGS = 256
# Where the role wsgi_workers writes the units (wsgi_workers_unit_dir's default), the names they
# have and the marker every one of them carries (wsgi_workers_marker; a unit test keeps the two
# equal): the host checks find the units the role wrote with these.
UNIT_DIR = "/etc/systemd/system"
UNIT_PATTERNS = ["wsgi-*.service", "wsgi-*.timer"]
UNIT_MARKER = "Managed by Ansible (role wsgi_workers)"


def unit_base(site_name: str, name: str) -> str:
    return f"wsgi-{site_name}-{name}"


def _command(value: Any) -> tuple[list[str] | None, str]:
    """The argument vector of a command (a string or a list), or None and why not."""
    if isinstance(value, str):
        if CONTROL_RE.search(value):
            return None, "must be a single line without control characters"
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            return None, f"{value!r} cannot be split into arguments ({exc})"
    elif isinstance(value, list):
        if not all(isinstance(a, str) for a in value):
            return None, "must be a list of strings (the argument vector)"
        argv = list(value)
        if any(CONTROL_RE.search(a) for a in argv):
            return None, "arguments must not contain control characters (newline, tab, ...)"
    else:
        return None, "must be a command: a string or a list of arguments"
    if not argv or not argv[0]:
        return None, "must name a program (it runs in the site's current release)"
    if len(argv) > MAX_ARGS:
        return None, f"has more than {MAX_ARGS} arguments"
    return argv, ""


def _entries(site: dict[str, Any], field: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, long form) of each entry of `processes` or `timers` (unchecked)."""
    raw = site.get(field) or {}
    out = []
    for name, value in raw.items() if isinstance(raw, dict) else []:
        out.append((name, value if isinstance(value, dict) else {"run": value}))
    return out


def check_services(site: dict[str, Any], err: Report) -> None:
    site_name = site.get("name") if isinstance(site.get("name"), str) else ""
    seen: dict[str, str] = {}
    for field, keys in (("processes", PROCESS_KEYS), ("timers", TIMER_KEYS)):
        raw = site.get(field)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            what = "name -> command" if field == "processes" else "name -> {run, on_calendar}"
            err(field, f"must be a mapping of {what}")
            continue
        for name, spec in _entries(site, field):
            label = f"{field}.{name}"
            if not isinstance(name, str) or not SERVICE_NAME_RE.match(name):
                err(
                    f"{field}.{name}",
                    f"{name!r} must be 1-31 characters of a-z, 0-9 or '-', starting with a letter",
                )
                continue
            if name in seen:
                err(
                    label,
                    f"{name!r} is also the name of an entry of '{seen[name]}' (one unit each)",
                )
                continue
            seen[name] = field
            if len(unit_base(site_name, name)) + len(".service") > UNIT_NAME_MAX:
                err(label, "makes a unit name longer than systemd allows")
            for key in sorted(set(spec) - keys):
                err(f"{label}.{key}", f"unknown option (known: {', '.join(sorted(keys))})")
            if "run" not in spec:
                err(f"{label}.run", "is required: the command (a string or a list of arguments)")
            else:
                _argv, problem = _command(spec["run"])
                if problem:
                    err(f"{label}.run" if isinstance(site[field][name], dict) else label, problem)
            if field == "processes":
                sec = spec.get("restart_sec")
                if sec is not None and (
                    not isinstance(sec, (int, float)) or isinstance(sec, bool) or sec < 0
                ):
                    err(f"{label}.restart_sec", f"{sec!r} must be a number of seconds >= 0")
            else:
                cal = spec.get("on_calendar")
                if cal is None:
                    err(
                        f"{label}.on_calendar",
                        "is required: when the job runs, a systemd calendar expression "
                        "('daily', 'Mon..Fri 09:00', '*:*:0/10')",
                    )
                elif not isinstance(cal, str) or not CALENDAR_RE.match(cal):
                    err(
                        f"{label}.on_calendar",
                        f"{cal!r} must be a systemd calendar expression such as 'daily', "
                        "'*-*-* 03:00:00' or '*:*:0/10' (letters, digits, spaces and : * / , . "
                        "~ + _ - only)",
                    )


def exec_quote(arg: str) -> str:
    """One argument as ExecStart= must spell it to pass it on unchanged: specifiers (%) and
    variables ($) escaped, anything else but plain characters inside double quotes with \\ and
    " escaped (a lone ';' would separate commands)."""
    if PLAIN_ARG_RE.match(arg):
        return arg
    if arg == ";":
        return "\\;"
    body = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{body}"'


def exec_args(argv: list[str]) -> str:
    return " ".join(exec_quote(a) for a in argv)


def normalize_services(site: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The site's processes and timers as the role wsgi_workers writes them. An absent site has
    none (its units are found on the host by their marker and removed)."""
    del settings  # the host settings add nothing yet (kept for the model's calling convention)
    processes: list[dict[str, Any]] = []
    timers: list[dict[str, Any]] = []
    if site.get("state", "present") == "absent":
        return {"processes": processes, "timers": timers, "units": []}
    for name, spec in _entries(site, "processes"):
        argv, _problem = _command(spec.get("run"))
        base = unit_base(site["name"], name)
        processes.append(
            {
                "name": name,
                "unit": f"{base}.service",
                "argv": argv or [],
                "exec_args": exec_args(argv or []),
                "restart_sec": spec.get("restart_sec", DEFAULT_RESTART_SEC),
            }
        )
    for name, spec in _entries(site, "timers"):
        argv, _problem = _command(spec.get("run"))
        base = unit_base(site["name"], name)
        timers.append(
            {
                "name": name,
                "service": f"{base}.service",
                "timer": f"{base}.timer",
                "argv": argv or [],
                "exec_args": exec_args(argv or []),
                "on_calendar": str(spec.get("on_calendar", "")),
            }
        )
    units = [p["unit"] for p in processes] + [u for t in timers for u in (t["service"], t["timer"])]
    return {"processes": processes, "timers": timers, "units": units}


def unit_paths(site: dict[str, Any]) -> list[str]:
    """The unit files of a normalised site's processes and timers (its deployed-state record
    fingerprints them: a run that died after writing them restarts them next time)."""
    return [f"{UNIT_DIR}/{u}" for u in (site.get("services") or {}).get("units") or []]


def unit_clashes(sites: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Units two present sites would both write (site 'a' process 'b-c' and site 'a-b' process
    'c' are both wsgi-a-b-c.service). `sites`: (label, raw site) of the present sites."""
    errs: list[str] = []
    owner: dict[str, str] = {}
    for label, site in sites:
        if not isinstance(site.get("name"), str):
            continue
        for field in ("processes", "timers"):
            for name, _spec in _entries(site, field):
                if not isinstance(name, str):
                    continue
                base = unit_base(site["name"], name)
                if base in owner and owner[base] != site["name"]:
                    errs.append(
                        f"{label}: field '{field}.{name}': its unit {base} is also a unit of "
                        f"site '{owner[base]}' (rename one of them)"
                    )
                owner.setdefault(base, site["name"])
    return errs
