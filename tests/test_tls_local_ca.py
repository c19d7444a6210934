"""The local CA on the controller (role wsgi_tls), run for real by ansible-playbook against two
local hosts: the first of the play has no TLS site, the second a self_signed one. The CA must be
created all the same (a run_once task used to be skipped for every host when the first one had
no TLS site, and the second failed: "The CA certificate file ... does not exist"), and an
unchanged re-run issues nothing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - {ansible.builtin.include_role: {name: wsgi.deploy.wsgi, public: true}}
    - {ansible.builtin.include_role: {name: wsgi.deploy.wsgi_tls}}
"""


def _inventory(tmp: Path) -> dict:
    site = {"name": "hello", "domain": "hello.example.org", "entry": "hello.wsgi",
            "source": {"path": str(tmp / "hello")}}  # fmt: skip
    return {"all": {
        "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "wsgi_host_facts": {"host": {"cpus": 2, "debian": "12", "ipv4": "127.0.0.1",
                                         "ipv6": False}, "tls": {}, "installed": {}},
            "wsgi_tls_ca_dir": str(tmp / "ca"),
        },
        "hosts": {
            "plain": {"wsgi_sites": [site]},
            "secure": {"wsgi_sites": [{**site, "tls": "self_signed"}]},
        },
    }}  # fmt: skip


def _run(tmp: Path) -> dict:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json", "ANSIBLE_NOCOLOR": "1"}  # fmt: skip
    done = subprocess.run(
        ["ansible-playbook", "-i", str(tmp / "inventory.json"), str(tmp / "play.yml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return json.loads(done.stdout)


def test_local_ca_created_when_the_first_host_has_no_tls_site(tmp_path: Path) -> None:
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "hello.wsgi").write_text("def application(e, s): pass\n")
    (tmp_path / "inventory.json").write_text(json.dumps(_inventory(tmp_path)))
    (tmp_path / "play.yml").write_text(PLAY)
    first = _run(tmp_path)
    issued = tmp_path / "ca" / "issued" / "secure"
    for path in (tmp_path / "ca" / "ca.pem", tmp_path / "ca" / "ca.key",
                 issued / "_default.pem", issued / "hello.pem", issued / "hello.key"):  # fmt: skip
        assert path.is_file(), path
    assert (tmp_path / "ca" / "ca.key").stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "ca" / "issued" / "plain").exists()
    assert first["stats"]["secure"]["changed"] > 0
    before = {p: p.read_bytes() for p in (tmp_path / "ca").rglob("*.pem")}
    again = _run(tmp_path)
    assert again["stats"]["secure"]["changed"] == 0
    assert {p: p.read_bytes() for p in (tmp_path / "ca").rglob("*.pem")} == before
