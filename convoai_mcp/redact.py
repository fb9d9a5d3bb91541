"""Secret redaction: by key name, by known secret value, in text and in log records.

Three tools, used everywhere something leaves the process:

* :func:`is_secret_key` decides from a field name alone (``api_key``, ``key``, ``secret*``,
  ``token``, ``password``, ``access_key*``, ``credentials`` ...) that its value must be masked;
  the vocabulary and the text patterns live in :mod:`convoai_mcp._secrets`, shared with the wire
  models and the error bodies.
* :class:`Redactor` knows the configured secret values (App Certificate, customer secret, vendor
  keys, ...) and masks them wherever they occur: :meth:`Redactor.value` walks dicts, lists and
  pydantic models and masks secret-named fields as ``"***"``; :meth:`Redactor.text` scrubs free
  text (known values, ``Authorization`` schemes, AccessToken2 strings, ``key=value`` pairs).
* :class:`RedactingFilter` is a :class:`logging.Filter` that rewrites every record it sees
  (message, arguments, traceback) through :meth:`Redactor.text`. Attach it to *handlers*
  (:func:`install_log_redaction` does that for the root logger's handlers), because a filter on a
  logger does not see records propagated from its children.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, SecretBytes, SecretStr

from convoai_mcp._secrets import (
    MASK,
    is_secret_name,
    mask_values,
    maskable,
    scrub_query,
    scrub_text,
    secret_values,
)

if TYPE_CHECKING:
    from convoai_mcp.config import Settings

__all__ = [
    "MASK",
    "RedactingFilter",
    "Redactor",
    "install_log_redaction",
    "is_secret_key",
    "settings_redactor",
]

T = TypeVar("T")


# Shorter "secrets" are not masked by value: masking "1001" everywhere would mangle uids.
_MIN_SECRET_LEN = 6


def is_secret_key(name: str) -> bool:
    """True when a field called ``name`` holds a secret (the one vocabulary:
    :func:`convoai_mcp._secrets.is_secret_name`)."""
    return is_secret_name(name)


def _secret_text(value: object) -> str | None:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, SecretBytes):
        return value.get_secret_value().decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return None


class Redactor:
    """Masks secrets by key name and by known value; cheap to call on every outgoing value."""

    def __init__(self, secrets: Iterable[str | SecretStr | None] = ()) -> None:
        self._values: list[str] = []
        self.add(*secrets)

    def add(self, *values: str | SecretStr | SecretBytes | None) -> None:
        """Register secret values (and their URL-encoded forms); short or empty ones are ignored."""
        for raw in values:
            text = _secret_text(raw)
            if text is None:
                continue
            text = text.strip()
            if len(text) < _MIN_SECRET_LEN:
                continue
            for form in (text, quote(text, safe=""), quote_plus(text)):
                if form not in self._values:
                    self._values.append(form)
        # Longest first, so that a secret containing another is masked whole.
        self._values.sort(key=len, reverse=True)

    def add_basic_auth(self, customer_id: str, customer_secret: str | SecretStr) -> None:
        """Register the secret and the base64 ``Basic`` credential built from it."""
        secret = _secret_text(customer_secret) or ""
        self.add(secret)
        if customer_id and secret:
            self.add(base64.b64encode(f"{customer_id}:{secret}".encode()).decode("ascii"))

    @property
    def known(self) -> int:
        """How many secret strings (including encoded forms) are registered."""
        return len(self._values)

    def mask_known(self, text: str) -> str:
        """Replace every registered secret value in ``text`` with ``***``."""
        return mask_values(text, self._values)

    def text(self, text: str) -> str:
        """Scrub free text: known values, auth headers, AccessToken2 strings, ``key=value``."""
        return scrub_text(self.mask_known(text))

    def value(self, value: T) -> T:
        """Return a copy of ``value`` with secret-named fields and known secrets masked as ``***``.

        Walks mappings, lists, tuples and pydantic models (a model comes back as the same type);
        ``SecretStr`` values become ``***``; numbers, booleans and ``None`` under secret-looking
        names are kept (``token_lifetime: 3600`` is not a secret).
        """
        return self._walk(value)  # type: ignore[no-any-return]

    def _walk(self, value: Any) -> Any:
        if isinstance(value, SecretStr | SecretBytes):
            return MASK
        if isinstance(value, str):
            return scrub_query(self.mask_known(value))
        if isinstance(value, BaseModel):
            return self._walk_model(value)
        if isinstance(value, Mapping):
            return {key: self._walk_item(key, item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._walk(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self._walk(item) for item in value)
        return value

    def _walk_item(self, key: object, item: Any) -> Any:
        if isinstance(key, str) and is_secret_name(key) and maskable(item):
            return MASK
        return self._walk(item)

    def _walk_model(self, model: BaseModel) -> BaseModel:
        data = self._walk(model.model_dump(mode="python", exclude_unset=True, by_alias=True))
        try:
            return type(model).model_validate(data)
        except ValueError:
            return type(model).model_construct(**data)

    def filter(self) -> RedactingFilter:
        """A logging filter that scrubs records through this redactor."""
        return RedactingFilter(self)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message, arguments and traceback text with :meth:`Redactor.text`."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub ``record`` in place; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = self.redactor.text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.text(record.stack_info)
        return True


def install_log_redaction(redactor: Redactor, logger: logging.Logger | None = None) -> None:
    """Attach a :class:`RedactingFilter` to every handler of ``logger`` (default: root).

    Call it after logging is configured; handlers added later need ``handler.addFilter``.
    """
    target = logger if logger is not None else logging.getLogger()
    for handler in target.handlers:
        existing = [f for f in handler.filters if isinstance(f, RedactingFilter)]
        if not existing:
            handler.addFilter(RedactingFilter(redactor))
        for found in existing:  # another server in this process: mask its secrets too
            if found.redactor is not redactor:
                found.redactor.add(*redactor._values)


def settings_redactor(settings: Settings) -> Redactor:
    """A :class:`Redactor` for every secret in ``settings``: App Certificate, customer secret
    (also as the Basic ``Authorization`` header it makes), auth token, LLM key, HTTP token,
    request-state keys, secret-named values in the TTS / ASR parameters, and every secret of
    the agent profiles."""
    secrets: list[str | SecretStr | None] = [
        settings.app_certificate,
        settings.customer_secret,
        settings.auth_token,
        settings.llm_api_key,
        settings.http_token,
        *settings.request_state_keys(),
    ]

    secrets += secret_values(settings.tts_params)
    secrets += secret_values(settings.asr_params)
    if settings.profiles is not None:
        secrets += settings.profiles.secret_values()
    redactor = Redactor(secrets)
    if settings.customer_id and settings.customer_secret:
        redactor.add_basic_auth(settings.customer_id, settings.customer_secret)
    return redactor
