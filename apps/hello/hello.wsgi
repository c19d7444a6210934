"""Minimal WSGI application: no framework, standard library only.

mod_wsgi loads this file directly (WSGIScriptAlias); Gunicorn through the site's generated entry.
Every path below the mount point answers with the same page, which echoes SCRIPT_NAME and
PATH_INFO (and mod_wsgi's process group), so that a deployment test can check under which URL
prefix and in which process the application runs:

- a client that asks for HTML (a browser: ``Accept: text/html,...``) gets an HTML page styled by
  ``static/theme.css`` (the look the three example apps share) and ``static/hello.css``;
- everything else (``curl``, scripts, ``Accept: */*``) gets the plain-text variant, whose first
  line is ``Hello World!``; ``?format=text`` / ``?format=html`` choose explicitly.

The stylesheets and the icon are served by the web server from the site's static alias
(``static: {url: <path>/static/, dir: static}`` in the site's declaration), never by this
script: a request for ``<path>/static/...`` that reaches it is a 404 saying so (a site declared
without the alias). The one exception is ``<path>/favicon.ico``, answered here so that clients
that guess that URL get the icon instead of a 404.
"""

from html import escape
from pathlib import Path
from platform import python_version
from urllib.parse import parse_qs

STATIC_DIR = Path(__file__).resolve().with_name("static")


def _text(environ, key):
    # WSGI passes request strings as "bytes as latin-1" (PEP 3333); undo that
    # so that non-ASCII paths come back out as the UTF-8 the client sent.
    return environ.get(key, "").encode("latin-1").decode("utf-8", "replace")


def _accept(header):
    """{media range: q} of an Accept header (malformed q values count as 0)."""
    ranges = {}
    for item in header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        ranges[media] = max(q, ranges.get(media, 0.0))
    return ranges


def wants_html(environ):
    """True when the client prefers HTML over plain text: it must name text/html itself (a
    bare ``*/*``, as curl and most libraries send, means plain text)."""
    chosen = parse_qs(environ.get("QUERY_STRING", "")).get("format", [""])[-1]
    if chosen in ("text", "html"):
        return chosen == "html"
    ranges = _accept(environ.get("HTTP_ACCEPT", ""))
    html = max(ranges.get("text/html", 0.0), ranges.get("application/xhtml+xml", 0.0))
    plain = next(
        (ranges[r] for r in ("text/plain", "text/*", "*/*") if r in ranges),
        0.0,
    )
    return html > 0 and html >= plain


def plain_text(environ):
    body = (
        "Hello World!\n"
        f"SCRIPT_NAME={_text(environ, 'SCRIPT_NAME')}\n"
        f"PATH_INFO={_text(environ, 'PATH_INFO')}\n"
    )
    if "mod_wsgi.process_group" in environ:
        # '' when mod_wsgi runs the app embedded in Apache's workers, else the daemon group.
        body += f"PROCESS_GROUP={environ['mod_wsgi.process_group']}\n"
    return body


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Hello World! · Hello</title>
  <link rel="icon" href="{static}favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{static}theme.css">
  <link rel="stylesheet" href="{static}hello.css">
</head>
<body>
  <a class="skip-link" href="#content">Skip to content</a>
  <header class="site-header">
    <div class="bar">
      <a class="brand" href="{home}"><img src="{static}favicon.svg" alt="" width="28" height="28">
        Hello</a>
    </div>
  </header>
  <main id="content" class="site-main">
    <h1 class="greeting">{greeting}</h1>
    <p class="lead">A plain WSGI application: one Python file, no framework, only the standard
      library.</p>
    <section class="card" aria-labelledby="request-heading">
      <h2 id="request-heading">This request</h2>
      <dl class="facts">
{facts}
      </dl>
    </section>
    <section class="card" aria-labelledby="curl-heading">
      <h2 id="curl-heading">From a terminal</h2>
      <p>Clients that do not ask for HTML get the same facts as plain text:</p>
      <pre><code>$ curl {url}
{plain}</code></pre>
    </section>
  </main>
  <footer class="site-footer">
    <div class="bar"><p>An example app of the WSGI deployments collection · Python {python}</p>
    </div>
  </footer>
</body>
</html>
"""


def html_page(environ):
    script_name = _text(environ, "SCRIPT_NAME").rstrip("/")
    path_info = _text(environ, "PATH_INFO")
    text = plain_text(environ)

    def code(value):
        return f"<code>{escape(value)}</code>" if value else '<span class="muted">empty</span>'

    facts = [
        ("Mounted at (<code>SCRIPT_NAME</code>)", code(script_name)),
        ("Path below it (<code>PATH_INFO</code>)", code(path_info)),
        ("Served by", escape(environ.get("SERVER_SOFTWARE", "") or "unknown")),
    ]
    if "mod_wsgi.process_group" in environ:
        group = environ["mod_wsgi.process_group"]
        facts.append(
            (
                "mod_wsgi process group",
                code(group) + " (daemon mode)" if group else "none: embedded in Apache's workers",
            )
        )
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
    url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{script_name}{path_info}"
    return PAGE.format(
        static=escape(f"{script_name}/static/"),
        home=escape(f"{script_name}/"),
        greeting=escape(text.splitlines()[0]),
        facts="\n".join(f"        <dt>{k}</dt>\n        <dd>{v}</dd>" for k, v in facts),
        url=escape(url),
        plain=escape(text),
        python=escape(python_version()),
    )


def application(environ, start_response):
    path_info = _text(environ, "PATH_INFO")
    if path_info.startswith("/static/"):
        body = (
            f"Not found: {path_info}\n"
            "Static files are served by the web server: declare the site's static alias.\n"
        ).encode()
        start_response(
            "404 Not Found",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]
    if path_info == "/favicon.ico":
        icon = STATIC_DIR / "favicon.svg"
        if icon.is_file():
            body = icon.read_bytes()
            start_response(
                "200 OK",
                [
                    ("Content-Type", "image/svg+xml"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", "max-age=86400"),
                ],
            )
            return [body]
    if wants_html(environ):
        body, content_type = html_page(environ), "text/html; charset=utf-8"
    else:
        body, content_type = plain_text(environ), "text/plain; charset=utf-8"
    body = body.encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Vary", "Accept"),
        ],
    )
    return [body]
