"""Secrets never printed: ``***`` for passwords, S3 secrets, tokens and keys.

``mask`` copies a config (or any JSON-like value) with secret-looking keys' values and
the passwords inside URLs replaced; ``mask_text`` does the URL part for a message.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MASK", "mask", "mask_text"]

MASK = "***"
# key names whose values are secret; ``sign_key_env`` only names a variable and stays
_SECRET_KEY = re.compile(
    r"(passw|secret|token|credential|private|passphrase|api_?key|access_?key|session|^key$|sign_key$|auth)",
    re.IGNORECASE,
)
_NOT_SECRET = frozenset({"sign_key_env", "key_env", "token_env"})
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@/\s]+)(?P<at>@)")


def mask_text(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` URL masked."""
    return _URL_PASSWORD.sub(lambda m: m["head"] + MASK + m["at"], text)


def _secret(name: Any) -> bool:
    return isinstance(name, str) and name not in _NOT_SECRET and _SECRET_KEY.search(name) is not None


def mask(value: Any) -> Any:
    """A copy of ``value`` with secrets replaced by ``***`` (dicts, lists, URL strings)."""
    if isinstance(value, dict):
        return {k: (MASK if _secret(k) and v is not None else mask(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask(v) for v in value)
    if isinstance(value, str):
        return mask_text(value)
    return value
