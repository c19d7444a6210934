"""The collection as a package: what its tarball holds, the collections it declares (galaxy.yml,
collections/requirements.yml) against the ones the pinned ansible package bundles and the roles
use, and the execution environment (ansible-builder create, then its galaxy and introspection
steps run for real on the generated context). Runs the real tools of the venv."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
VERSION = GALAXY["version"]
TARBALL_NAME = f"{GALAXY['namespace']}-{GALAXY['name']}-{VERSION}.tar.gz"
# What the tarball may hold at its top level (MANIFEST.json and FILES.json replace galaxy.yml).
ALLOWED_TOP = {
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "meta",
    "plugins",
    "roles",
    "playbooks",
    "docs",
}


def _run(*argv: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    """Run a tool of the venv; return its stdout, failing the test with its output otherwise."""
    command = [str(BIN / str(argv[0])), *map(str, argv[1:])]
    proc = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"{command}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _clean_ansible_env(tmp: Path) -> dict[str, str]:
    """An environment whose only collections are the ones of the venv's ansible package."""
    cfg = tmp / "ansible.cfg"
    cfg.write_text(f"[defaults]\ncollections_path = {tmp / 'none'}\n")
    return {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp), "ANSIBLE_CONFIG": str(cfg)}


def _bundled_versions() -> dict[str, str]:
    """Collections installed in the venv (the ansible package's bundle): name -> version."""
    # Where pip put them, not ansible_collections.__path__[0]: once a test has loaded
    # Ansible's collection finder, that can be this repository's collections/ directory.
    site = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
    versions = {}
    for manifest in site.glob("*/*/MANIFEST.json"):
        info = json.loads(manifest.read_text())["collection_info"]
        versions[f"{info['namespace']}.{info['name']}"] = info["version"]
    return versions


def _pins(path: Path) -> dict[str, str]:
    """name -> version of a pip constraints file."""
    pins = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run("ansible-galaxy", "collection", "build", ROOT, "--output-path", out)
    path = out / TARBALL_NAME
    assert path.is_file()
    return path


def test_tarball_holds_only_the_collection(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
        manifest = json.load(tar.extractfile("MANIFEST.json"))  # type: ignore[arg-type]
    names = [m.name for m in members]
    assert {n.split("/")[0] for n in names} <= ALLOWED_TOP, sorted({n.split("/")[0] for n in names})
    for needed in (
        "meta/runtime.yml",
        "meta/execution-environment.yml",
        "playbooks/site.yml",
        "plugins/filter/site_model.py",
        "plugins/module_utils/site_model.py",
        "roles/wsgi_app/tasks/main.yml",
    ):
        assert needed in names, needed
    assert not [m.name for m in members if m.issym() or m.islnk()]
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".retry"))]
    assert manifest["collection_info"]["dependencies"] == GALAXY["dependencies"]


def test_requirements_pin_the_collections_of_the_pinned_ansible_package() -> None:
    requirements = yaml.safe_load((ROOT / "collections" / "requirements.yml").read_text())
    pinned = {c["name"]: c["version"] for c in requirements["collections"]}
    bundled = _bundled_versions()
    assert {name: bundled.get(name) for name in pinned} == pinned
    # Every dependency of the collection is in the requirements, within galaxy.yml's range.
    for name, spec in GALAXY["dependencies"].items():
        assert name in pinned, name
        assert pinned[name] in SpecifierSet(spec), (name, pinned[name], spec)
    assert _pins(ROOT / "constraints.txt")["ansible"] == _ansible_package_version()


def _ansible_package_version() -> str:
    from importlib.metadata import version

    return version("ansible")


def test_the_requirements_install_offline_from_the_ansible_package(tmp_path: Path) -> None:
    """What AWX's project sync runs, without Galaxy: nothing is missing or of another version."""
    target = tmp_path / "collections"
    out = _run(
        "ansible-galaxy",
        "collection",
        "install",
        "-r",
        ROOT / "collections" / "requirements.yml",
        "-p",
        target,
        "--offline",
        env=_clean_ansible_env(tmp_path),
    )
    assert "Nothing to do. All requested collections are already installed." in out, out
    assert not list(target.glob("ansible_collections/*/*"))


