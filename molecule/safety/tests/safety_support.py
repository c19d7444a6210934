"""What the safety scenario's test modules share: the hosts, the site list, running commands in
the containers, fingerprints of everything a deployment may touch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import docker
import yaml
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

# What a deployment may touch, fingerprinted before and after each refused run: names, types,
# modes, owners, sizes and link targets, file contents, every account and group, the servers'
# processes.
_DIRS = (
    "/etc/apache2 /etc/nginx /srv /etc/wsgi-sites /var/lib/wsgi-deploy /etc/systemd/system "
    "/run/gunicorn"
)
STATE_CMD = (
    "cat /etc/hosts; dpkg-query -W -f='${Package} ${Status}\\n' apache2 nginx git 2>&1; "
    f"find {_DIRS} -xdev -printf '%p %y %m %u %g %s %l\\n' 2>/dev/null | sort; "
    f"find {_DIRS} -xdev -type f -exec md5sum {{}} + 2>/dev/null | sort; "
    "getent passwd | sort; getent group | sort; "
    "cat /run/apache2/apache2.pid /run/nginx.pid 2>/dev/null; "
    "systemctl show -p MainPID --value gunicorn-hello gunicorn-second 2>/dev/null; true"
)


def exec_in(container: str, cmd: str) -> tuple[int, str]:
    result = docker.from_env().containers.get(container).exec_run(["sh", "-c", cmd])
    return result.exit_code, result.output.decode()


def state(container: str) -> str:
    return exec_in(container, STATE_CMD)[1]


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
