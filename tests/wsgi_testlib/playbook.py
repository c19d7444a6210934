"""Run the collection's playbooks for real against the test containers and read the results."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parents[2]
_RECAP_RE = re.compile(
    r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M
)

_TASK_RE = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.+?)\] \**$")


@dataclass
class Run:
    rc: int
    output: str

    def changed_tasks(self) -> list[str]:
        """Names of the tasks that reported a change on some host, in order."""
        changed: list[str] = []
        task = ""
        for line in self.output.splitlines():
            header = _TASK_RE.match(line)
            if header:
                task = header.group(1)
            elif line.startswith("changed:") and task and task not in changed:
                changed.append(task)
        return changed

    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP counts per host."""
        return {
            m.group(1): {
                "ok": int(m.group(2)),
                "changed": int(m.group(3)),
                "unreachable": int(m.group(4)),
                "failed": int(m.group(5)),
            }
            for m in _RECAP_RE.finditer(self.output)
        }


def _env(env: dict[str, str] | None) -> dict[str, str]:
    full_env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PY_COLORS": "0",
    }
    full_env["ANSIBLE_ROLES_PATH"] = str(PROJECT / "roles")
    full_env.update(env or {})
    return full_env


def run_playbook(
    playbook: str,
    inventory: str | Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: int = 900,
) -> Run:
    """ansible-playbook from the project root with the project's ansible.cfg."""
    proc = subprocess.run(
        ["ansible-playbook", playbook, "-i", str(inventory), *args],
        cwd=PROJECT,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout + proc.stderr)


def run_playbook_until(
    playbook: str,
    inventory: str | Path,
    task: str,
    *args: str,
    timeout: int = 900,
) -> Run:
    """Run a playbook and SIGKILL it (with every process it started) the moment the header of
    `task` is printed: an interrupted run at a known point. rc is -9 when it was killed."""
    proc = subprocess.Popen(
        ["ansible-playbook", playbook, "-i", str(inventory), *args],
        cwd=PROJECT,
        env=_env({"PYTHONUNBUFFERED": "1"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    killed = False
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            lines.append(line)
            header = _TASK_RE.match(line.rstrip("\n"))
            if header and task in header.group(1):
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    rc = -9 if killed else proc.returncode
    return Run(rc, "".join(lines))


def write_inventory(path: Path, hosts: list[str], group_vars: dict[str, Any]) -> Path:
    """A YAML inventory with the given containers in wsgi_servers (Docker connection)."""
    inventory = {
        "all": {
            "children": {
                "wsgi_servers": {
                    "hosts": {
                        h: {"ansible_connection": "community.docker.docker", "ansible_host": h}
                        for h in hosts
                    },
                    "vars": group_vars,
                }
            }
        }
    }
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


def molecule_inventory() -> str:
    """The inventory Molecule made for the running scenario."""
    return os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "inventory")


JSON_CALLBACK = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}


def json_report(output: str) -> dict[str, Any]:
    """The report of a run made with the json callback (JSON_CALLBACK)."""
    report, _ = json.JSONDecoder().raw_decode(output[output.index("{") :])
    return report


def _failure_text(result: dict[str, Any]) -> str:
    items = [str(item.get("msg", "")) for item in result.get("results", []) if item.get("failed")]
    return " ".join(" ".join([str(result.get("msg", "")), *items]).split())


def first_failures(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Per host, (task name, message) of the first task that failed on it."""
    out: dict[str, tuple[str, str]] = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed") and host not in out:
                    out[host] = (task["task"]["name"], _failure_text(result))
    return out


# Actions that run on the controller only: they make no call to the target.
CONTROLLER_ACTIONS = {
    "set_fact", "assert", "debug", "fail", "include_role", "include_tasks", "import_role",
    "import_tasks", "meta", "validate_argument_spec", "add_host", "group_by", "set_stats", "pause",
}  # fmt: skip


def _short(action: str) -> str:
    return action.rsplit(".", 1)[-1]


def remote_calls(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per host, the module runs a playbook made on it (from the json callback's report): every
    task or loop item that ran (not skipped) whose action is not controller-only and that was not
    delegated to the controller. Returns {host: {task name: calls}}."""
    calls: dict[str, dict[str, int]] = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if _short(str(result.get("action", ""))) in CONTROLLER_ACTIONS:
                    continue
                items = result.get("results")
                if items is None:
                    count = (
                        0 if result.get("skipped") or result.get("_ansible_delegated_vars") else 1
                    )
                else:
                    count = sum(
                        1
                        for i in items
                        if not i.get("skipped") and not i.get("_ansible_delegated_vars")
                    )
                if count:
                    per = calls.setdefault(host, {})
                    per[task["task"]["name"]] = per.get(task["task"]["name"], 0) + count
    return calls
