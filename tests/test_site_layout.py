"""Unit tests of wsgi.deploy.site_layout's pruning (plugins/modules/site_layout.py): only the
entries not kept go, a symlink is removed without following it, check mode removes nothing."""

from __future__ import annotations

from pathlib import Path

from wsgi_testlib.modules import load_module

layout = load_module("site_layout")


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    stage, outside = tmp_path / "stage", tmp_path / "outside"
    for d in (stage / "kept" / "app", stage / "old" / "app", outside):
        d.mkdir(parents=True)
    (stage / "kept" / "app" / "app.py").write_text("kept\n")
    (stage / "old" / "app" / "app.py").write_text("old\n")
    (stage / "stray").write_text("x\n")
    (outside / "precious").write_text("y\n")
    (stage / "link").symlink_to(outside)
    return stage, outside


def test_prune_removes_what_is_not_kept_and_never_follows_a_link(tmp_path: Path) -> None:
    stage, outside = _tree(tmp_path)
    removed = layout.prune_dir({"path": str(stage), "keep": ["kept"]}, False)
    assert removed == [str(stage / n) for n in ("link", "old", "stray")]
    assert sorted(p.name for p in stage.iterdir()) == ["kept"]
    assert (stage / "kept" / "app" / "app.py").read_text() == "kept\n"
    assert (outside / "precious").read_text() == "y\n"
    assert layout.prune_dir({"path": str(stage), "keep": ["kept"]}, False) == []


def test_prune_in_check_mode_reports_and_removes_nothing(tmp_path: Path) -> None:
    stage, _ = _tree(tmp_path)
    removed = layout.prune_dir({"path": str(stage), "keep": ["kept"]}, True)
    assert len(removed) == 3
    assert sorted(p.name for p in stage.iterdir()) == ["kept", "link", "old", "stray"]


def test_prune_of_a_missing_directory_or_a_link_does_nothing(tmp_path: Path) -> None:
    stage, _ = _tree(tmp_path)
    (tmp_path / "alias").symlink_to(stage)
    assert layout.prune_dir({"path": str(tmp_path / "missing"), "keep": []}, False) == []
    assert layout.prune_dir({"path": str(tmp_path / "alias"), "keep": []}, False) == []
    assert len(list(stage.iterdir())) == 4
