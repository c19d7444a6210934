"""Set up hand-tuned variants beside the deployed sites in the benchmark's containers, and remove
them: extra Gunicorns (plain `systemd-run` services, no socket activation, no sandboxing) with a
matching Nginx server block on another port; extra Apache vhosts on other ports with daemon groups
of their own."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from . import configs
from .containers import sh

BENCH_DIR = "/run/wsgi-bench"
FIRST_PORT = 8100


@dataclass(frozen=True)
class Variant:
    name: str
    port: int  # in the container; the deployed config is on 80


@dataclass(frozen=True)
class GunicornVariant:
    worker_class: str
    workers: int
    threads: int

    @property
    def name(self) -> str:
        if self.worker_class == "sync":
            return f"sync x{self.workers} (plain)"
        return f"{self.worker_class} {self.workers}x{self.threads} (plain)"


def cores(container: str) -> int:
    return int(sh(container, "nproc").strip())


def _deployed_gunicorn(unit: str) -> GunicornVariant:
    argv = configs.unit_exec_start(unit)

    def opt(name: str, default: str) -> str:
        return argv[argv.index(name) + 1] if name in argv else default

    return GunicornVariant(
        opt("--worker-class", "sync"), int(opt("--workers", "1")), int(opt("--threads", "1"))
    )


def gunicorn_variants(n: int) -> list[GunicornVariant]:
    """The hand-tuned Gunicorn settings tried on an n-core host."""
    return [
        GunicornVariant("sync", 2 * n + 1, 1),
        GunicornVariant("gthread", n, 4),
        GunicornVariant("gthread", n, 8),
        GunicornVariant("gthread", 2 * n, 4),
        GunicornVariant("gthread", 2 * n, 8),
    ]


def setup_nginx(
    container: str, sites: list[str], port: int = FIRST_PORT
) -> dict[str, list[Variant]]:
    """Per site, its Gunicorn variants (one of them with the deployed unit's own settings: the
    unit's overhead) behind server blocks of their own."""
    n = cores(container)
    sh(container, f"mkdir -p {BENCH_DIR} && chmod 0777 {BENCH_DIR}")
    out: dict[str, list[Variant]] = {}
    for site in sites:
        unit = sh(container, f"cat /etc/systemd/system/gunicorn-{site}.service")
        conf = sh(container, f"cat /etc/nginx/sites-available/{site}.conf")
        run_user = sh(container, f"systemctl show -p User --value gunicorn-{site}").strip()
        workdir = sh(container, f"systemctl show -p WorkingDirectory --value gunicorn-{site}")
        env = sh(container, f"systemctl show -p Environment --value gunicorn-{site}").split()
        deployed = _deployed_gunicorn(unit)
        tried = [deployed, *(v for v in gunicorn_variants(n) if v != deployed)]
        out[site] = [Variant("deployed", 80)]
        for i, g in enumerate(tried):
            tag = f"v{i}"
            socket = f"{BENCH_DIR}/{site}-{tag}.sock"
            argv = configs.gunicorn_argv(
                configs.unit_exec_start(unit),
                g.workers,
                g.worker_class,
                g.threads,
                f"unix:{socket}",
            )
            run = [
                "systemd-run",
                f"--unit=wsgi-bench-{site}-{tag}",
                f"--uid={run_user}",
                f"--gid={run_user}",
                f"--working-directory={workdir.strip()}",
                *(f"--setenv={e}" for e in env),
                *argv,
            ]
            sh(container, shlex.join(run))
            block = configs.nginx_server(conf, site, tag, port, socket)
            sh(container, f"cat > /etc/nginx/conf.d/zz-bench-{site}-{tag}.conf", stdin=block)
            name = g.name + (" = deployed settings" if g == deployed else "")
            out[site].append(Variant(name, port))
            port += 1
    _wait_sockets(container)
    sh(container, "nginx -t 2>&1 && systemctl reload nginx")
    wait_ports(container, [v.port for vs in out.values() for v in vs])
    return out


def _wait_sockets(container: str) -> None:
    sh(
        container,
        f"for i in $(seq 100); do n=$(ls {BENCH_DIR}/*.sock 2>/dev/null | wc -l); "
        f"[ $n -eq $(systemctl list-units 'wsgi-bench-*' --plain --no-legend | wc -l) ] "
        f"&& exit 0; sleep 0.3; done; exit 1",
    )


def wait_ports(container: str, ports: list[int]) -> None:
    """Until every port answers in the container (a reload returns before it listens)."""
    for port in sorted(set(ports)):
        sh(container, f"for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null "
                      f"&& exit 0; sleep 0.2; done; exit 1")  # fmt: skip


@dataclass(frozen=True)
class ApacheVariant:
    name: str
    processes: int
    threads: int
    extra: tuple[str, ...] = ()


def apache_variants(n: int) -> list[ApacheVariant]:
    """The hand-tuned Apache settings tried on an n-core host."""

    def keepalive(requests: int) -> tuple[str, ...]:
        return ("KeepAlive On", f"MaxKeepAliveRequests {requests}", "KeepAliveTimeout 5")

    return [
        ApacheVariant(f"daemon p{n} t15", n, 15),
        ApacheVariant(f"daemon p{2 * n} t8", 2 * n, 8),
        ApacheVariant(f"daemon p{n} t4", n, 4),
        ApacheVariant(f"daemon p{n} t15, MaxKeepAliveRequests 100 (Debian)", n, 15, keepalive(100)),
        ApacheVariant(f"daemon p{n} t15, MaxKeepAliveRequests 1000", n, 15, keepalive(1000)),
    ]


def setup_apache(
    container: str, sites: list[str], port: int = FIRST_PORT
) -> dict[str, list[Variant]]:
    n = cores(container)
    out: dict[str, list[Variant]] = {}
    for site in sites:
        conf = sh(container, f"cat /etc/apache2/sites-available/{site}.conf")
        out[site] = [Variant("deployed", 80)]
        for i, a in enumerate(apache_variants(n)):
            group = f"bench_{site.replace('-', '_')}_v{i}"
            vhost = configs.apache_vhost(conf, site, group, port, a.processes, a.threads, a.extra)
            path = f"/etc/apache2/sites-enabled/zz-bench-{site}-v{i}.conf"
            sh(container, f"cat > {path}", stdin=vhost)
            out[site].append(Variant(a.name, port))
            port += 1
    sh(container, "apache2ctl configtest 2>&1 && systemctl reload apache2")
    wait_ports(container, [v.port for vs in out.values() for v in vs])
    return out


def teardown(container: str) -> None:
    """Remove every variant (the deployed configuration is left as it was)."""
    script = (
        "systemctl stop 'wsgi-bench-*' 2>/dev/null || true; "
        "rm -f /etc/nginx/conf.d/zz-bench-*.conf /etc/apache2/sites-enabled/zz-bench-*.conf; "
        f"rm -rf {BENCH_DIR}; "
        "if [ -d /etc/nginx ]; then systemctl reload nginx; fi; "
        "if [ -d /etc/apache2 ]; then systemctl reload apache2; fi"
    )
    sh(container, script)


def dump(variants: dict[str, list[Variant]]) -> str:
    return json.dumps({k: [v.__dict__ for v in vs] for k, vs in variants.items()})
