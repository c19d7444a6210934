"""Minimal WSGI application: no framework, standard library only.

mod_wsgi loads this file directly (WSGIScriptAlias); it answers every request
with a short plain-text page that also echoes SCRIPT_NAME and PATH_INFO, so a
deployment test can check under which URL prefix the application is mounted.
"""


def _text(environ, key):
    # WSGI passes request strings as "bytes as latin-1" (PEP 3333); undo that
    # so that non-ASCII paths come back out as the UTF-8 the client sent.
    return environ.get(key, "").encode("latin-1").decode("utf-8", "replace")


def application(environ, start_response):
    body = (
        "Hello World!\n"
        f"SCRIPT_NAME={_text(environ, 'SCRIPT_NAME')}\n"
        f"PATH_INFO={_text(environ, 'PATH_INFO')}\n"
    )
    if "mod_wsgi.process_group" in environ:
        # '' when mod_wsgi runs the app embedded in Apache's workers, else the daemon group.
        body += f"PROCESS_GROUP={environ['mod_wsgi.process_group']}\n"
    body = body.encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]
