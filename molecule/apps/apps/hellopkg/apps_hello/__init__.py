"""apps_hello: a WSGI app shipped only as a package (a wheel the apps scenario builds), in the
shape of the classic self-hosted apps: it cannot serve before its setup command created its data
environment, it reads a config file, and its static files live inside the package."""

__version__ = "1.0"
