"""Secret redaction shared by every module that displays, stores or logs data.

Two mechanisms, applied together:

* by key: the value of any mapping key that looks secret (``secrets``, ``password``, ``token``…)
  is replaced wholesale;
* by value: every string known to be a secret (for instance the values of each site's
  ``secrets`` dict read from the inventory) is replaced wherever it appears inside a string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

MASK = "********"

SECRET_KEY_RE = re.compile(
    r"(^|_)(secrets?|passw(or)?d|passphrase|token|api_?key|private_?key|secret_?key|"
    r"credentials?|become_pass|vault_pass)($|_)",
    re.IGNORECASE,
)

_SCALARS = (int, float, bool, type(None))

# Values this short are too likely to collide with ordinary text to be replaced by value.
MIN_SECRET_LEN = 4


def is_secret_key(key: object) -> bool:
    """True when a mapping key names a secret."""
    return isinstance(key, str) and _is_secret_name(key)


@lru_cache(maxsize=8192)
def _is_secret_name(key: str) -> bool:
    # Event payloads repeat the same few hundred keys: the regex runs once per distinct key.
    return bool(SECRET_KEY_RE.search(key))


def collect_secret_values(value: Any) -> set[str]:
    """All scalar leaves of ``value`` (the content of a ``secrets`` dict), as strings."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for item in value.values():
            found |= collect_secret_values(item)
    elif isinstance(value, list | tuple | set):
        for item in value:
            found |= collect_secret_values(item)
    elif value is not None and not isinstance(value, bool):
        text = str(value)
        if len(text) >= MIN_SECRET_LEN:
            found.add(text)
    return found


class Redactor:
    """Replaces secrets in nested data and in text."""

    def __init__(self, secret_values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add_values(secret_values)

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._values)

    def add_values(self, values: Iterable[str]) -> None:
        new = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LEN}
        if not new - self._values:
            return
        self._values |= new
        # Longest first so that a secret containing another one is replaced whole.
        ordered = sorted(self._values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def text(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def data(self, value: Any) -> Any:
        """A redacted deep copy of ``value`` (dicts, lists, strings, scalars)."""
        kind = type(value)
        if kind is str:
            return self.text(value) if self._pattern is not None and value else value
        if kind in _SCALARS:
            return value
        if kind is dict or isinstance(value, Mapping):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                if is_secret_key(key):
                    out[key] = _mask_like(item)
                else:
                    out[key] = self.data(item)
            return out
        if kind is list or isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        if isinstance(value, str):  # a str subclass
            return self.text(value)
        return value


def _mask_like(value: Any) -> Any:
    """Mask a secret value but keep the shape of a dict (its keys are not secret)."""
    if isinstance(value, Mapping):
        return {key: MASK for key in value}
    if value in (None, "", {}, []):
        return value
    return MASK
