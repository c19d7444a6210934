"""What the safety scenario's test modules share: the hosts, the site list, running commands in
the containers, fingerprints of everything a deployment may touch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from wsgi_testlib.hoststate import exec_in  # noqa: F401 - the test modules import it from here
from wsgi_testlib.hoststate import host_state as state  # noqa: F401 - likewise
from wsgi_testlib.playbook import write_inventory
from wsgi_testlib.web import Site, container_ip

LIVE = "wsgi-mol-safety-live"  # Apache + mod_wsgi, converged
NGINX = "wsgi-mol-safety-nginx"  # Nginx + Gunicorn, converged
FRESH = "wsgi-mol-safety-fresh"  # never deployed to
SCENARIO = Path(__file__).resolve().parents[1]
APPS = str(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "apps")
SITES: list[dict[str, Any]] = yaml.safe_load(
    (SCENARIO / "group_vars" / "wsgi_servers" / "sites.yml").read_text()
)["wsgi_sites"]
STACK = {LIVE: "apache_mod_wsgi", NGINX: "nginx_gunicorn", FRESH: "apache_mod_wsgi"}

# What a deployment may touch is fingerprinted before and after each refused run by
# wsgi_testlib.hoststate (state above): names, types, modes, owners, sizes and link targets, file
# contents, packages, every account and group, the servers' and units' processes.


def hello_text(container: str) -> str:
    resp = Site(container_ip(container), "departamentos.centro.intranet").wait_ok("/test")
    assert resp.status_code == 200, resp.text[:300]
    return resp.text


def inventory(tmp_path: Path, sites: list[dict[str, Any]], hosts: list[str], **extra: Any) -> Path:
    """An inventory of some of the scenario's containers with the given site list; each host
    keeps the stack it was converged with."""
    group_vars = {"wsgi_source_base_dir": APPS, "wsgi_sites": sites, **extra}
    path = write_inventory(
        tmp_path / f"inventory-{len(list(tmp_path.iterdir()))}.yml", hosts, group_vars
    )
    data = yaml.safe_load(path.read_text())
    for name, host in data["all"]["children"]["wsgi_servers"]["hosts"].items():
        host["wsgi_default_stack"] = STACK[name]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
