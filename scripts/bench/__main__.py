"""`make bench-variants` (python -m scripts.bench -h): the deployed defaults against hand-tuned
variants of the same stack in the same container, and converge timings against their targets.

A benchmark, not a test: it measures and reports, it asserts nothing. It creates, deploys and
(unless --keep) removes its own containers, named wsgi-bench-*.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from . import containers, converge, inventory, report, serve, variants

APACHE = inventory.host_name("apache", 0)
NGINX = inventory.host_name("nginx", 0)


def deploy(hosts: dict[str, list[str]], sites: int, workdir: Path) -> converge.Run:
    for names in hosts.values():
        for name in names:
            containers.start(name)
    inv = inventory.write(
        workdir / f"inventory-{sum(map(len, hosts.values()))}x{sites}.yml", hosts, sites
    )
    run = converge.playbook(inv)
    if run.rc:
        raise RuntimeError(f"converge failed:\n{run.output[-3000:]}")
    return run


def serve_part(args: argparse.Namespace, workdir: Path) -> str:
    deploy({"apache_mod_wsgi": [APACHE], "nginx_gunicorn": [NGINX]}, 3, workdir)
    for c in (APACHE, NGINX):
        variants.teardown(c)
    try:
        ng = variants.setup_nginx(NGINX, ["hello", "polls"])
        ap = variants.setup_apache(APACHE, ["hello", "polls"])
        static_ap = [v for v in ap["polls"] if v.name == "deployed" or "KeepAlive" in v.name]
        cases = [
            serve.Case("hello, Apache", APACHE, *serve.HELLO, tuple(ap["hello"])),
            serve.Case("Django polls, Apache", APACHE, *serve.POLLS, tuple(ap["polls"])),
            serve.Case("static CSS, Apache", APACHE, *serve.STATIC, tuple(static_ap)),
            serve.Case("hello, Nginx", NGINX, *serve.HELLO, tuple(ng["hello"])),
            serve.Case("Django polls, Nginx", NGINX, *serve.POLLS, tuple(ng["polls"])),
            # The server blocks differ only in their upstream: another port, as a noise control.
            serve.Case("static CSS, Nginx", NGINX, *serve.STATIC, tuple(ng["polls"][:2])),
        ]
        results = serve.measure(cases, args.rounds, args.seconds, args.connections)
    finally:
        for c in (APACHE, NGINX):
            variants.teardown(c)
    head = (
        f"wrk -t2 -c{args.connections} -d{args.seconds}s, {args.rounds} alternated rounds; "
        "deployed/best: median of the per-round ratios (min-max)"
    )
    return "\n\n".join([head, report.serve_table(results), report.variants_table(results)])


def converge_part(args: argparse.Namespace, workdir: Path) -> str:
    targets: list[report.Target] = []
    lines: list[str] = []
    for host_count in args.hosts:
        names = [inventory.host_name("conv", i) for i in range(host_count)]
        containers.remove(names)
        by_sites: dict[int, converge.NoOp] = {}
        try:
            for sites in args.sites:
                fresh = deploy({"nginx_gunicorn": names}, sites, workdir)
                inv = workdir / f"inventory-{host_count}x{sites}.yml"
                noop = converge.no_op(inv)
                by_sites[sites] = noop
                calls = max(noop.calls_per_host.values())
                lines.append(
                    f"- {host_count} host(s), {sites} sites: converge {fresh.seconds:.0f} s"
                    f" ({'fresh' if sites == args.sites[0] else 'from the previous size'}),"
                    f" no-op {noop.seconds:.1f} s, {calls} remote calls per host,"
                    f" {noop.changed} changed"
                )
                targets.append(
                    report.Target(
                        f"no-op time, {host_count} host(s), {sites} sites",
                        f"{noop.seconds:.1f} s",
                        "<= 10 s per host",
                        noop.seconds <= 10 * host_count if host_count == 1 else None,
                    )
                )
                targets.append(
                    report.Target(
                        f"no-op remote calls per host, {host_count} host(s), {sites} sites",
                        str(calls),
                        "<= ~25",
                        calls <= 25,
                    )
                )
                if host_count == 1 and sites == args.sites[0]:
                    floor = converge.floor(inventory.host_name("floor", 0))
                    lines.append(f"- physical floor (same image, same run): {floor:.0f} s")
                    targets.append(
                        report.Target(
                            f"fresh converge, 1 host, {sites} sites / physical floor",
                            f"{fresh.seconds:.0f} s / {floor:.0f} s = {fresh.seconds / floor:.2f}x",
                            "<= 1.3x",
                            fresh.seconds / floor <= 1.3,
                        )
                    )
            if len(by_sites) > 1:
                counts = {s: max(n.calls_per_host.values()) for s, n in by_sites.items()}
                targets.append(
                    report.Target(
                        f"no-op calls per host constant in sites, {host_count} host(s)",
                        " vs ".join(f"{c} ({s} sites)" for s, c in counts.items()),
                        "equal",
                        len(set(counts.values())) == 1,
                    )
                )
        finally:
            if not args.keep:
                containers.remove(names)
    return "\n".join(lines) + "\n\n" + report.targets_table(targets)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["serve", "converge"], help="run one part")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--hosts",
        type=int,
        nargs="+",
        default=[1],
        help="host counts of the converge part (e.g. 1 10)",
    )
    parser.add_argument(
        "--sites",
        type=int,
        nargs="+",
        default=[3, 30],
        help="site counts of the converge part, deployed in this order",
    )
    parser.add_argument("--keep", action="store_true", help="keep the containers")
    args = parser.parse_args()
    if args.only in (None, "serve") and not shutil.which("wrk"):  # the serve part's load
        print(
            "wrk is missing: apt-get install wrk (make bench-variants installs it)", file=sys.stderr
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="wsgi-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if args.only in (None, "serve"):
                print(serve_part(args, workdir), flush=True)
            if args.only in (None, "converge"):
                print("\n" + converge_part(args, workdir), flush=True)
        finally:
            if not args.keep:
                containers.remove([APACHE, NGINX])
    return 0


if __name__ == "__main__":
    sys.exit(main())
