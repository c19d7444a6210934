"""Does a site answer? Real HTTP requests from the target to its own web server, with the site's
Host name (over HTTPS with it as SNI name for a site with TLS), retried until a deadline (a daemon
process may still be starting)."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

HTTPS_PORT = 443


def _tls_context() -> ssl.SSLContext:
    # The check asks whether the site answers; its certificate is checked before it is installed.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def probe(
    port: int, host: str, path: str, timeout: float = 10.0, tls: bool = False
) -> tuple[int, str]:
    """(status, first bytes of the body) of GET http(s)://<host><path> sent to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    if tls:
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        conn.sock = _tls_context().wrap_socket(raw, server_hostname=host)
    try:
        conn.request("GET", path, headers={"Host": host, "User-Agent": "wsgi.deploy-check"})
        resp = conn.getresponse()
        body = resp.read(65536).decode("utf-8", "replace")
        return resp.status, body
    finally:
        conn.close()


def acceptable(check: dict[str, Any], status: int, body: str) -> bool:
    statuses = check.get("status") or []
    if statuses and status not in statuses:
        return False
    if not statuses and status >= 500:
        return False
    text = check.get("text")
    return not text or text in body


def describe(check: dict[str, Any]) -> str:
    statuses = check.get("status") or []
    want = "status " + "/".join(map(str, statuses)) if statuses else "a status below 500"
    if check.get("text"):
        want += f" with {check['text']!r} in the body"
    return want


def check_one(port: int, check: dict[str, Any], https_port: int = HTTPS_PORT) -> dict[str, Any]:
    """Retry one check until it passes or its timeout ends; report what was seen last."""
    deadline = time.monotonic() + float(check.get("timeout") or 30)
    seen = "no answer"
    tries = 0
    while True:
        tries += 1
        try:
            if check.get("tls"):
                status, body = probe(https_port, check["host"], check["path"], tls=True)
            else:
                status, body = probe(port, check["host"], check["path"])
            seen = f"HTTP {status}: {' '.join(body.split())[:200]}"
            if acceptable(check, status, body):
                return {"site": check["site"], "ok": True, "seen": seen, "tries": tries}
        except (TimeoutError, OSError, ssl.SSLError, http.client.HTTPException) as exc:
            seen = f"no HTTP answer ({exc.__class__.__name__}: {exc})"
        if time.monotonic() >= deadline:
            return {
                "site": check["site"],
                "ok": False,
                "seen": seen,
                "tries": tries,
                "wanted": describe(check),
                "url": f"{'https' if check.get('tls') else 'http'}://{check['host']}{check['path']}",
            }
        time.sleep(0.5)


def checks_for(sites: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The health check of each normalised site record (its `health`, with its main name)."""
    out = []
    for site in sites:
        health = site.get("health") or {}
        out.append(
            {
                "site": site["name"],
                "host": site["domain"],
                "path": health.get("path") or site.get("path") or "/",
                "status": health.get("status") or [],
                "text": health.get("text"),
                "timeout": health.get("timeout") or 30,
                "tls": bool((site.get("tls") or {}).get("enabled")),
            }
        )
    return out


PARALLEL = 8  # checks in flight at once (sites that boot at once share the CPUs)


def check_all(
    port: int, checks: list[dict[str, Any]], https_port: int = HTTPS_PORT
) -> list[dict[str, Any]]:
    """Every check, run side by side (results in the order of ``checks``): sites that fail
    cost one timeout together, not one each (30 sites down held a run for 15 minutes)."""
    if len(checks) < 2:
        return [check_one(port, c, https_port) for c in checks]
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(checks))) as pool:
        return list(pool.map(lambda c: check_one(port, c, https_port), checks))


def failures_text(results: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"site '{r['site']}': {r['url']} wanted {r['wanted']}, got {r['seen']}"
        for r in results
        if not r["ok"]
    )
