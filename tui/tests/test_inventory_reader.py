"""``inventory_reader`` gives every host the variables ``ansible-inventory --list`` gives it, with
the group part shared: the same values on an inventory built to catch precedence mistakes (all
levels setting the same keys), under Ansible's default and a reordered precedence, and whole
per host where sharing would not be exact (``hash_behaviour = merge``). It tries ``yaml`` before
``auto`` (a plain YAML inventory read once): the operator's plugin list is kept, and the output
is the same as in Ansible's order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wsgi_console.inventory import (
    READER,
    host_variables,
    load_inventory,
    parse_inventory_json,
    reader_command,
)
from wsgi_console.inventory_reader import yaml_before_auto
from wsgi_console.paths import subprocess_path, tool_path

KEYS = ("k_all", "k_group", "k_deep", "k_pri", "k_host")

HOSTS_YML = """\
all:
  vars: {k_all: all-inventory, k_group: all-inventory, k_deep: all-inventory, k_host: all-inv}
  children:
    wsgi_servers:
      vars: {k_group: servers-inventory, k_deep: servers-inventory}
      children:
        dc1:
          vars: {k_deep: dc1-inventory, k_pri: dc1-inventory}
          hosts:
            web1: {ansible_host: 192.0.2.1, k_host: web1-inventory}
            web2: {}
        dc2:
          vars: {k_pri: dc2-inventory, ansible_group_priority: 5}
          hosts:
            web3: {k_all: web3-inventory}
            web1: {}
        edge:
          vars: {k_pri: edge-inventory, ansible_group_priority: 2}
          hosts:
            web3: {}
    ungrouped:
      hosts:
        lone: {}
"""

FILES = {
    # group_vars files (vars plugins) come after every group's inventory vars by default:
    # they beat deeper groups' inventory vars, which sharing per group must not reorder.
    "group_vars/all.yml": "k_all: all-file\nk_deep: all-file\nsecret_token: s3cr3t-from-all\n",
    "group_vars/wsgi_servers.yml": (
        "wsgi_sites:\n  - {name: hello, domain: hello.example.test}\n"
        "  - {name: shop, domain: shop.example.test, stack: nginx_gunicorn}\n"
    ),
    "group_vars/dc2.yml": "k_group: dc2-file\nwsgi_sites:\n  - {name: blog, domain: b.test}\n",
    "group_vars/edge.yml": "k_pri: edge-file\n",
    "host_vars/web2.yml": "k_host: web2-file\nk_deep: web2-file\n",
    "host_vars/web1.yml": "k_host: web1-file\n",
}


def _inventory(root: Path) -> Path:
    inv = root / "inventory"
    for name, text in {"hosts.yml": HOSTS_YML, **FILES}.items():
        path = inv / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return inv


def _run(command: list[str], cwd: Path, extra: dict[str, str]) -> dict[str, Any]:
    env = {**os.environ, "PATH": subprocess_path(), **extra}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ansible.cfg of the machine's
    return _inventory(tmp_path)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {
            "ANSIBLE_PRECEDENCE": "all_plugins_inventory,groups_plugins_inventory,all_inventory,"
            "groups_inventory,all_plugins_play,groups_plugins_play"
        },
        {"ANSIBLE_HASH_BEHAVIOUR": "merge"},
    ],
    ids=["default", "reordered-precedence", "merge"],
)
def test_every_host_gets_the_variables_ansible_inventory_lists(
    inventory: Path, settings: dict[str, str]
) -> None:
    cwd = inventory.parent
    listed = _run([tool_path("ansible-inventory"), "-i", str(inventory), "--list"], cwd, settings)
    read = _run([sys.executable, str(READER), "-i", str(inventory)], cwd, settings)

    expected = listed["_meta"]["hostvars"]
    assert host_variables(read["_meta"]) == expected
    assert {k: v for k, v in read.items() if k != "_meta"} == {
        k: v for k, v in listed.items() if k != "_meta"
    }
    # The inventory does catch precedence mistakes: each key is set at several levels, and the
    # winners differ from host to host.
    for key in KEYS:
        assert len({str(hv.get(key)) for hv in expected.values()}) > 1, key
    if "ANSIBLE_HASH_BEHAVIOUR" in settings:
        assert "shared_vars" not in read["_meta"]  # whole per host, from Ansible's get_vars
    else:
        assert len(read["_meta"]["shared_vars"]) == 4  # {dc1}, {dc1, dc2}, {dc2, edge}, {}
        assert len(json.dumps(read["_meta"]["hostvars"])) < len(json.dumps(expected))


def test_the_console_builds_the_same_model_from_either(inventory: Path) -> None:
    cwd = inventory.parent
    source = str(inventory)
    listed = parse_inventory_json(
        _run([tool_path("ansible-inventory"), "-i", source, "--list"], cwd, {}), source
    )
    model = load_inventory(inventory, cwd=cwd)
    assert reader_command(source)[1] == str(READER)  # the console's own Ansible: the reader
    assert model.ok, model.errors
    assert {n: (h.groups, list(h.vars.items()), h.sites) for n, h in model.hosts.items()} == {
        n: (h.groups, list(h.vars.items()), h.sites) for n, h in listed.hosts.items()
    }  # in the same order too (the screens show host vars in it)
    assert model.secret_values == listed.secret_values == {"s3cr3t-from-all"}
    assert [s.name for s in model.hosts["web3"].sites] == ["blog"]
    assert [s.stack for s in model.hosts["web2"].sites] == ["apache_mod_wsgi", "nginx_gunicorn"]


def test_an_ansible_without_what_the_reader_uses_gets_ansible_inventory(
    inventory: Path, tmp_path: Path
) -> None:
    """The reader's imports fail (one Ansible module made unimportable, in the reader's process
    only): it hands over to ``ansible-inventory --list`` and the output is Ansible's own."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import sys\n"
        "if sys.argv and sys.argv[0].endswith('inventory_reader.py'):\n"
        "    sys.modules['ansible.vars.plugins'] = None\n"
    )
    cwd = inventory.parent
    extra = {"PYTHONPATH": str(shim)}
    listed = _run([tool_path("ansible-inventory"), "-i", str(inventory), "--list"], cwd, extra)
    read = _run([sys.executable, str(READER), "-i", str(inventory)], cwd, extra)
    assert "shared_vars" not in read["_meta"]
    assert read == listed


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


