"""The release modules run for real (as Ansible runs them, one process each) on a site tree made
in a temporary directory: the record a run writes lists the releases kept after pruning, and a
site switched back to the release its record names is still reloaded (its processes run the
release it left)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from module_utils.site_model import wsgi_site_normalize  # noqa: E402


def run_module(name: str, args: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "plugins" / "modules" / f"{name}.py")],
        input=json.dumps({"ANSIBLE_MODULE_ARGS": args}),
        env={**os.environ, "PYTHONPATH": str(ROOT / "collections")},
        capture_output=True,
        text=True,
        check=False,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    assert not result.get("failed"), result
    return result


@pytest.fixture()
def site(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "apps" / "hello").mkdir(parents=True)
    (tmp_path / "apps" / "hello" / "hello.wsgi").write_text("def application(e, s): pass\n")
    settings = {
        "source_base_dir": str(tmp_path / "apps"),
        "sites_root": str(tmp_path / "srv"),
        "env_dir": str(tmp_path / "etc"),
        "state_dir": str(tmp_path / "state"),
        "keep_releases": 2,
    }
    sites = [{"name": "hello", "domain": "hello.example.org", "source": {"path": "hello"}}]
    (rec,) = wsgi_site_normalize([{**s, "entry": "hello.wsgi"} for s in sites], settings)
    return rec


def _release(site: dict[str, Any], rid: str, venv: str = "k1") -> None:
    path = Path(site["releases_dir"]) / rid
    (path / "src").mkdir(parents=True)
    manifest = {"id": rid, "code_hash": rid, "venv_key": venv, "complete": True}
    (path / "release.json").write_text(json.dumps(manifest))


def _switch(site: dict[str, Any], rid: str) -> None:
    tmp = Path(site["current"] + ".tmp")
    tmp.symlink_to(f"releases/{rid}")
    tmp.replace(site["current"])


def _record_args(site: dict[str, Any], state: Path, **extra: Any) -> dict[str, Any]:
    return {"action": "record", "sites": [site], "state_dir": str(state), **extra}


def test_the_record_lists_the_releases_kept_after_pruning(
    site: dict[str, Any], tmp_path: Path
) -> None:
    ids = [f"20261201T12000{n}Z-0000000{n}" for n in range(1, 6)]
    for rid in ids:
        _release(site, rid)
    _switch(site, ids[-1])
    state = tmp_path / "state"
    result = run_module("site_state", _record_args(site, state, prune=True))
    assert result["pruned"]["hello"]["removed"] == ids[:3]
    kept = sorted(os.listdir(site["releases_dir"]))
    assert kept == ids[3:]
    record = json.loads((state / "hello.json").read_text())
    assert [r["id"] for r in record["releases"]] == kept
    assert record["release"] == ids[-1]
    # Nothing left to prune or to record: a second run changes nothing.
    assert run_module("site_state", _record_args(site, state, prune=True))["changed"] is False


def test_check_mode_records_what_pruning_would_keep(site: dict[str, Any], tmp_path: Path) -> None:
    ids = [f"20261201T12000{n}Z-0000000{n}" for n in range(1, 5)]
    for rid in ids:
        _release(site, rid)
    _switch(site, ids[-1])
    state = tmp_path / "state"
    run_module("site_state", _record_args(site, state))  # recorded with all four
    checked = run_module(
        "site_state", _record_args(site, state, prune=True, _ansible_check_mode=True)
    )
    assert checked["pruned"]["hello"]["removed"] == ids[:2]
    assert checked["sites"] == ["hello"]  # its record would change: two releases fewer
    assert sorted(os.listdir(site["releases_dir"])) == ids  # check mode removes nothing


@pytest.mark.parametrize(("venv", "restart"), [("k1", False), ("k2", True)])
def test_a_site_switched_back_to_its_recorded_release_is_reloaded(
    site: dict[str, Any], tmp_path: Path, venv: str, restart: bool
) -> None:
    """What the automatic rollback after a failed health check does: the record still names the
    release that ran before, so what is on disk matches it again, but the app's processes run
    the failed release (loaded when it was switched in): they must be reloaded."""
    good, bad = "20261201T120001Z-00000001", "20261201T120002Z-00000002"
    _release(site, good)
    _release(site, bad, venv=venv)
    _switch(site, good)
    state = tmp_path / "state"
    run_module("site_state", _record_args(site, state))
    _switch(site, bad)  # the failed release was switched in and reloaded
    args = {"action": "rollback", "sites": [site], "targets": {"hello": "recorded"}}
    rolled = run_module("site_release", {**args, "state_dir": str(state)})
    assert rolled["releases"]["hello"].get("release") == good, rolled
    status = rolled["status"]["hello"]
    assert status["reload"] is True, status["reasons"]
    assert status["restart"] is restart, status["reasons"]
    # A site this call did not switch keeps what the comparison with its record says.
    again = run_module("site_release", {**args, "targets": {}, "state_dir": str(state)})
    assert again["status"]["hello"]["reload"] is False
