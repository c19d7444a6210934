"""What the certificate a site serves says, read on the target with the openssl command line
(no Python library needed there): its names, its expiry, its issuer, whether it names an OCSP
responder, and whether certbot renews it (an ACME lineage of the site's name)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from typing import Any

ACME_RENEWAL_DIR = "/etc/letsencrypt/renewal"


def cert_info(path: str, name: str = "", now: dt.datetime | None = None) -> dict[str, Any] | None:
    """None when there is no certificate at `path`."""
    if not os.path.isfile(path) or not shutil.which("openssl"):
        return None
    proc = subprocess.run(
        ["openssl", "x509", "-in", path, "-noout", "-enddate", "-serial", "-ocsp_uri",
         "-issuer", "-nameopt", "RFC2253", "-ext", "subjectAltName"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    if proc.returncode != 0:
        return {"error": " ".join(proc.stderr.split())[:200]}
    info: dict[str, Any] = {"names": [], "ocsp": False, "issuer": "", "not_after": ""}
    for raw in proc.stdout.splitlines():
        line = raw.strip()
        if line.startswith("notAfter="):
            when = dt.datetime.strptime(line[9:].replace("  ", " "), "%b %d %H:%M:%S %Y GMT")
            when = when.replace(tzinfo=dt.UTC)
            info["not_after"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            left = when - (now or dt.datetime.now(dt.UTC))
            info["days_left"] = int(left.total_seconds() // 86400)
        elif line.startswith("issuer="):
            info["issuer"] = line[7:].strip()
        elif line.startswith("serial="):
            info["serial"] = line[7:].strip()
        elif line.startswith(("http://", "https://")):
            info["ocsp"] = True
        elif "DNS:" in line:
            info["names"] = [p.strip()[4:] for p in line.split(",") if p.strip().startswith("DNS:")]
    info["acme"] = bool(name) and os.path.isfile(os.path.join(ACME_RENEWAL_DIR, f"{name}.conf"))
    return info


def sites_certs(sites: list[dict[str, Any]]) -> dict[str, Any]:
    """Per present site with TLS, what its certificate says (None: no certificate yet)."""
    return {
        s["name"]: cert_info(s["tls"]["cert"], s["name"])
        for s in sites
        if s.get("state", "present") == "present" and (s.get("tls") or {}).get("enabled")
    }
