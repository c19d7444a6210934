"""The collection installed from its tarball: Ansible finds wsgi.deploy only there (never in the
repository), the sites it deployed answer over real HTTP, and ansible-navigator (--ee false) deploys
a change with it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import yaml
from wsgi_testlib.flows import post_guestbook_message
from wsgi_testlib.playbook import Run, molecule_inventory
from wsgi_testlib.web import Site

SiteFactory = Callable[[str], Site]
SCENARIO = Path(__file__).resolve().parents[1]
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]).resolve()
COLLECTIONS = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]).resolve() / "collections"
INSTALLED = COLLECTIONS / "ansible_collections" / "wsgi" / "deploy"
VERSION = yaml.safe_load((PROJECT / "galaxy.yml").read_text())["version"]


def _exec(
    *argv: str, cwd: Path = SCENARIO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        cwd=cwd,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _json(*argv: str) -> object:
    proc = _exec(*argv)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def _inside(path: str | Path, root: Path) -> bool:
    return Path(path).resolve().is_relative_to(root)


def test_ansible_finds_wsgi_deploy_only_in_the_installed_tarball() -> None:
    found = _json("ansible-galaxy", "collection", "list", "wsgi.deploy", "--format", "json")
    expected = {"wsgi.deploy": {"version": VERSION}}
    assert found == {str(COLLECTIONS / "ansible_collections"): expected}
    # An installed artifact (MANIFEST.json, FILES.json), real files, none of them the repository's.
    assert (INSTALLED / "MANIFEST.json").is_file()
    assert (INSTALLED / "FILES.json").is_file()
    for dirpath, dirnames, filenames in os.walk(INSTALLED):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            assert not path.is_symlink(), path
            assert not _inside(path, PROJECT), path


def test_no_path_of_ansible_leads_into_the_repository() -> None:
    dumped = _json("ansible-config", "dump", "--format", "json")
    assert isinstance(dumped, list)
    settings = {item["name"]: item for item in dumped if "name" in item}
    config_file = settings["CONFIG_FILE"]["value"]
    assert not _inside(config_file, PROJECT), config_file  # Molecule's ansible.cfg, not the repo's
    assert settings["COLLECTIONS_PATHS"]["value"] == [str(COLLECTIONS)]
    for path in settings["DEFAULT_ROLES_PATH"]["value"]:
        assert not _inside(path, PROJECT), path
    # The converge playbook has no playbook-adjacent collections/ (the repository's is at its root).
    assert not (SCENARIO / "collections").exists()


def test_hello_is_served_at_its_prefix_in_daemon_mode(site: SiteFactory) -> None:
    resp = site("departamentos.centro.intranet").get("/test")
    assert resp.status_code == 200
    lines = resp.text.splitlines()
    assert lines[0] == "Hello World!"
    assert "SCRIPT_NAME=/test" in lines
    assert "PROCESS_GROUP=hello" in lines
    css = site("departamentos.centro.intranet").get("/test/static/hello.css")
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")


def test_guestbook_form_posts_a_message_that_is_then_listed(site: SiteFactory) -> None:
    post_guestbook_message(site("guestbook.example.org"))


def test_django_static_files_are_served_by_apache_with_debug_off(site: SiteFactory) -> None:
    guestbook = site("guestbook.example.org")
    css = guestbook.get("/static/admin/css/base.css")
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    missing = guestbook.get("/no-such-page/")
    assert missing.status_code == 404
    assert "Using the URLconf" not in missing.text  # Django's DEBUG page


def test_ansible_navigator_deploys_a_change_with_the_installed_collection(
    site: SiteFactory, tmp_path: Path
) -> None:
    """ansible-navigator run (the project's ansible-navigator.yml, --ee false) of the converge
    playbook with a changed hello app: every task comes from the installed collection, the site
    then serves the change. The scenario's last test (it leaves the change deployed)."""
    changed = tmp_path / "apps"
    shutil.copytree(PROJECT / "apps", changed, ignore=shutil.ignore_patterns("__pycache__"))
    greeting = f"Hello {uuid.uuid4().hex[:8]}!"
    script = changed / "hello" / "hello.wsgi"
    script.write_text(script.read_text().replace("Hello World!", greeting))
    extra = {"wsgi_only_sites": ["hello"], "wsgi_source_base_dir": str(changed)}
    proc = _exec(
        "ansible-navigator",
        "run",
        str(SCENARIO / "converge.yml"),
        "--ee",
        "false",
        "--mode",
        "stdout",
        "--pae",
        "false",
        "--lf",
        str(tmp_path / "ansible-navigator.log"),
        "-i",
        molecule_inventory(),
        "-e",
        json.dumps(extra),
        "-vv",
        cwd=tmp_path,
        env={"ANSIBLE_NAVIGATOR_CONFIG": str(PROJECT / "ansible-navigator.yml")},
    )
    run = Run(proc.returncode, proc.stdout + proc.stderr)
    assert run.rc == 0, run.output[-3000:]
    recap = run.recap()
    assert recap, run.output[-2000:]
    assert all(c["changed"] > 0 and c["failed"] == 0 for c in recap.values()), recap
    task_paths = re.findall(r"^task path: (.+):\d+$", run.output, re.M)
    assert task_paths, run.output[-2000:]
    outside = [p for p in task_paths if not _inside(p, INSTALLED)]
    assert outside == [], outside
    resp = site("departamentos.centro.intranet").wait_text("/test", greeting)
    assert resp.text.startswith(greeting)
