"""Real HTTP requests to a site on a target container, with the site's Host header."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import docker
import requests

_CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def container_ip(name: str) -> str:
    """The address of one of our test containers on Docker's bridge network."""
    attrs = docker.from_env().containers.get(name).attrs
    networks = attrs["NetworkSettings"]["Networks"]
    for net in networks.values():
        if net.get("IPAddress"):
            return str(net["IPAddress"])
    raise LookupError(f"container {name} has no IP address")


def target_address(host: Any) -> str:  # noqa: ANN401 - testinfra's Host
    """The address a test target's sites answer at, for testinfra's `host` (ansible backend).

    A container (Docker connection): its address on Docker's bridge network. Any other target
    (a virtual machine of molecule/vagrant): its `ansible_host`, the address SSH reaches it at.
    """
    variables = host.ansible.get_variables()
    if str(variables.get("ansible_connection", "")).endswith("docker"):
        return container_ip(host.backend.get_hostname())
    return str(variables.get("ansible_host") or host.backend.get_hostname())


@dataclass
class Site:
    """One site (a Host header) on one target address, with its own cookie jar."""

    address: str
    host: str
    port: int = 80
    session: requests.Session = field(default_factory=requests.Session)

    def url(self, path: str) -> str:
        return f"http://{self.address}:{self.port}{path}"

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.session.get(
            self.url(path), headers={"Host": self.host}, timeout=30, allow_redirects=False, **kwargs
        )

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        return self.session.post(
            self.url(path),
            data=data,
            headers={"Host": self.host, "Referer": f"http://{self.host}{path}"},
            timeout=30,
            allow_redirects=False,
        )

    def csrf_token(self, html: str) -> str:
        match = _CSRF_RE.search(html)
        assert match, "no csrfmiddlewaretoken in the form"
        return match.group(1)

    def wait_ok(self, path: str, seconds: float = 30) -> requests.Response:
        """GET until 200 (a daemon process may be restarting after a reload)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                resp = self.get(path)
                if resp.status_code == 200 or time.monotonic() > deadline:
                    return resp
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.5)

    def wait_text(self, path: str, needle: str, seconds: float = 30) -> requests.Response:
        """GET until a 200 whose body contains `needle` (old workers may finish a reload)."""
        deadline = time.monotonic() + seconds
        while True:
            resp = self.wait_ok(path, seconds)
            if needle in resp.text or time.monotonic() > deadline:
                return resp
            time.sleep(0.3)
