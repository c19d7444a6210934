"""Check mode with --diff on a host never deployed to: it runs to the end and changes nothing."""

from __future__ import annotations

from pathlib import Path

from safety_support import FRESH, SITES, inventory, state
from wsgi_testlib.playbook import run_playbook


def test_check_mode_with_diff_on_a_fresh_host_does_not_fail(tmp_path: Path) -> None:
    before = state(FRESH)
    run = run_playbook("site.yml", inventory(tmp_path, SITES, [FRESH]), "--check", "--diff")
    assert run.rc == 0, run.output[-5000:]
    recap = run.recap()[FRESH]
    assert recap["failed"] == 0 and recap["changed"] > 0
    assert state(FRESH) == before
