"""Unit tests of wsgi.deploy.site_venvs (plugins/modules/site_venvs.py): real virtualenvs built
with the controller's Python and pip from local wheels (no index): the install order (the stack's
pin wins), the marker written only after a complete build, a failure that names the site with
pip's own words and masks the credentials of an index URL."""

from __future__ import annotations

import importlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from wsgi_testlib.modules import load_module
from wsgi_testlib.wheel import build_wheel

venvs = load_module("site_venvs")  # makes the collection's module_utils importable
RELEASES = "ansible_collections.wsgi.deploy.plugins.module_utils.releases"
MARKER = importlib.import_module(RELEASES).VENV_MARKER


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """demo-pkg 1.0 and 2.0 as wheels in one directory (pip's --find-links)."""
    root = tmp_path_factory.mktemp("wheels")
    for version in ("1.0", "2.0"):
        package = root / f"src-{version}" / "demo_pkg"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"VERSION = {version!r}\n")
        build_wheel(package, root / "dist", "demo-pkg", version)
    return root / "dist"


def _venv(tmp_path: Path, site: str, **fields: Any) -> dict[str, Any]:
    return {"site": site, "python": sys.executable, "dir": str(tmp_path / site / "venv"),
            "venv_key": f"key-{site}", "requirements_file": "", "chdir": "", "requirements": [],
            "stack_packages": [], "index_url": "", **fields}  # fmt: skip


def _version(venv: dict[str, Any]) -> str:
    python = Path(venv["dir"]) / "bin" / "python"
    code = "import demo_pkg; print(demo_pkg.VERSION)"
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def test_the_requirements_file_then_the_requirements_then_the_stack_packages(
    tmp_path: Path, wheels: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "requirements.txt").write_text("demo-pkg==1.0\n")
    offline = f"--no-index --find-links {wheels}"
    pinned = _venv(tmp_path, "pinned", requirements_file=str(src / "requirements.txt"),
                   chdir=str(src), stack_packages=["demo-pkg==2.0"])  # fmt: skip
    own = _venv(tmp_path, "own", requirements=["demo-pkg==1.0"])

    with ThreadPoolExecutor(2) as pool:  # as the module builds them: side by side
        problems = list(pool.map(lambda v: venvs.build(v, offline, False), [pinned, own]))

    assert problems == [None, None]
    assert _version(pinned) == "2.0"  # the stack's pin, installed last, wins
    assert _version(own) == "1.0"
    for venv in (pinned, own):
        assert venvs.is_complete(venv)
        marker = Path(venv["dir"]) / MARKER
        assert marker.read_text() == f"{venv['venv_key']}\n"
        assert marker.stat().st_mode & 0o777 == 0o644
    assert not venvs.is_complete({**own, "venv_key": "another-key"})


def test_a_failed_build_names_the_site_masks_credentials_and_leaves_no_marker(
    tmp_path: Path, wheels: Path
) -> None:
    broken = _venv(
        tmp_path,
        "broken",
        requirements=["no-such-package-anywhere==9"],
        index_url="http://deploy:s3cr3t-token@127.0.0.1:9/simple",
    )

    problem = venvs.build(broken, f"--find-links {wheels} --retries 0 --timeout 1", False)

    assert problem is not None and problem.startswith("pip install exited with 1: "), problem
    assert "no-such-package-anywhere" in problem
    assert "s3cr3t-token" not in problem
    assert not venvs.is_complete(broken)
    assert (Path(broken["dir"]) / "bin" / "python").exists()  # the next run reuses it


def test_credentials_in_urls_are_masked() -> None:
    text = "Looking in indexes: https://user:tok@pypi.example/simple, http://x@h/s and https://h/s"
    assert venvs.mask(text) == (
        "Looking in indexes: https://***@pypi.example/simple, http://***@h/s and https://h/s"
    )
