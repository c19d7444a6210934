"""HTTPS on both stacks (Apache on Debian 12, Nginx on Debian 13), over real TLS with each site's
SNI name: certificates from Pebble over ACME HTTP-01, provided and from the local CA; redirects,
HSTS, protocol versions, HTTP/2, unknown names, headers, Django over HTTPS, a forced renewal under
load, check mode, and bad certificates refused before any change."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import acme_ca
import pytest
import yaml
from cryptography import x509
from wsgi_testlib import pki
from wsgi_testlib.flows import post_guestbook_message
from wsgi_testlib.hoststate import host_state
from wsgi_testlib.load import Load
from wsgi_testlib.playbook import molecule_inventory, run_playbook
from wsgi_testlib.web import Site, https_session, raw_request, target_address

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
PKI = EPHEMERAL / "pki"
LOCAL_CA = EPHEMERAL / "wsgi-ca" / "ca.pem"
SCENARIO = Path(__file__).resolve().parents[1]
# Printed at the end of the run (molecule/_shared/conftest.py).
REPORT: list[str] = []


@pytest.fixture(autouse=True)
def _targets_only(host) -> None:  # noqa: ANN001
    if "wsgi_servers" not in host.ansible.get_variables().get("group_names", []):
        pytest.skip("Pebble's container")


@pytest.fixture
def pebble_root(host) -> Path:  # noqa: ANN001
    return acme_ca.pebble_root(host)


def zone(host) -> str:  # noqa: ANN001
    return str(host.ansible.get_variables()["wsgi_test_zone"])


def names(host) -> dict[str, list[str]]:  # noqa: ANN001
    z = zone(host)
    return {
        "guestbook": [f"guestbook.{z}", f"www.guestbook.{z}"],
        "hello": [f"departamentos.{z}", f"www.departamentos.{z}"],
        "polls": [f"poll.{z}"],
    }


def handshake(address: str, name: str | None, ctx: ssl.SSLContext) -> ssl.SSLSocket:
    raw = socket.create_connection((address, 443), timeout=15)
    return ctx.wrap_socket(raw, server_hostname=name)


def verified(address: str, name: str, ca: Path) -> x509.Certificate:
    """The leaf the site serves, after a handshake that verified its chain against `ca`."""
    ctx = ssl.create_default_context(cafile=str(ca))
    with handshake(address, name, ctx) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der
    return x509.load_der_x509_certificate(der)


def unverified(address: str, name: str | None) -> x509.Certificate:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with handshake(address, name, ctx) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der
    return x509.load_der_x509_certificate(der)


def https(address: str, name: str, ca: Path | bool = False) -> Site:
    return Site(address, name, scheme="https", ca=str(ca) if isinstance(ca, Path) else ca)


# ----------------------------------------------------------------------------- certificates


def test_acme_certificates_verify_against_pebbles_root(host, pebble_root: Path) -> None:  # noqa: ANN001
    address = target_address(host)
    for name in names(host)["guestbook"]:
        leaf = verified(address, name, pebble_root)
        assert "Pebble" in leaf.issuer.rfc4514_string() or "Pebble" in str(leaf.issuer)
    assert host.file("/etc/letsencrypt/renewal/guestbook.conf").exists
    renewal = host.file("/etc/letsencrypt/renewal/guestbook.conf").content_string
    assert "webroot" in renewal and "certbot-deploy-hook" in renewal
    port = 14001 if host.backend.get_hostname() == "wsgi-mol-tls-nginx" else 14000
    assert f"pebble:{port}" in renewal


def test_self_signed_sites_verify_against_the_local_ca(host) -> None:  # noqa: ANN001
    address = target_address(host)
    for name in names(host)["hello"]:
        leaf = verified(address, name, LOCAL_CA)
        assert "wsgi-deploy local CA" in leaf.issuer.rfc4514_string()


def test_provided_certificate_is_served_with_its_chain(host) -> None:  # noqa: ANN001
    address = target_address(host)
    name = names(host)["polls"][0]
    leaf = verified(address, name, PKI / "root.pem")  # the intermediate is sent by the server
    given = pki.x509.load_pem_x509_certificates((PKI / f"{name}.chain.pem").read_bytes())[0]
    assert leaf == given


def test_keys_are_root_only_and_the_renewal_timer_runs(host) -> None:  # noqa: ANN001
    for site in ("guestbook", "hello", "polls", "_default"):
        key = host.file(f"/etc/wsgi-deploy/tls/{site}/privkey.pem")
        assert (key.user, key.group, key.mode) == ("root", "root", 0o600), site
        assert host.file(f"/etc/wsgi-deploy/tls/{site}/fullchain.pem").mode == 0o644
    assert host.service("certbot.timer").is_enabled
    assert host.service("certbot.timer").is_running


def _stapled(address: str, name: str, ca: Path = PKI / "root.pem") -> str:
    """What `openssl s_client -status` says of the OCSP response the server staples for `name`
    (its chain verified against `ca`)."""
    run = subprocess.run(
        ["openssl", "s_client", "-connect", f"{address}:443", "-servername", name, "-status",
         "-CAfile", str(ca), "-verify_return_error"],
        input="", capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return run.stdout


def test_ocsp_stapling_where_the_certificate_names_a_responder(host) -> None:  # noqa: ANN001
    """The provided certificate names the OCSP responder beside Pebble (`openssl ocsp`, for the
    test intermediate): both servers staple its answer; a certificate without a responder (the
    local CA's) gets no stapling."""
    address = target_address(host)
    name = names(host)["polls"][0]
    # Nginx asks the responder after the first handshake that wants a staple, Apache during it.
    deadline = time.monotonic() + 60
    out = _stapled(address, name)
    while "OCSP Response Status: successful" not in out and time.monotonic() < deadline:
        time.sleep(1)
        out = _stapled(address, name)
    assert "OCSP Response Status: successful" in out, out[:3000]
    assert "Cert Status: good" in out, out[:3000]
    assert "Verify return code: 0 (ok)" in out, out[:3000]  # the chain; Nginx checks the staple
    local = _stapled(address, names(host)["hello"][0], LOCAL_CA)
    assert "OCSP response: no response sent" in local, local[:3000]


def test_acme_external_account_binding(host) -> None:  # noqa: ANN001
    """The Nginx host's ACME CA registers only accounts with an external account binding: its
    certificate was issued, so the binding was sent; the HMAC key is in a root-only file
    certbot reads (not on its command line), never in its renewal configuration."""
    if host.backend.get_hostname() != "wsgi-mol-tls-nginx":
        pytest.skip("the Nginx host's ACME CA requires the binding")
    hmac_key = (EPHEMERAL / "secrets" / "eab-hmac").read_text().strip()
    renewal = host.file("/etc/letsencrypt/renewal/guestbook.conf").content_string
    assert "pebble:14001" in renewal
    assert hmac_key not in renewal
    eab = host.file("/etc/wsgi-deploy/tls/acme-eab.ini")
    assert (eab.user, eab.group, eab.mode) == ("root", "root", 0o600)
    assert f"eab-hmac-key = {hmac_key}" in eab.content_string
    leaf = verified(target_address(host), names(host)["guestbook"][0], acme_ca.root_of(15001))
    assert "Pebble" in leaf.issuer.rfc4514_string()


# ----------------------------------------------------------------------------- HTTP and TLS


def test_http_redirects_to_https_keeping_path_and_query(host) -> None:  # noqa: ANN001
    address = target_address(host)
    for site_names in names(host).values():
        for name in site_names:
            resp = Site(address, name).get("/some/path?x=1&y=two")
            assert resp.status_code == 301, (name, resp.status_code)
            assert resp.headers["Location"] == f"https://{name}/some/path?x=1&y=two"


def test_acme_challenges_are_answered_on_http(host) -> None:  # noqa: ANN001
    token = "wsgi-test-token-0123456789"
    path = f"/var/lib/wsgi-deploy/acme/.well-known/acme-challenge/{token}"
    host.run(f"echo {token}.thumbprint > {path}")
    try:
        for name in names(host)["guestbook"]:
            resp = Site(target_address(host), name).get(f"/.well-known/acme-challenge/{token}")
            assert resp.status_code == 200, (name, resp.status_code)
            assert resp.text.strip() == f"{token}.thumbprint"
    finally:
        host.run(f"rm -f {path}")


def test_hsts_once_a_site_has_tls(host) -> None:  # noqa: ANN001
    address = target_address(host)
    n = names(host)
    assert https(address, n["guestbook"][0]).get("/").headers["Strict-Transport-Security"] == (
        "max-age=31536000"
    )
    assert https(address, n["polls"][0]).get("/").headers["Strict-Transport-Security"] == (
        "max-age=600"
    )


def _legacy_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")  # this client would speak TLS 1.0/1.1: the server must not
    ctx.minimum_version = version
    ctx.maximum_version = version
    return ctx


def test_only_tls_1_2_and_1_3_with_http2(host) -> None:  # noqa: ANN001
    address = target_address(host)
    name = names(host)["guestbook"][0]
    for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        with pytest.raises(ssl.SSLError):
            handshake(address, name, _legacy_context(old)).close()
    for good in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        with handshake(address, name, _legacy_context(good)) as tls:  # the same client, newer
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with handshake(address, name, ctx) as tls:
        assert tls.selected_alpn_protocol() == "h2"


def test_unknown_or_missing_names_are_refused_the_same_way(host) -> None:  # noqa: ANN001
    address = target_address(host)
    assert Site(address, "evil.example.net").get("/").status_code == 421
    assert raw_request(address, 80, b"GET / HTTP/1.0\r\n\r\n").startswith("HTTP/1.1 421")
    assert https(address, "evil.example.net").get("/").status_code == 421
    assert raw_request(address, 443, b"GET / HTTP/1.0\r\n\r\n", tls=True).startswith("HTTP/1.1 421")
    for sni in ("evil.example.net", None):
        leaf = unverified(address, sni)
        assert leaf.subject.rfc4514_string() == "CN=default.invalid"  # no site's certificate
    # A site's certificate with another site's name: its own server answers, not the other's.
    other = https(address, names(host)["polls"][0])
    resp = other.session.get(other.url("/"), headers={"Host": "evil.example.net"}, timeout=30)
    assert resp.status_code in (400, 421)


def test_no_debian_default_page(host) -> None:  # noqa: ANN001
    hello = https(target_address(host), names(host)["hello"][0])
    for path in ("/", "/index.html", "/nothing"):
        resp = hello.get(path)
        assert resp.status_code == 404, (path, resp.status_code)
        assert "It works" not in resp.text and "Welcome to nginx" not in resp.text
    assert hello.get("/test").status_code == 200


# ----------------------------------------------------------------------------- headers


def test_every_response_says_nosniff_and_the_sites_headers(host) -> None:  # noqa: ANN001
    address = target_address(host)
    n = names(host)
    hello = https(address, n["hello"][0])
    for path in ("/test", "/test/static/hello.css", "/nothing"):
        resp = hello.get(path)
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", path
        assert resp.headers.get("Permissions-Policy") == "geolocation=(), camera=()", path
    guestbook = https(address, n["guestbook"][0])
    for path in ("/", "/static/admin/css/base.css"):
        resp = guestbook.get(path)
        assert resp.raw.headers.getlist("X-Content-Type-Options") == ["nosniff"], path


def test_static_files_one_cache_control_and_compression(host) -> None:  # noqa: ANN001
    guestbook = https(target_address(host), names(host)["guestbook"][0])
    resp = guestbook.get("/static/admin/css/base.css", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200
    assert len(resp.raw.headers.getlist("Cache-Control")) == 1, resp.raw.headers
    assert "max-age=604800" in resp.headers["Cache-Control"]
    assert resp.headers.get("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in resp.headers.get("Vary", "")
    page = guestbook.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in page.headers.get("Vary", "")
    hashed = "/srv/wsgi/guestbook/static/app.0123456789ab.css"
    host.run(f"printf 'body{{}}' > {hashed}")
    try:
        resp = guestbook.get("/static/app.0123456789ab.css")
        assert resp.status_code == 200
        assert resp.raw.headers.getlist("Cache-Control") == ["public, max-age=31536000, immutable"]
    finally:
        host.run(f"rm -f {hashed}")


# ----------------------------------------------------------------------------- Django


def test_django_over_https_csrf_post_secure_cookies_admin_login(host, pebble_root: Path) -> None:  # noqa: ANN001
    guestbook = https(target_address(host), names(host)["guestbook"][0], pebble_root)
    post_guestbook_message(guestbook)
    cookie = next(c for c in guestbook.session.cookies if c.name == "csrftoken")
    assert cookie.secure
    login = guestbook.get("/admin/login/")
    assert login.status_code == 200
    resp = guestbook.post(
        "/admin/login/",
        {"csrfmiddlewaretoken": guestbook.csrf_token(login.text), "username": "x", "password": "y"},
    )
    assert resp.status_code == 200  # the form again, with its error: CSRF passed over HTTPS
    assert "Please enter the correct username and password" in resp.text
    env = host.file("/etc/wsgi-sites/guestbook.env").content_string
    assert 'DJANGO_SESSION_COOKIE_SECURE="1"' in env and 'DJANGO_CSRF_COOKIE_SECURE="1"' in env
    assert f'DJANGO_CSRF_TRUSTED_ORIGINS="https://{names(host)["guestbook"][0]}' in env
    assert "http://" not in env.split("DJANGO_CSRF_TRUSTED_ORIGINS=")[1].splitlines()[0]


# ----------------------------------------------------------------------------- runs


def test_check_mode_with_diff_changes_nothing_and_shows_no_key(host) -> None:  # noqa: ANN001
    if host.backend.get_hostname() != "wsgi-mol-tls-apache":
        pytest.skip("one run covers both hosts")
    run = run_playbook("site.yml", molecule_inventory(), "--check", "--diff")
    assert run.rc == 0, run.output[-3000:]
    assert not run.changed_tasks(), run.changed_tasks()
    assert "PRIVATE KEY" not in run.output
    assert (EPHEMERAL / "secrets" / "eab-hmac").read_text().strip() not in run.output


def _bad_material(directory: Path) -> list[tuple[str, dict[str, Any], str]]:
    """(site name, tls field, expected message part) per kind of bad certificate input."""
    inter = pki.load(PKI, "inter")
    cases: list[tuple[str, dict[str, Any], str]] = []

    def files(label: str, cert: str, key: str) -> dict[str, Any]:
        (directory / f"{label}.pem").write_text(cert)
        (directory / f"{label}.key").write_text(key)
        return {"mode": "provided", "cert_file": str(directory / f"{label}.pem"),
                "key_file": str(directory / f"{label}.key")}  # fmt: skip

    zone = "{{ wsgi_test_zone }}"
    good = pki.issue([f"bad1.{zone}"], inter)
    other = pki.new_key()
    mismatched = pki.Issued(good.cert, other)
    cases.append(("bad1", files("bad1", good.cert_pem + inter.cert_pem, mismatched.key_pem),
                  "the key does not match the certificate"))  # fmt: skip
    wrong = pki.issue(["somewhere.else.example"], inter)
    cases.append(("bad2", files("bad2", wrong.cert_pem + inter.cert_pem, wrong.key_pem),
                  "does not cover bad2."))  # fmt: skip
    expired = pki.issue([f"bad3.{zone}"], inter, days=(-30, -1))
    cases.append(("bad3", files("bad3", expired.cert_pem + inter.cert_pem, expired.key_pem),
                  "expired on"))  # fmt: skip
    missing = {"mode": "provided", "cert_file": str(directory / "missing.pem"),
               "key_file": str(directory / "missing.key")}  # fmt: skip
    cases.append(("bad4", missing, "cannot be read"))
    leaf = pki.issue([f"bad5.{zone}"], inter)
    cases.append(("bad5", files("bad5", inter.cert_pem + leaf.cert_pem, leaf.key_pem),
                  "the chain is not in order"))  # fmt: skip
    lone = pki.issue([f"bad6.{zone}"], inter)
    cases.append(("bad6", files("bad6", lone.cert_pem, lone.key_pem), "the chain is incomplete"))
    return cases


def _site_yml_with(tmp_path: Path, more: list[dict[str, Any]], *args: str, **extra: Any):  # noqa: ANN202
    """site.yml with the scenario's sites and `more` (and `extra` variables), on every target or
    those `args` limit it to."""
    sites = yaml.safe_load((SCENARIO / "group_vars/wsgi_servers/sites.yml").read_text())
    path = tmp_path / "extra.json"
    path.write_text(json.dumps({"wsgi_sites": sites["wsgi_sites"] + more, **extra}))
    return run_playbook("site.yml", molecule_inventory(), *args, "-e", f"@{path}")


def test_bad_certificates_are_refused_before_any_change(tmp_path: Path, host) -> None:  # noqa: ANN001
    if host.backend.get_hostname() != "wsgi-mol-tls-apache":
        pytest.skip("one run covers both hosts")
    targets = [h for h in ("wsgi-mol-tls-apache", "wsgi-mol-tls-nginx")]
    cases = _bad_material(tmp_path)
    bad = [
        {"name": name, "domain": f"{name}.{{{{ wsgi_test_zone }}}}", "source": {"path": "hello"},
         "entry": "hello.wsgi", "tls": tls}
        for name, tls, _ in cases
    ]  # fmt: skip
    before = {t: host_state(t) for t in targets}
    run = _site_yml_with(tmp_path, bad)
    assert run.rc != 0
    flat = " ".join(run.output.split())
    for name, _, expected in cases:
        assert f"site '{name}': field 'tls': " in flat, name
        assert expected in flat.split(f"site '{name}': field 'tls': ", 1)[1][:400], (name, expected)
    assert "nothing was changed" in flat
    assert {t: host_state(t) for t in targets} == before


def test_a_site_without_an_acme_certificate_is_named(tmp_path: Path, host) -> None:  # noqa: ANN001
    """The Apache host pointed at the Pebble that requires an external account binding, with
    none, and a new acme site: certbot cannot register; the run fails naming the site, the
    directory and Pebble's reason, after the other sites were checked; the new site serves its
    placeholder meanwhile. Then the site is removed again."""
    if host.backend.get_hostname() != "wsgi-mol-tls-apache":
        pytest.skip("one host is enough")
    new = {"name": "noeab", "domain": "noeab.{{ wsgi_test_zone }}", "source": {"path": "hello"},
           "entry": "hello.wsgi", "tls": "acme"}  # fmt: skip
    eab_ca = "https://pebble:14001/dir"
    limit = ("--limit", "wsgi-mol-tls-apache")
    run = _site_yml_with(tmp_path, [new], *limit, wsgi_tls_acme_directory=eab_ca)
    flat = " ".join(run.output.split())
    assert run.rc != 0
    expected = f"site 'noeab' (noeab.apache.example.test): no ACME certificate from {eab_ca}; "
    assert expected + "certbot said:" in flat, flat[-3000:]
    said = flat.split(expected, 1)[1][:600]
    assert "requires external account binding" in said and "Saving debug log" not in said, said
    assert "Check that every site answers" in run.output  # the others were checked first
    address = target_address(host)
    placeholder = verified(address, "noeab.apache.example.test", LOCAL_CA)
    assert "wsgi-deploy local CA" in placeholder.issuer.rfc4514_string()
    verified(address, names(host)["guestbook"][0], acme_ca.pebble_root(host))
    cleanup = _site_yml_with(tmp_path, [{**new, "state": "absent"}], *limit)
    assert cleanup.rc == 0, cleanup.output[-3000:]


# ----------------------------------------------------------------------------- renewal
# Last: a renewal changes what the records say (the next run records the new certificate).


def _serial(address: str, name: str) -> int:
    return unverified(address, name).serial_number


DEPLOY_HOOK = "/usr/local/lib/wsgi-deploy/certbot-deploy-hook"
POST_HOOK = "/usr/local/lib/wsgi-deploy/certbot-post-hook"
PENDING = "/run/wsgi-deploy/certbot-renewed"
LINEAGES = "/root/test-lineages"
KEYGEN = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out"


def _service(host) -> str:  # noqa: ANN001
    return "nginx" if host.backend.get_hostname() == "wsgi-mol-tls-nginx" else "apache2"


def _reloads(host) -> int:  # noqa: ANN001
    """How many times systemd has reloaded the host's web server."""
    service = _service(host)
    journal = f"journalctl -u {service} --no-pager -o cat"
    out = host.check_output(f"{journal} | grep -c '^Reloading {service}.service' || true")
    return int(out.strip() or 0)


def _lineage(host, site: str, key: str | None = None) -> str:  # noqa: ANN001
    """A certbot lineage (as RENEWED_LINEAGE names it) holding the pair the site serves now, or
    that certificate with the key at `key`."""
    lineage = f"{LINEAGES}/{site}"
    tls = f"/etc/wsgi-deploy/tls/{site}"
    host.check_output(
        f"rm -rf {lineage} && mkdir -p {lineage} && cp {tls}/fullchain.pem {lineage}/ && "
        f"cp {key or tls + '/privkey.pem'} {lineage}/privkey.pem"
    )
    return lineage


def _hook(host, hook: str, lineage: str = ""):  # noqa: ANN001, ANN202
    return host.run(f"RENEWED_LINEAGE={lineage} {hook}" if lineage else hook)


def test_one_reload_for_all_the_certificates_of_a_renewal_run(host, pebble_root: Path) -> None:  # noqa: ANN001
    """Two sites renewed in one certbot run: the deploy hook installs each and reloads nothing;
    the post hook reloads the web server once, and it serves both."""
    address = target_address(host)
    served = {site: unverified(address, names(host)[site][0]) for site in ("guestbook", "polls")}
    reloads = _reloads(host)
    for site in ("guestbook", "polls"):
        deploy = _hook(host, DEPLOY_HOOK, _lineage(host, site))
        assert deploy.rc == 0, deploy.stderr
    assert _reloads(host) == reloads
    assert host.file(PENDING).content_string.split() == ["guestbook", "polls"]
    post = _hook(host, POST_HOOK)
    assert post.rc == 0, post.stderr
    assert _reloads(host) == reloads + 1
    assert not host.file(PENDING).exists
    assert host.run("ls -A /etc/wsgi-deploy/tls/*/ | grep -c '[.]old$'").stdout.strip() == "0"
    for site, cert in served.items():
        assert unverified(address, names(host)[site][0]) == cert
    verified(address, names(host)["guestbook"][0], pebble_root)
    host.check_output(f"rm -rf {LINEAGES}")


def test_a_renewed_key_that_does_not_match_is_refused_before_any_change(host) -> None:  # noqa: ANN001
    """`apache2ctl configtest` does not read keys: a mismatched key would pass it and stop Apache
    at the reload. The deploy hook compares the key with the certificate first."""
    container = host.backend.get_hostname()
    host.check_output(f"{KEYGEN} /root/other.key")
    lineage = _lineage(host, "guestbook", key="/root/other.key")
    before, reloads = host_state(container), _reloads(host)
    deploy = _hook(host, DEPLOY_HOOK, lineage)
    assert deploy.rc != 0
    assert "guestbook: the new key does not match the new certificate" in deploy.stderr
    assert not host.file(PENDING).exists
    assert host_state(container) == before
    assert _reloads(host) == reloads
    host.check_output(f"rm -rf {LINEAGES} /root/other.key")


def test_the_post_hook_puts_the_previous_certificate_back_when_the_server_refuses_it(host) -> None:  # noqa: ANN001
    """A key that no longer matches once installed (what neither hook's checks saw before the
    reload): Apache stops at the reload, Nginx's test refuses it. The post hook puts the previous
    pair back, reloads or starts the server and fails naming the site; the site is served."""
    address = target_address(host)
    name = names(host)["guestbook"][0]
    served = unverified(address, name)
    tls = "/etc/wsgi-deploy/tls/guestbook"
    pair = host.check_output(f"md5sum {tls}/fullchain.pem {tls}/privkey.pem")
    deploy = _hook(host, DEPLOY_HOOK, _lineage(host, "guestbook"))
    assert deploy.rc == 0, deploy.stderr
    host.check_output(f"{KEYGEN} {tls}/privkey.pem")
    post = _hook(host, POST_HOOK)
    assert post.rc != 0
    assert "did not take the new certificates of: guestbook" in post.stderr
    assert host.check_output(f"md5sum {tls}/fullchain.pem {tls}/privkey.pem") == pair
    assert host.service(_service(host)).is_running
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if unverified(address, name) == served:
                break
        except OSError:
            pass
        time.sleep(0.5)
    assert unverified(address, name) == served
    assert not host.file(PENDING).exists
    host.check_output(f"rm -rf {LINEAGES}")


def test_forced_renewal_is_served_with_zero_failed_requests(host, pebble_root: Path) -> None:  # noqa: ANN001
    address = target_address(host)
    name = names(host)["guestbook"][0]
    before = _serial(address, name)
    reloads = _reloads(host)
    load = Load(
        f"https://{address}/",
        name,
        clients=4,
        limit=120,
        session_factory=lambda: https_session(name, str(pebble_root)),
    )
    with load:
        time.sleep(2)
        renew = host.run(
            "REQUESTS_CA_BUNDLE=/etc/wsgi-deploy/tls/acme-ca.pem "
            "certbot renew --force-renewal --cert-name guestbook --non-interactive "
            "--no-random-sleep-on-renew"
        )
        assert renew.rc == 0, renew.stderr
        deadline = time.monotonic() + 30
        while _serial(address, name) == before and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)
    assert _serial(address, name) != before, "the renewed certificate is not served"
    verified(address, name, pebble_root)
    # certbot ran the deploy hook, then the post hook (a directory hook): one reload.
    assert _reloads(host) == reloads + 1
    assert not host.file(PENDING).exists
    assert len(load.samples) > 20, load.summary()
    REPORT.append(f"forced renewal, {host.backend.get_hostname():22}: {load.summary()}")
    if host.backend.get_hostname() == "wsgi-mol-tls-nginx":
        assert not load.failed(), load.summary()
    else:
        # Apache restarts mod_wsgi's daemon processes on every graceful restart: a request that
        # an old worker passes on while the parent re-creates the daemon socket gets 503 (the
        # socket file is gone for those milliseconds; mod_wsgi retries only refused
        # connections), one queued at a stopping daemon 500 (README "HTTPS"). At most one per
        # client connection; WSGISocketRotation Off, set by the role, keeps the socket's name,
        # which removed the longer window of the old name.
        failed = load.failed()
        assert all(s.status in (500, 503) for s in failed), load.summary()
        assert len(failed) <= load.clients, load.summary()
