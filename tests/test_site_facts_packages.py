"""Unit tests of wsgi.deploy.site_facts's package check (plugins/modules/site_facts.py): which of
a site's packages apt can install, read from `apt-cache policy` as Debian's apt prints it."""

from __future__ import annotations

from wsgi_testlib.modules import load_module

facts = load_module("site_facts")

# `apt-cache policy libjpeg-dev nosuchpkg-x virtual-mysql-server postgresql-15` on Debian 12
# (an unknown name is not listed at all).
POLICY = """libjpeg-dev:
  Installed: (none)
  Candidate: 1:2.1.5-2
  Version table:
     1:2.1.5-2 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
virtual-mysql-server:
  Installed: (none)
  Candidate: (none)
  Version table:
postgresql-15:
  Installed: 15.18-0+deb12u1
  Candidate: 15.18-0+deb12u1
  Version table:
 *** 15.18-0+deb12u1 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
"""


def test_a_package_with_a_candidate_is_installable() -> None:
    found = facts.parse_candidates(POLICY)
    assert found["libjpeg-dev"] == "1:2.1.5-2"
    assert found["postgresql-15"] == "15.18-0+deb12u1"


def test_a_virtual_package_has_no_candidate_and_an_unknown_one_is_not_listed() -> None:
    found = facts.parse_candidates(POLICY)
    assert found["virtual-mysql-server"] is None
    assert "nosuchpkg-x" not in found


def test_nothing_to_check_asks_apt_nothing() -> None:
    assert facts.uninstallable_packages([], 3600) == []
