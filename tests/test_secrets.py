"""The one secret vocabulary (``convoai_mcp._secrets``): every path that masks gives a field name
the same verdict -- the wire models, the redactor, the bodies kept on errors, the log filter."""

from __future__ import annotations

import io
import logging

import pytest

from convoai_mcp._secrets import MASK, is_secret_name, mask_fields, scrub_text
from convoai_mcp.errors import error_from_response
from convoai_mcp.models import LlmConfig, mask_secrets
from convoai_mcp.redact import Redactor, install_log_redaction, is_secret_key

VALUE = "v4lue-that-is-long-enough"

SECRET = [
    "api_key",
    "apiKey",
    "x-api-key",
    "key",
    "token",
    "rtc_token",
    "secret",
    "secretAccessKey",
    "access_key_id",
    "customer_secret",
    "password",
    "passwd",
    "pwd",
    "signature",
    "app_certificate",
    "certificate",
    "credentials",
    "adc_credentials_string",
    "Authorization",
    "cookie",
    "private_key",
]
"""Names whose value is a secret (the disputed ones: ``signature``, ``passwd``,
``app_certificate``)."""
ORDINARY = [
    "token_lifetime",
    "max_tokens",
    "total_tokens",
    "credential_mode",
    "keywords",
    "keyterm",
    "channel",
    "agent_id",
    "voice_id",
    "model",
]
"""Names that merely mention a secret word (``token_lifetime`` is a number of seconds)."""
CASES = [(name, True) for name in SECRET] + [(name, False) for name in ORDINARY]


def _masked_by_models(name: str) -> bool:
    model = LlmConfig.model_validate({name: VALUE})
    in_repr = VALUE not in repr(model)
    in_redacted = mask_secrets(model)[name] == MASK
    assert in_repr == in_redacted, name
    return in_repr


def _masked_by_redactor(name: str) -> bool:
    value = Redactor().value({"outer": {name: VALUE}})["outer"][name]
    return bool(value == MASK)


def _masked_in_error_body(name: str) -> bool:
    err = error_from_response(400, {"reason": "InvalidFieldValue", name: VALUE}, {})
    in_extra = err.extra[name] == MASK
    detail = error_from_response(400, {"detail": f"{name}={VALUE}"}, {}).detail or ""
    assert in_extra == (VALUE not in detail), name
    return in_extra


def _masked_in_logs(name: str) -> bool:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger(f"test_secrets.{name}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    install_log_redaction(Redactor(), logger)
    logger.info("%s=%s", name, VALUE)
    return VALUE not in stream.getvalue()


@pytest.mark.parametrize(("name", "secret"), CASES)
def test_every_masking_path_gives_a_name_the_same_verdict(name: str, secret: bool) -> None:
    verdicts = {
        "vocabulary": is_secret_name(name),
        "redact.is_secret_key": is_secret_key(name),
        "plain dicts": mask_fields({name: VALUE})[name] == MASK,
        "text": VALUE not in scrub_text(f"{name}: {VALUE}"),
        "models": _masked_by_models(name),
        "redactor": _masked_by_redactor(name),
        "error body": _masked_in_error_body(name),
        "log filter": _masked_in_logs(name),
    }
    assert verdicts == dict.fromkeys(verdicts, secret)


def test_numbers_under_secret_names_are_kept() -> None:
    assert mask_fields({"token": 3600, "key": None, "secret": ""}) == {
        "token": 3600,
        "key": None,
        "secret": "",
    }


def test_secret_query_parameters_are_masked_in_text() -> None:
    text = scrub_text("GET https://x.test/v1?sig=abcdef&signature=ghijkl&page=2")
    assert "abcdef" not in text and "ghijkl" not in text and "page=2" in text
