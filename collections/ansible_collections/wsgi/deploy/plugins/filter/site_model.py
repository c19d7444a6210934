"""Filters of the site model (the logic lives in module_utils/site_model.py, shared with the
modules and the admin console).

  wsgi.deploy.site_errors(sites, settings)     -> human-readable errors (empty when valid)
  wsgi.deploy.site_normalize(sites, settings)  -> normalised site records (secrets stripped)
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wsgi.deploy.plugins.module_utils.site_model import (
    wsgi_site_errors,
    wsgi_site_normalize,
)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"site_errors": wsgi_site_errors, "site_normalize": wsgi_site_normalize}
