"""The one secret vocabulary: which field names hold secrets, and the masking helpers built on it.

Every place that masks something asks this module (the wire models' ``repr``, the
:class:`~convoai_mcp.redact.Redactor` and its log filter, the bodies kept on
:class:`~convoai_mcp.errors.APIStatusError`), so a name gets one verdict everywhere:

* :func:`is_secret_name` decides from a field name alone: ``api_key``, ``key``, ``token``,
  ``password`` / ``passwd`` / ``pwd``, ``signature``, ``certificate`` (``app_certificate``),
  ``credentials``, ``authorization``, ``cookie``, ``secret*``, ``access_key*`` ... are secrets;
  counters and settings that merely mention one (``max_tokens``, ``token_lifetime``,
  ``credential_mode``, ``keywords``) are not.
* :func:`mask_fields` masks secret-named entries of plain dicts and lists;
  :func:`scrub_text` masks credentials inside free text (AccessToken2 strings, ``Basic`` /
  ``Bearer`` values, ``name=value`` / ``"name": "value"`` pairs whose name is secret, secret URL
  query parameters); :func:`mask_values` masks known secret values wherever they occur.

Standard library only, and it imports nothing of convoai-mcp: it sits below every other module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MASK",
    "NOT_SECRET_NAMES",
    "is_secret_name",
    "longest_first",
    "mask_fields",
    "mask_values",
    "maskable",
    "scrub_query",
    "scrub_text",
    "secret_values",
]

MASK = "***"
"""What a masked value is replaced with."""

_SECRET_PARTS = frozenset(
    {
        "key",
        "apikey",
        "secret",
        "token",
        "password",
        "passwd",
        "pwd",
        "credential",
        "credentials",
        "certificate",
        "authorization",
        "signature",
        "sig",
        "cookie",
        "privatekey",
    }
)
"""A name is secret when one of its words (split at ``_``, ``-``, ``.`` and camelCase) is one
of these."""
_SECRET_PREFIXES = ("secret", "access_key", "aws_secret", "private_key")
NOT_SECRET_NAMES = frozenset(
    {
        "max_tokens",
        "total_tokens",
        "prompt_tokens",
        "completion_tokens",
        "token_lifetime",
        "token_expire",
        "credential_mode",
    }
)
"""Names that contain a secret-looking word but hold a number or a setting, not a secret."""
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


def is_secret_name(name: str) -> bool:
    """True when a field called ``name`` holds a secret (``api_key``, ``secretAccessKey``,
    ``Authorization``, ``app_certificate`` ...); False for ``max_tokens``, ``token_lifetime``,
    ``keywords`` ..."""
    snake = _CAMEL.sub(r"_\1", name).lower().replace("-", "_")
    if snake in NOT_SECRET_NAMES:
        return False
    if snake.startswith(_SECRET_PREFIXES):
        return True
    return any(part in _SECRET_PARTS for part in _SPLIT.split(snake))


def maskable(value: Any) -> bool:
    """Whether a value under a secret name is masked: numbers, booleans, ``None``, ``""`` and an
    already masked value are kept (``token_lifetime``-like counters carry no secret)."""
    if value is None or isinstance(value, bool | int | float):
        return False
    return not (isinstance(value, str) and value in ("", MASK))


def mask_fields(value: Any) -> Any:
    """A copy of ``value`` (dicts, lists, tuples) with the values of secret-named keys masked."""
    if isinstance(value, Mapping):
        return {
            k: MASK if isinstance(k, str) and is_secret_name(k) and maskable(v) else mask_fields(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_fields(v) for v in value]
    return value


def secret_values(value: Any, *, secret: bool = False) -> list[str]:
    """Every string held under a secret name anywhere in ``value`` (dicts, lists, tuples):
    ``{"llm": {"api_key": "sk-..."}}`` -> ``["sk-..."]``. With ``secret`` every string counts."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            found += secret_values(
                item, secret=secret or (isinstance(key, str) and is_secret_name(key))
            )
    elif isinstance(value, list | tuple):
        for item in value:
            found += secret_values(item, secret=secret)
    elif secret and isinstance(value, str):
        found.append(value)
    return found


def mask_values(text: str, values: Iterable[str]) -> str:
    """``text`` with every one of ``values`` (known secret values) replaced by ``***``.

    Give ``values`` longest first (:func:`longest_first`), so that a secret containing another
    is masked whole."""
    for value in values:
        if value and value in text:
            text = text.replace(value, MASK)
    return text


def longest_first(values: Iterable[str | None], *, min_len: int = 6) -> tuple[str, ...]:
    """Distinct ``values`` of at least ``min_len`` characters, longest first (shorter "secrets"
    are not masked by value: masking ``"1001"`` everywhere would mangle uids)."""
    kept = {v.strip() for v in values if v and len(v.strip()) >= min_len}
    return tuple(sorted(kept, key=len, reverse=True))


_FIXED_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # AccessToken2 / AccessToken: "006" / "007" + base64.
    (re.compile(r"\b00[67][A-Za-z0-9+/=_-]{16,}"), MASK),
    (re.compile(r"(?i)\b(basic|bearer)(\s+)[A-Za-z0-9+/=._~-]{8,}"), r"\1\2" + MASK),
    (re.compile(r"(?i)(agora\s+token=)\S+"), r"\1" + MASK),
)
# name=value, name: value, "name": "value"; the name's last dotted part decides.
_PAIR = re.compile(
    r"""(?i)\b([a-z][a-z0-9_.-]*)(["']?\s*[:=]\s*["']?)"""
    r"""(?!\*\*\*|(?:basic|bearer|agora)\s)([^\s"',}&]+)"""
)
_QUERY = re.compile(r"(?i)([?&])([a-z0-9_.-]+)(=)([^&#\s\"']+)")


def _pair(min_value: int) -> Any:
    def replace(match: re.Match[str]) -> str:
        name, sep, value = match.group(1), match.group(2), match.group(3)
        if len(value) < min_value or not is_secret_name(name.rsplit(".", 1)[-1]):
            return match.group(0)
        return name + sep + MASK

    return replace


def _query(match: re.Match[str]) -> str:
    if not is_secret_name(match.group(2)):
        return match.group(0)
    return match.group(1) + match.group(2) + match.group(3) + MASK


def scrub_text(text: str, *, min_value: int = 1) -> str:
    """Mask credentials inside free text by pattern: AccessToken2 strings, ``Basic`` / ``Bearer``
    values, ``agora token=``, and ``name=value`` pairs and URL query parameters whose name is
    secret (:func:`is_secret_name`). Pair values shorter than ``min_value`` are kept, so that a
    message such as ``"api_key: must be a string"`` can stay readable."""
    for pattern, replacement in _FIXED_PATTERNS:
        text = pattern.sub(replacement, text)
    text = _PAIR.sub(_pair(min_value), text)
    return scrub_query(text)


def scrub_query(text: str) -> str:
    """Mask the values of secret-named URL query parameters (``...?key=abc&sig=...``)."""
    return _QUERY.sub(_query, text)