PLUGINS_SEEN = (
    "import sys; sys.path.insert(0, sys.argv[1]); import inventory_reader as r\n"
    "from ansible.inventory.manager import InventoryManager\n"
    "from ansible.parsing.dataloader import DataLoader\n"
    "r.order_plugins()\n"
    "manager = InventoryManager(DataLoader(), sources=[])\n"
    "print(','.join(p._load_name.removeprefix('ansible.builtin.')"
    " for p in manager._fetch_inventory_plugins()))\n"
)


def _plugins_seen(cwd: Path, extra: dict[str, str]) -> str:
    """The plugins, in order, that Ansible's InventoryManager tries in the reader's process."""
    env = {**os.environ, "PATH": subprocess_path(), **extra}
    proc = subprocess.run(
        [sys.executable, "-c", PLUGINS_SEEN, str(READER.parent)],
        capture_output=True, text=True, env=env, cwd=cwd, check=True,
    )  # fmt: skip
    return proc.stdout.strip()


def test_the_operators_plugin_list_is_kept_and_only_reordered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    monkeypatch.delenv("ANSIBLE_INVENTORY_ENABLED", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ansible.cfg of the machine's
    tmp_path.chmod(0o755)  # Ansible ignores an ansible.cfg in a world-writable directory
    assert _plugins_seen(tmp_path, {}) == "host_list,script,yaml,auto,ini,toml"  # Ansible's
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[inventory]\nenable_plugins = auto, ini, yaml\n")
    assert _plugins_seen(tmp_path, {}) == "yaml,auto,ini"
    cfg.write_text("[inventory]\nenable_plugins = ini, host_list\n")
    assert _plugins_seen(tmp_path, {}) == "ini,host_list"  # no auto: nothing to reorder
    # The environment wins over the file, as in Ansible; so does ANSIBLE_CONFIG.
    assert _plugins_seen(tmp_path, {"ANSIBLE_INVENTORY_ENABLED": "auto,yaml"}) == "yaml,auto"
    other = tmp_path / "elsewhere.cfg"
    other.write_text("[inventory]\nenable_plugins = auto, yaml\n")
    assert _plugins_seen(tmp_path, {"ANSIBLE_CONFIG": str(other)}) == "yaml,auto"


def test_a_plugin_configuration_still_reaches_auto(inventory: Path) -> None:
    """Beside a plain YAML inventory, a file only ``auto`` reads (a ``constructed`` plugin
    configuration): with ``yaml`` tried first the output is still Ansible's own."""
    (inventory / "z-constructed.yml").write_text(
        "plugin: ansible.builtin.constructed\ngroups:\n  addressed: ansible_host is defined\n"
    )
    cwd = inventory.parent
    listed = _run([tool_path("ansible-inventory"), "-i", str(inventory), "--list"], cwd, {})
    read = _run([sys.executable, str(READER), "-i", str(inventory)], cwd, {})
    assert host_variables(read["_meta"]) == listed["_meta"]["hostvars"]
    assert read["addressed"] == listed["addressed"] == {"hosts": ["web1"]}
    model = load_inventory(inventory, cwd=cwd)
    assert model.ok, model.errors
    assert "addressed" in model.hosts["web1"].groups
