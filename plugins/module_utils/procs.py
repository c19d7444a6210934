"""Processes the collection's modules start on the target: as a site's user, side by side.

One place for how a module runs a site's program (a clean environment, the app user's uid, gid
and groups, no stdin, output captured, a time limit), how many it runs at once, and how much of a
failing program's output it shows.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from typing import Any

TAIL_LINES = 40


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of `text`, saying how many came before them."""
    all_lines = text.rstrip().splitlines()
    shown = all_lines[-lines:] if lines > 0 else []
    more = len(all_lines) - len(shown)
    return (f"[... {more} earlier lines]\n" if more else "") + "\n".join(shown)


def workers(parallel: int, count: int) -> int:
    """How many to run at once: `parallel`, or min(4, CPUs) when 0; never more than `count`."""
    if parallel <= 0:
        parallel = min(4, len(os.sched_getaffinity(0)) or 1)
    return max(1, min(parallel, count))


def site_env(site: dict[str, Any], release_dir: str, user: str | None) -> dict[str, str]:
    """A clean environment for a site's wrapper (which adds the site's own); nothing of Ansible's.

    `user` None is root (HOME /root); WSGI_RELEASE names the release the wrapper runs in.
    """
    name = user or "root"
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": site["data_dir"] if user else "/root",
        "USER": name,
        "LOGNAME": name,
        "LANG": "C.UTF-8",
        "WSGI_RELEASE": release_dir,
    }


def run(
    argv: list[str],
    env: dict[str, str],
    user: str | None = None,
    timeout: int | None = None,
    cwd: str = "/",
) -> tuple[int | None, str]:
    """(exit code, or None when killed after `timeout` s; stdout and stderr together) of argv.

    With `user`, the program runs with that account's uid, gid and groups; otherwise (or when the
    module already runs as that user) as the module runs. A program that cannot start is an exit
    code 127 with the reason.
    """
    ids: dict[str, Any] = {}
    account = pwd.getpwnam(user) if user else None
    if account and account.pw_uid != os.geteuid():  # already that user: nothing to switch
        ids = {
            "user": account.pw_uid,
            "group": account.pw_gid,
            "extra_groups": os.getgrouplist(account.pw_name, account.pw_gid),
        }
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
            **ids,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.output or b""
        return None, out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out)
    except OSError as exc:
        return 127, f"{argv[0]} could not run: {exc}"
    return proc.returncode, proc.stdout.decode("utf-8", "replace")
