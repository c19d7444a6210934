"""Real HTTP requests to a site on a target container, with the site's Host header."""

from __future__ import annotations

import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import docker
import requests
from requests.adapters import HTTPAdapter

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


def raw_request(address: str, port: int, request: bytes, tls: bool = False) -> str:
    """What a server first answers to `request` sent as is (e.g. HTTP/1.0 without a Host
    header, which no HTTP library sends); over TLS without SNI, the certificate not checked."""
    sock: socket.socket = socket.create_connection((address, port), timeout=15)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(sock)
    with sock:
        sock.sendall(request)
        return sock.recv(4096).decode("latin-1")


class SNIAdapter(HTTPAdapter):
    """HTTPS to an address with another name: the name as SNI and for the certificate check."""

    def __init__(self, server_name: str, **kwargs: Any) -> None:  # noqa: ANN401
        self.server_name = server_name
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        kwargs["server_hostname"] = self.server_name
        kwargs["assert_hostname"] = self.server_name
        super().init_poolmanager(*args, **kwargs)


def https_session(server_name: str, ca: str | bool = True) -> requests.Session:
    """A session whose HTTPS requests send `server_name` as SNI and verify against `ca` (a PEM
    file; False: not verified)."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would win over `verify`
    session.mount("https://", SNIAdapter(server_name))
    session.verify = ca
    return session


@dataclass
class Site:
    """One site (a Host header; over HTTPS also the SNI name) on one target address, with its
    own cookie jar. `ca`: the PEM file HTTPS certificates are verified against (False: none)."""

    address: str
    host: str
    port: int = 0  # 0: the scheme's port
    session: requests.Session = field(default_factory=requests.Session)
    scheme: str = "http"
    ca: str | bool = True

    def __post_init__(self) -> None:
        if not self.port:
            self.port = 443 if self.scheme == "https" else 80
        if self.scheme == "https":
            self.session = https_session(self.host, self.ca)

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.address}:{self.port}{path}"

    def get(
        self, path: str, headers: dict[str, str] | None = None, **kwargs: object
    ) -> requests.Response:
        return self.session.get(
            self.url(path),
            headers={"Host": self.host, **(headers or {})},
            timeout=30,
            allow_redirects=False,
            **kwargs,
        )

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        return self.session.post(
            self.url(path),
            data=data,
            headers={"Host": self.host, "Referer": f"{self.scheme}://{self.host}{path}"},
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
