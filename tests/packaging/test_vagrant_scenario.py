"""molecule/vagrant, as far as a machine that cannot boot virtual machines (nor has vagrant) can
check it: the driver installs with the pinned stack, Molecule loads and validates the scenario,
its playbooks pass a syntax check with the inventory Molecule would make, and the verifier tests
it points at are collected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCENARIO = ROOT / "molecule" / "vagrant"
CONFIG = yaml.safe_load((SCENARIO / "molecule.yml").read_text())


def _run(*argv: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    command = [str(BIN / str(argv[0])), *map(str, argv[1:])]
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    full_env = {
        **os.environ,
        "PATH": path,
        "NO_COLOR": "1",
        "PY_COLORS": "0",
        "ANSIBLE_NOCOLOR": "1",
    }
    proc = subprocess.run(
        command,
        cwd=cwd,
        env={**full_env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"{command}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_the_vagrant_driver_installs_with_the_pinned_stack() -> None:
    assert "vagrant" in _run("molecule", "drivers").split()
    _run("python", "-c", "import vagrant; from molecule_plugins.vagrant.driver import Vagrant")


def test_molecule_loads_and_validates_the_scenario() -> None:
    out = _run("molecule", "list", "-s", "vagrant", "--format", "yaml")
    listed = yaml.safe_load(out)
    platforms = [p["name"] for p in CONFIG["platforms"]]
    assert sorted(i["Instance Name"] for i in listed) == sorted(platforms)
    assert {i["Driver Name"] for i in listed} == {"vagrant"}
    assert {p["box"] for p in CONFIG["platforms"]} == {"debian/bookworm64", "debian/trixie64"}


def test_the_scenario_reuses_the_default_scenarios_converge_and_tests() -> None:
    default = yaml.safe_load((ROOT / "molecule" / "default" / "molecule.yml").read_text())
    for key in ("prepare", "converge"):
        assert CONFIG["provisioner"]["playbooks"][key] == default["provisioner"]["playbooks"][key]
    assert CONFIG["provisioner"]["inventory"] == default["provisioner"]["inventory"]
    assert (SCENARIO / CONFIG["verifier"]["directory"]).resolve() == (
        ROOT / "molecule" / "default" / default["verifier"]["directory"]
    ).resolve()


def test_its_playbooks_pass_a_syntax_check_with_its_inventory(tmp_path: Path) -> None:
    """The inventory Molecule writes for it (its platforms in their groups, the linked group_vars),
    then ansible-playbook --syntax-check of its prepare and converge playbooks."""
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    groups: dict[str, dict[str, dict[str, None]]] = {}
    for platform in CONFIG["platforms"]:
        for group in platform.get("groups", []):
            groups.setdefault(group, {"hosts": {}})["hosts"][platform["name"]] = None
    hosts = {"all": {"hosts": {p["name"]: None for p in CONFIG["platforms"]}, "children": groups}}
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    for name, target in CONFIG["provisioner"]["inventory"]["links"].items():
        linked = (SCENARIO / target).resolve()
        assert linked.is_dir(), linked
        (inventory / name).symlink_to(linked)
    playbooks = [
        (SCENARIO / CONFIG["provisioner"]["playbooks"][key]).resolve()
        for key in ("prepare", "converge")
    ]
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "MOLECULE_PROJECT_DIRECTORY": str(ROOT),
        "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path),
    }
    out = _run(
        "ansible-playbook", "--syntax-check", "-i", inventory, *playbooks, cwd=SCENARIO, env=env
    )
    for playbook in playbooks:
        assert f"playbook: {playbook}" in out, out


def test_the_verifier_tests_it_points_at_are_collected() -> None:
    tests = (SCENARIO / CONFIG["verifier"]["directory"]).resolve()
    out = _run("python", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", tests)
    assert "test_code_change_reloads_the_daemon_without_restarting_apache" in out, out
