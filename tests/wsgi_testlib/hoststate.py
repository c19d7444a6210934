"""A fingerprint of everything a deployment may touch on a target, to compare a host before and
after a run that must change nothing (byte for byte): /etc/hosts, the web servers' and the
collection's trees (names, types, modes, owners, sizes, link targets, contents), the packages,
every account and group, the servers' and units' processes."""

from __future__ import annotations

import docker

DIRS = (
    "/etc/apache2 /etc/nginx /srv /etc/wsgi-sites /etc/wsgi-deploy /var/lib/wsgi-deploy "
    "/etc/systemd/system /run/gunicorn"
)
STATE_CMD = (
    "cat /etc/hosts; dpkg-query -W -f='${Package} ${Status}\\n' 2>&1 | sort; "
    f"find {DIRS} -xdev -printf '%p %y %m %u %g %s %l\\n' 2>/dev/null | sort; "
    f"find {DIRS} -xdev -type f -exec md5sum {{}} + 2>/dev/null | sort; "
    "getent passwd | sort; getent group | sort; "
    "cat /run/apache2/apache2.pid /run/nginx.pid 2>/dev/null; "
    "systemctl list-units --no-legend --plain 'gunicorn-*' 'wsgi-*' 2>/dev/null | sort; "
    "for u in $(systemctl list-units --no-legend --plain 'gunicorn-*.service' | cut -d' ' -f1); "
    "do systemctl show -p MainPID --value $u; done; true"
)


def exec_in(container: str, cmd: str) -> tuple[int, str]:
    result = docker.from_env().containers.get(container).exec_run(["sh", "-c", cmd])
    return result.exit_code, result.output.decode()


def host_state(container: str) -> str:
    return exec_in(container, STATE_CMD)[1]
