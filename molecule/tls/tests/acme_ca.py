"""The tls scenario's ACME CAs: two Pebbles in one container (prepare.yml), the Nginx host's
requiring an external account binding."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from wsgi_testlib.web import container_ip, https_session

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
PEBBLE = "wsgi-mol-tls-pebble"
# Management API port of each host's Pebble (the ACME directory is on 14000 / 14001).
MANAGEMENT = {"wsgi-mol-tls-apache": 15000, "wsgi-mol-tls-nginx": 15001}


# The roots fetched by this test session: a Pebble makes a new root each time it starts, so a
# file an earlier (interrupted) run left in the ephemeral directory is never trusted.
_FETCHED: set[int] = set()


def root_of(management_port: int) -> Path:
    """The root CA of the Pebble on that management port (made when it starts)."""
    path = EPHEMERAL / f"pebble-{management_port}-root.pem"
    if management_port not in _FETCHED:
        session = https_session("pebble", str(EPHEMERAL / "pki" / "root.pem"))
        url = f"https://{container_ip(PEBBLE)}:{management_port}/roots/0"
        pem = session.get(url, timeout=30).text
        assert "BEGIN CERTIFICATE" in pem
        path.write_text(pem)
        _FETCHED.add(management_port)
    return path


def pebble_root(host: Any) -> Path:  # noqa: ANN401 - testinfra's Host
    """The root of the CA that issues the host's ACME certificates."""
    return root_of(MANAGEMENT[host.backend.get_hostname()])
