"""The TLS fields of a site (`tls`, `headers`): their validation and their normalised form.

Pure Python (no cryptography): the site model imports it on the controller, in the console and
on targets. What a certificate says (key match, names, dates, chain) is checked on the controller
by wsgi.deploy.certs (plugins/module_utils/certs.py), before any change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

TLS_MODES = ("off", "self_signed", "provided", "acme")
TLS_KEYS = {"mode", "cert", "cert_file", "key", "key_file", "hsts"}
HSTS_KEYS = {"max_age", "include_subdomains", "preload"}
# RFC 7230 token: what a header name may be.
HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
# A header value written into a VirtualHost and a server block inside double quotes: printable
# ASCII but the quote, the backslash and the characters the two formats expand ($ in Nginx,
# % in Apache's Header directive).
HEADER_VALUE_RE = re.compile(r"^[ !#&-\[\]-~]*$")
# Headers the collection sets itself (or the web servers must own): a site cannot override them.
OWN_HEADERS = frozenset(
    h.lower()
    for h in (
        "Strict-Transport-Security", "X-Content-Type-Options", "Cache-Control", "Content-Length",
        "Content-Type", "Content-Encoding", "Transfer-Encoding", "Connection", "Vary", "Location",
        "Set-Cookie", "Server", "Date",
    )
)  # fmt: skip
FILE_RE = re.compile(r"^[A-Za-z0-9._+@/-]+$")
DEFAULT_HSTS_MAX_AGE = 31536000
DEFAULT_TLS_DIR = "/etc/wsgi-deploy/tls"

Report = Callable[[str, str], None]


def tls_value(site: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The site's `tls` as a mapping (a bare string is the mode), the host default filled in."""
    raw = site.get("tls", settings.get("tls") or "off")
    if isinstance(raw, str):
        return {"mode": raw}
    if isinstance(raw, dict):
        return {"mode": settings.get("tls") or "off", **raw}
    return {"mode": raw}


def check_tls(site: dict[str, Any], settings: dict[str, Any], err: Report) -> None:
    raw = site.get("tls")
    if raw is not None and not isinstance(raw, (str, dict)):
        err("tls", f"must be one of {', '.join(TLS_MODES)} or a mapping with 'mode'")
        return
    tls = tls_value(site, settings)
    for key in sorted(set(tls) - TLS_KEYS):
        err(f"tls.{key}", f"unknown option (known: {', '.join(sorted(TLS_KEYS))})")
    mode = tls.get("mode")
    if mode not in TLS_MODES:
        err("tls", f"{mode!r} is not one of {', '.join(TLS_MODES)}")
        return
    material = [k for k in ("cert", "cert_file", "key", "key_file") if tls.get(k) is not None]
    if mode == "provided":
        for what in ("cert", "key"):
            both = tls.get(what) is not None and tls.get(f"{what}_file") is not None
            if both:
                err(f"tls.{what}", f"give either '{what}' (PEM, from Vault) or '{what}_file'")
            elif tls.get(what) is None and tls.get(f"{what}_file") is None:
                err(
                    f"tls.{what}",
                    f"mode 'provided' needs '{what}' (PEM, from Vault) or '{what}_file'",
                )
        for what in ("cert", "key"):
            pem = tls.get(what)
            if pem is not None and (not isinstance(pem, str) or "-----BEGIN " not in pem):
                err(f"tls.{what}", "must be PEM text (-----BEGIN ...)")
            path = tls.get(f"{what}_file")
            if path is not None and (not isinstance(path, str) or not FILE_RE.match(path)):
                err(f"tls.{what}_file", f"{path!r} must be a file path on the controller")
    elif material:
        err(f"tls.{material[0]}", f"only for mode 'provided' (this site's mode is {mode!r})")
    _check_hsts(tls.get("hsts"), err)


def _check_hsts(hsts: Any, err: Report) -> None:
    if hsts is None:
        return
    if not isinstance(hsts, dict):
        err("tls.hsts", "must be a mapping (max_age, include_subdomains, preload)")
        return
    for key in sorted(set(hsts) - HSTS_KEYS):
        err(f"tls.hsts.{key}", f"unknown option (known: {', '.join(sorted(HSTS_KEYS))})")
    age = hsts.get("max_age")
    if age is not None and (not isinstance(age, int) or isinstance(age, bool) or age < 0):
        err("tls.hsts.max_age", f"{age!r} must be a number of seconds >= 0 (0 turns HSTS off)")
    for key in ("include_subdomains", "preload"):
        if key in hsts and not isinstance(hsts[key], bool):
            err(f"tls.hsts.{key}", "must be true or false")
    if hsts.get("preload") and (
        not hsts.get("include_subdomains") or (age or 0) < DEFAULT_HSTS_MAX_AGE
    ):
        err("tls.hsts.preload", "needs include_subdomains and a max_age of at least one year")


def check_headers(site: dict[str, Any], err: Report) -> None:
    headers = site.get("headers")
    if headers is None:
        return
    if not isinstance(headers, dict):
        err("headers", "must be a mapping of header name -> value")
        return
    for name, value in headers.items():
        if not isinstance(name, str) or not HEADER_NAME_RE.match(name):
            err("headers", f"{name!r} is not a valid header name")
        elif name.lower() in OWN_HEADERS:
            err(f"headers.{name}", "is set by the collection or the web server, not by a site")
        elif not isinstance(value, str) or not value.strip() or not HEADER_VALUE_RE.match(value):
            err(
                f"headers.{name}",
                'must be a non-empty single line of printable ASCII without ", \\, $ or %',
            )


def normalize_tls(site: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    tls = tls_value(site, settings)
    mode = tls["mode"]
    hsts = dict(tls.get("hsts") or {})
    age = hsts.get("max_age", settings.get("hsts_max_age", DEFAULT_HSTS_MAX_AGE))
    directory = f"{settings.get('tls_dir') or DEFAULT_TLS_DIR}/{site['name']}"
    hsts_value = ""
    if mode != "off" and age:
        hsts_value = f"max-age={int(age)}"
        if hsts.get("include_subdomains"):
            hsts_value += "; includeSubDomains"
        if hsts.get("preload"):
            hsts_value += "; preload"
    return {
        "mode": mode,
        "enabled": mode != "off",
        "dir": directory,
        "cert": f"{directory}/fullchain.pem",
        "key": f"{directory}/privkey.pem",
        "hsts": hsts_value,
        "cert_file": tls.get("cert_file"),
        "key_file": tls.get("key_file"),
    }
