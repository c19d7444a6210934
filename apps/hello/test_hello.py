"""Call hello.wsgi's application() with a fake WSGI environ (run with pytest)."""

import runpy
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest

SCRIPT = Path(__file__).resolve().with_name("hello.wsgi")


@pytest.fixture(scope="module")
def application():
    return runpy.run_path(str(SCRIPT))["application"]


def call(application, **environ):
    setup_testing_defaults(environ)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = dict(headers)

    body = b"".join(application(environ, start_response))
    return captured["status"], captured["headers"], body


def test_hello_world(application):
    status, headers, body = call(application, SCRIPT_NAME="", PATH_INFO="/")
    assert status == "200 OK"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Content-Length"] == str(len(body))
    assert body == b"Hello World!\nSCRIPT_NAME=\nPATH_INFO=/\n"


def test_mount_prefix_is_echoed(application):
    _, _, body = call(application, SCRIPT_NAME="/hello", PATH_INFO="/a/b")
    lines = body.decode().splitlines()
    assert lines == ["Hello World!", "SCRIPT_NAME=/hello", "PATH_INFO=/a/b"]


def test_non_ascii_path(application):
    # PEP 3333: the server decodes the raw path bytes as latin-1.
    path = "/caf\u00e9".encode().decode("latin-1")
    _, _, body = call(application, SCRIPT_NAME="", PATH_INFO=path)
    assert "PATH_INFO=/caf\u00e9\n" in body.decode("utf-8")


def test_mod_wsgi_process_group_is_echoed(application):
    _, _, body = call(
        application, SCRIPT_NAME="", PATH_INFO="/", **{"mod_wsgi.process_group": "hi"}
    )
    assert body.decode().splitlines()[-1] == "PROCESS_GROUP=hi"
