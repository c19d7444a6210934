"""Run the collection's playbooks for real against the test containers and read the results."""

from __future__ import annotations

import os
import re
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


def run_playbook(
    playbook: str,
    inventory: str | Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: int = 900,
) -> Run:
    """ansible-playbook from the project root with the project's ansible.cfg."""
    full_env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PY_COLORS": "0",
    }
    full_env["ANSIBLE_ROLES_PATH"] = str(PROJECT / "roles")
    full_env.update(env or {})
    proc = subprocess.run(
        ["ansible-playbook", playbook, "-i", str(inventory), *args],
        cwd=PROJECT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout + proc.stderr)


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
