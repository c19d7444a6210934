"""Faults: killed Gunicorn masters and workers, mod_wsgi daemon processes and Apache's parent,
each under a bounded load (4 clients looping requests). The collection's units bring the site
back by themselves; how long it took and how many requests failed is measured and reported (a
report, not a timed assertion: the only assertion is that the site comes back)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from safety_support import LIVE, NGINX, exec_in
from wsgi_testlib.load import Load
from wsgi_testlib.web import container_ip

FAULT_REPORT: list[str] = []  # printed by conftest.py


@dataclass(frozen=True)
class Fault:
    name: str
    container: str
    command: str  # run in the container: the fault
    host: str = "departamentos.centro.intranet"
    path: str = "/test"


FAULTS = [
    Fault(
        "Gunicorn master killed (kill -9)",
        NGINX,
        "kill -9 $(systemctl show -p MainPID --value gunicorn-hello.service)",
    ),
    Fault(
        "one Gunicorn worker killed (kill -9)",
        NGINX,
        "kill -9 $(pgrep -P $(systemctl show -p MainPID --value gunicorn-hello.service) | head -1)",
    ),
    Fault("mod_wsgi daemon processes killed (kill -9)", LIVE, "pkill -9 -u wsgi-hello"),
    Fault("Apache parent killed (kill -9)", LIVE, "kill -9 $(cat /run/apache2/apache2.pid)"),
]


def _report(line: str) -> None:
    FAULT_REPORT.append(line)
    logs = os.environ.get("WSGI_TEST_LOGS") or os.environ.get("LOGS")
    if logs:
        Path(logs).mkdir(parents=True, exist_ok=True)
        with open(Path(logs) / "fault-recovery-report.txt", "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_the_site_recovers_by_itself(fault: Fault) -> None:
    url = f"http://{container_ip(fault.container)}{fault.path}"
    with Load(url, fault.host, clients=4, limit=90) as load:
        time.sleep(3)  # a steady state first
        injected = time.monotonic()
        rc, out = exec_in(fault.container, fault.command)
        assert rc == 0, out
        time.sleep(2)
        back: float | None = None  # when the clients got good answers again, for good
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            recent = [s for s in load.samples[-8:] if s.start > injected + 1]
            if len(recent) == 8 and all(s.status == 200 for s in recent):
                back = recent[0].start
                break
            time.sleep(0.5)
        time.sleep(2)
    _report(
        f"{fault.name:45} on {fault.container.rsplit('-', 1)[-1]:6}: back after "
        f"{load.recovery(injected):5.2f} s; {load.summary()}"
    )
    assert back is not None, f"the site did not come back within 60 s: {load.summary()}"
    after = [s for s in load.samples if s.start >= back]
    assert after and all(s.status == 200 for s in after), load.summary()
