"""A WSGI app for the releases scenario: it says which release answers.

GET / answers "beacon VERSION setting=BEACON_SETTING extra=yes|no" (extra: whether the optional
package of the requirements is installed). The tests change VERSION, the setting and the
requirements between deploys, and FAILURE to make a release fail:
  "import"  the module does not import
  "500"     every request answers 500
  "server"  requests through a real server (mod_wsgi, Gunicorn) answer 500, an in-process call
            does not (a failure only the check through the web server sees)
"""

import importlib.util
import os

VERSION = "v1"
FAILURE = ""

if FAILURE == "import":
    raise ImportError("this release of beacon is broken on purpose")


def _through_a_server(environ):
    return "mod_wsgi.version" in environ or environ.get("SERVER_SOFTWARE", "").startswith(
        "gunicorn"
    )


def application(environ, start_response):
    if FAILURE == "500" or (FAILURE == "server" and _through_a_server(environ)):
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"beacon failing on purpose\n"]
    extra = "yes" if importlib.util.find_spec("six") else "no"
    setting = os.environ.get("BEACON_SETTING", "")
    body = f"beacon {VERSION} setting={setting} extra={extra}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
