"""Inventories of the benchmark's own containers (`wsgi-bench-*`), written as JSON (valid YAML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PREFIX = "wsgi-bench-"


def demo_sites() -> list[dict[str, Any]]:
    """The demo's three sites (inventory/demo), with the bench's own secrets directory."""
    secret = (
        "{{ lookup('ansible.builtin.password', wsgi_demo_secrets_dir ~ '/%s_secret_key',"
        " length=64, chars=['ascii_letters', 'digits']) }}"
    )
    return [
        {
            "name": "hello",
            "domain": "departamentos.centro.intranet",
            "path": "/test",
            "kind": "wsgi",
            "source": {"path": "hello"},
            "entry": "hello.wsgi",
            "static": {"url": "/test/static/", "dir": "static"},
        },
        {
            "name": "guestbook",
            "domain": "guestbook.example.org",
            "kind": "django",
            "source": {"path": "guestbook"},
            "entry": "guestbook_site.wsgi:application",
            "requirements_file": "requirements.txt",
            "secrets": {"DJANGO_SECRET_KEY": secret % "guestbook"},
            "static": {"url": "/static/"},
            "media": {"url": "/media/"},
        },
        {
            "name": "polls",
            "domain": "poll.example.org",
            "kind": "django",
            "source": {"path": "polls"},
            "entry": "polls_site.wsgi:application",
            "requirements_file": "requirements.txt",
            "secrets": {"DJANGO_SECRET_KEY": secret % "polls"},
        },
    ]


def sites(count: int) -> list[dict[str, Any]]:
    """The demo's three sites, then copies of the hello app (`hello-N`) up to `count` sites."""
    base = demo_sites()
    out = base[:count]
    for n in range(len(base), count):
        out.append(
            {
                "name": f"hello-{n}",
                "domain": f"hello-{n}.bench.example",
                "kind": "wsgi",
                "source": {"path": "hello"},
                "entry": "hello.wsgi",
                "static": {"url": "/static/", "dir": "static"},
            }
        )
    return out


def host_name(stack: str, index: int) -> str:
    return f"{PREFIX}{stack}" if index == 0 else f"{PREFIX}{stack}-{index}"


def inventory(hosts: dict[str, list[str]], site_count: int) -> dict[str, Any]:
    """`hosts` maps a stack (apache_mod_wsgi / nginx_gunicorn) to its container names."""
    children: dict[str, Any] = {}
    for stack, names in hosts.items():
        if not names:
            continue
        children[f"bench_{stack}"] = {
            "hosts": {
                name: {
                    "ansible_connection": "community.docker.docker",
                    "ansible_host": name,
                    "ansible_user": "root",
                }
                for name in names
            },
            "vars": {"wsgi_default_stack": stack},
        }
    return {
        "all": {
            "vars": {
                "wsgi_source_base_dir": str(REPO / "apps"),
                "wsgi_demo_secrets_dir": str(REPO / ".secrets" / "bench"),
                "wsgi_sites": sites(site_count),
            },
            "children": {"wsgi_servers": {"children": children}},
        }
    }


def write(path: Path, hosts: dict[str, list[str]], site_count: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(inventory(hosts, site_count), indent=1))
    return path
