"""The console's ansible-inventory call tries ``yaml`` before ``auto`` (a plain YAML inventory is
read once): the operator's plugin list is kept, and the output is the same as Ansible's order."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from wsgi_console.inventory import load_inventory
from wsgi_console.inventory_plugins import ENV, config_file, inventory_env, yaml_before_auto
from wsgi_console.paths import subprocess_path, tool_path


@pytest.mark.parametrize(
    ("plugins", "expected"),
    [
        ("host_list,script,auto,yaml,ini,toml", "host_list,script,yaml,auto,ini,toml"),
        ("ansible.builtin.auto,ansible.builtin.yaml", "ansible.builtin.yaml,ansible.builtin.auto"),
        ("yaml,auto", "yaml,auto"),
        ("ini,auto", "ini,auto"),
        ("yaml,ini", "yaml,ini"),
        (
            "community.docker.docker_containers,auto,ini,yaml",
            "community.docker.docker_containers,yaml,auto,ini",
        ),
    ],
)
def test_yaml_moves_before_auto_and_nothing_else_moves(plugins: str, expected: str) -> None:
    assert yaml_before_auto(plugins.split(",")) == expected.split(",")


def _inventory(root: Path) -> Path:
    """A plain YAML inventory beside a plugin configuration file (only ``auto`` reads it)."""
    inv = root / "inventory"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.yml").write_text(
        "all:\n  children:\n    wsgi_servers:\n      hosts:\n"
        "        web1: {ansible_host: 192.0.2.10}\n        web2: {}\n"
    )
    (inv / "z-constructed.yml").write_text(
        "plugin: ansible.builtin.constructed\ngroups:\n  addressed: ansible_host is defined\n"
    )
    (inv / "group_vars" / "wsgi_servers.yml").write_text(
        "wsgi_sites:\n  - {name: hello, domain: hello.example.test}\n"
    )
    return inv


def _list(inv: Path, cwd: Path, extra: dict[str, str]) -> dict[str, object]:
    env = {**os.environ, "PATH": subprocess_path(), **extra}
    proc = subprocess.run(
        [tool_path("ansible-inventory"), "-i", str(inv), "--list"],
        capture_output=True, text=True, env=env, cwd=cwd, check=True,
    )  # fmt: skip
    return json.loads(proc.stdout)


def test_with_ansibles_default_plugins_the_order_changes_and_the_output_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ansible.cfg of the machine's
    inv = _inventory(tmp_path)
    assert config_file(tmp_path) in (None, Path("/etc/ansible/ansible.cfg"))
    extra = inventory_env(tmp_path)
    assert extra[ENV].split(",").index("yaml") < extra[ENV].split(",").index("auto")
    reordered, default = _list(inv, tmp_path, extra), _list(inv, tmp_path, {})
    assert reordered == default
    assert reordered["addressed"] == {"hosts": ["web1"]}  # auto read the plugin's file
    model = load_inventory(inv, cwd=tmp_path)
    assert model.ok, model.errors
    assert set(model.hosts) == {"web1", "web2"}
    assert "addressed" in model.hosts["web1"].groups
    assert [s.name for s in model.hosts["web1"].sites] == ["hello"]


def test_the_operators_plugin_list_from_ansible_cfg_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    monkeypatch.delenv(ENV, raising=False)
    tmp_path.chmod(0o755)
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[inventory]\nenable_plugins = auto, ini, yaml\n")
    assert config_file(tmp_path) == cfg
    assert inventory_env(tmp_path) == {ENV: "yaml,auto,ini"}
    cfg.write_text("[inventory]\nenable_plugins = ini, host_list\n")
    assert inventory_env(tmp_path) == {}  # no auto: nothing to reorder
    monkeypatch.setenv(ENV, "auto,yaml")  # the environment wins over the file, as in Ansible
    assert inventory_env(tmp_path) == {ENV: "yaml,auto"}


def test_ansible_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    cfg = tmp_path / "elsewhere.cfg"
    cfg.write_text("[inventory]\nenable_plugins = ini\n")
    monkeypatch.setenv("ANSIBLE_CONFIG", str(cfg))
    assert config_file(tmp_path / "nowhere") == cfg
    assert inventory_env(tmp_path) == {}