def test_every_collection_the_roles_use_is_a_declared_dependency() -> None:
    bundled = _bundled_versions()
    text = "\n".join(
        p.read_text()
        for d in ("roles", "playbooks", "plugins")
        for p in sorted((ROOT / d).rglob("*"))
        if p.is_file() and p.suffix in {".yml", ".yaml", ".j2", ".py"}
    )
    used = {
        name
        for name in bundled
        if re.search(rf"\b{re.escape(name)}\.[a-z_][a-z0-9_]*", text) and name != "ansible.builtin"
    }
    assert used, "no collection found: the search is broken"
    assert used <= set(GALAXY["dependencies"]), used - set(GALAXY["dependencies"])


@pytest.fixture(scope="module")
def ee_context(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ansible-builder create` on execution-environment.yml, with the tarball where its
    additional_build_files expects it (the repository's files copied beside it)."""
    work = tmp_path_factory.mktemp("ee")
    definition = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    (work / "meta").mkdir()
    for name in ("execution-environment.yml",):
        (work / name).write_text((ROOT / name).read_text())
    for entry in ("python", "system"):
        src = definition["dependencies"][entry]
        (work / src).write_text((ROOT / src).read_text())
    for extra in definition["additional_build_files"]:
        dest = work / extra["src"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(tarball.read_bytes())
    context = work / "context"
    _run(
        "ansible-builder",
        "create",
        "-f",
        work / "execution-environment.yml",
        "-c",
        context,
        "--output-filename",
        "Containerfile",
        cwd=work,
    )
    return context


def test_execution_environment_context(ee_context: Path) -> None:
    containerfile = (ee_context / "Containerfile").read_text()
    pins = _pins(ROOT / "constraints.txt")
    refs = f'ARG ANSIBLE_INSTALL_REFS="ansible-core=={pins["ansible-core"]} '
    refs += f'ansible-runner=={pins["ansible-runner"]}"'
    assert refs in containerfile
    assert "ansible-galaxy collection install" in containerfile
    build = ee_context / "_build"
    assert (build / "collections" / TARBALL_NAME).is_file()
    galaxy: dict[str, Any] = yaml.safe_load((build / "requirements.yml").read_text())
    requirements = yaml.safe_load((ROOT / "collections" / "requirements.yml").read_text())
    pinned = {c["name"]: c["version"] for c in requirements["collections"]}
    entries = {c["name"]: c for c in galaxy["collections"]}
    assert entries[f"collections/{TARBALL_NAME}"]["type"] == "file"
    for name in GALAXY["dependencies"]:
        assert entries[name]["version"] == pinned[name], name
    bindep = [
        line.split()[0]
        for line in (build / "bindep.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {"rsync", "git", "openssh-clients", "openssh-client"} <= set(bindep), bindep
    assert (build / "requirements.txt").is_file()


def test_execution_environment_galaxy_and_introspection_steps(
    ee_context: Path, tmp_path: Path
) -> None:
    """The two steps of the generated build that need no base image, run as the Containerfile
    runs them: the galaxy install of its requirements.yml (from /build; offline here, so the
    dependencies must be exactly the bundled ones), then ansible-builder's introspection of the
    installed collections, which must pick up wsgi.deploy's own system requirements."""
    build = ee_context / "_build"
    collections = tmp_path / "collections"
    env = _clean_ansible_env(tmp_path)
    _run(
        "ansible-galaxy",
        "collection",
        "install",
        "-r",
        "requirements.yml",
        "-p",
        collections,
        "--offline",
        cwd=build,
        env=env,
    )
    manifest = collections / "ansible_collections" / "wsgi" / "deploy" / "MANIFEST.json"
    assert json.loads(manifest.read_text())["collection_info"]["version"] == VERSION
    out = _run(
        "python",
        build / "scripts" / "introspect.py",
        "introspect",
        "--user-pip=requirements.txt",
        "--user-bindep=bindep.txt",
        collections,
        cwd=build,
        env=env,
    )
    found = yaml.safe_load(out)
    from_collection = [s for s in found["system"] if s.endswith("# from collection wsgi.deploy")]
    assert {s.split()[0] for s in from_collection} >= {"rsync", "git"}, found
    assert found["python"] == [], found
