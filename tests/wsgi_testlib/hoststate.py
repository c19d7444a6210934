"""A fingerprint of everything a deployment may touch on a target, to compare a host before and
after a run that must change nothing (byte for byte): /etc/hosts, the web servers', certbot's
and the collection's trees (names, types, modes, owners, sizes, link targets, contents), the
packages, every account and group, the servers' and units' processes."""

from __future__ import annotations

import subprocess

DIRS = (
    "/etc/apache2 /etc/nginx /srv /etc/wsgi-sites /etc/wsgi-deploy /var/lib/wsgi-deploy "
    "/etc/systemd/system /run/gunicorn /etc/letsencrypt"
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


def exec_in(container: str, cmd: str, timeout: float = 300) -> tuple[int, str]:
    """(exit code, stdout and stderr as one stream) of a shell command in a container. Through
    the docker CLI: one pipe, so nothing of the output is lost or reordered."""
    proc = subprocess.run(
        ["docker", "exec", container, "sh", "-c", f"{{ {cmd}\n}} 2>&1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def host_state(container: str) -> str:
    return exec_in(container, STATE_CMD)[1]
