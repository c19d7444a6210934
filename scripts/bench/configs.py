"""Hand-tuned variants of a deployed site's configuration, derived from the deployed files (pure):
the same site, served on another port, by other processes."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence


def unit_exec_start(unit: str) -> list[str]:
    """The argv of a systemd unit's ExecStart= (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", unit)
    match = re.search(r"^ExecStart=(.+)$", text, re.MULTILINE)
    if not match:
        raise ValueError("no ExecStart= in the unit")
    return shlex.split(match.group(1))


def _set_option(argv: list[str], option: str, value: str | None) -> list[str]:
    out: list[str] = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == option:
            skip = i + 1 < len(argv)
            continue
        out.append(arg)
    if value is None:
        return out
    return [*out[:-1], option, value, out[-1]]  # before the app (the last argument)


def gunicorn_argv(
    exec_start: Sequence[str], workers: int, worker_class: str, threads: int, bind: str
) -> list[str]:
    """The deployed Gunicorn command with other workers/threads, bound to `bind` itself
    (no socket activation)."""
    argv = list(exec_start)
    argv = _set_option(argv, "--workers", str(workers))
    argv = _set_option(argv, "--worker-class", worker_class)
    argv = _set_option(argv, "--threads", str(threads) if threads > 1 else None)
    argv = _set_option(argv, "--bind", bind)
    return _set_option(argv, "--umask", "0")


def nginx_server(conf: str, site: str, variant: str, port: int, socket: str) -> str:
    """The deployed server block of `site`, listening on `port`, proxying to `socket` through an
    upstream of its own."""
    upstream = "wsgi_" + site.replace("-", "_")
    new = f"{upstream}_{variant.replace('-', '_')}"
    out = re.sub(rf"\b{upstream}\b", new, conf)
    out = re.sub(r"server unix:[^;\s]+", f"server unix:{socket}", out)
    out = re.sub(r"listen (\[::\]:)?80\b([^;]*);", rf"listen \g<1>{port}\g<2>;", out)
    if out.count(f"server unix:{socket}") != 1 or f"{port}" not in out:
        raise ValueError(f"unexpected server block of {site}")
    return out


def apache_vhost(
    conf: str,
    site: str,
    group: str,
    port: int,
    processes: int,
    threads: int,
    extra: Sequence[str] = (),
) -> str:
    """The deployed vhost of `site` on `port`, its app in a daemon group of its own with
    `processes` x `threads`, with `extra` directives inside the VirtualHost."""
    out = conf.replace("<VirtualHost *:80>", f"<VirtualHost *:{port}>")
    out = re.sub(
        rf"WSGIDaemonProcess {re.escape(site)} (.*)processes=\d+ threads=\d+",
        rf"WSGIDaemonProcess {group} \g<1>processes={processes} threads={threads}",
        out,
    )
    out = out.replace(f"WSGIProcessGroup {site}\n", f"WSGIProcessGroup {group}\n")
    out = out.replace(f"process-group={site} ", f"process-group={group} ")
    if f"<VirtualHost *:{port}>" not in out or f"WSGIDaemonProcess {group} " not in out:
        raise ValueError(f"unexpected vhost of {site}")
    lines = "".join(f"    {line}\n" for line in extra)
    out = out.replace(f"<VirtualHost *:{port}>\n", f"<VirtualHost *:{port}>\n{lines}", 1)
    return f"Listen {port}\n{out}"
