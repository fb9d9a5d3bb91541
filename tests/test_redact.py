"""Secret redaction: key names, known values, free text, pydantic models, log records."""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr

from convoai_mcp.redact import MASK, RedactingFilter, Redactor, install_log_redaction, is_secret_key

CERT = "c0ffee00c0ffee00c0ffee00c0ffee00"
LLM_KEY = "sk-canary-llm-key-123456"


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "key",
        "secret",
        "secret_key",
        "secret_access_key",
        "secretAccessKey",
        "access_key_id",
        "accessKeyId",
        "aws_secret_access_key",
        "token",
        "rtc_token",
        "agora_token",
        "password",
        "app_certificate",
        "customer_secret",
        "api_subscription_key",
        "adc_credentials_string",
        "credentials",
        "encryption_key",
        "Authorization",
        "x-api-key",
    ],
)
def test_secret_key_names_are_recognised(name: str) -> None:
    assert is_secret_key(name)


@pytest.mark.parametrize(
    "name",
    [
        "keywords",
        "keyterm",
        "trigger_keywords",
        "max_tokens",
        "token_lifetime",
        "credential_mode",
        "channel",
        "agent_id",
        "turn_id",
        "session_id",
        "voice_name",
        "model",
    ],
)
def test_ordinary_names_are_not_masked(name: str) -> None:
    assert not is_secret_key(name)


def test_value_masks_nested_secret_fields_and_keeps_the_rest() -> None:
    body: dict[str, Any] = {
        "name": "a1",
        "properties": {
            "channel": "room",
            "token": "007eJxsomething-long-enough",
            "llm": {"url": "https://x.test/v1", "api_key": LLM_KEY, "max_tokens": 256},
            "tts": {"vendor": "microsoft", "params": {"key": "tts-key-123", "region": "eastus"}},
            "asr": {"params": {"keywords": ["a", "b"], "key": None}},
            "avatar": {"params": {"credentials": {"user": "u", "pass": "p"}}},
        },
    }
    out = Redactor().value(body)
    props = out["properties"]
    assert props["token"] == MASK
    assert props["llm"] == {"url": "https://x.test/v1", "api_key": MASK, "max_tokens": 256}
    assert props["tts"]["params"] == {"key": MASK, "region": "eastus"}
    assert props["asr"]["params"] == {"keywords": ["a", "b"], "key": None}
    assert props["avatar"]["params"]["credentials"] == MASK
    # the input is not modified
    assert body["properties"]["llm"]["api_key"] == LLM_KEY


def test_value_masks_known_secret_values_anywhere_in_strings() -> None:
    redactor = Redactor([CERT, LLM_KEY])
    out = redactor.value({"message": f"bad cert {CERT}", "items": [f"x{LLM_KEY}y", 3]})
    assert out == {"message": f"bad cert {MASK}", "items": [f"x{MASK}y", 3]}


def test_value_masks_secret_query_parameters_in_urls() -> None:
    out = Redactor().value({"url": "https://llm.test/v1?key=abcdef123&model=m"})
    assert out == {"url": f"https://llm.test/v1?key={MASK}&model=m"}


class _Llm(BaseModel):
    url: str
    api_key: SecretStr | str | None = None
    system: str = ""


class _Props(BaseModel):
    channel: str
    llm: _Llm


def test_value_returns_the_same_pydantic_type_with_secrets_masked() -> None:
    model = _Props(channel="c", llm=_Llm(url="u", api_key=LLM_KEY, system=f"say {CERT}"))
    out = Redactor([CERT]).value(model)
    assert isinstance(out, _Props)
    key = out.llm.api_key
    assert (key.get_secret_value() if isinstance(key, SecretStr) else key) == MASK
    assert out.llm.system == f"say {MASK}"
    assert LLM_KEY not in repr(out) and CERT not in out.model_dump_json()


def test_secretstr_is_masked_even_under_an_ordinary_name() -> None:
    assert Redactor().value({"x": SecretStr("hunter2-long")}) == {"x": MASK}


def test_short_values_are_not_registered() -> None:
    redactor = Redactor(["1001", "", None])
    assert redactor.known == 0
    assert redactor.text("uid 1001") == "uid 1001"


def test_url_encoded_and_basic_auth_forms_are_masked() -> None:
    redactor = Redactor()
    redactor.add_basic_auth("customer-id", "s3cret/with+chars")
    basic = base64.b64encode(b"customer-id:s3cret/with+chars").decode()
    text = f"Authorization: Basic {basic} q=s3cret%2Fwith%2Bchars raw=s3cret/with+chars"
    out = redactor.text(text)
    assert "s3cret" not in out
    assert basic not in out


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
        ("Authorization: agora token=007eJxyz", "007eJxyz"),
        ("join token 007eJxAAAAAAAAAAAAAAAAAAAAAAAAAA in body", "007eJxAAAAAAAAAAAAAAAAAAAAAA"),
        ('{"api_key": "sk-abcdef"}', "sk-abcdef"),
        ("secret_access_key=AKIAXYZ123", "AKIAXYZ123"),
        ("GET https://x.test/?token=zzzzzzzz&a=1", "zzzzzzzz"),
    ],
)
def test_text_scrubs_credentials_by_pattern(text: str, secret: str) -> None:
    out = Redactor().text(text)
    assert secret not in out
    assert MASK in out


@given(
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_/+=", min_size=6, max_size=40),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_a_registered_secret_never_survives_text_or_value(
    secret: str, before: str, after: str
) -> None:
    redactor = Redactor([secret])
    assert secret not in redactor.text(before + secret + after)
    assert secret not in str(redactor.value({"note": [before + secret + after]}))


def _logger_with_stream(redactor: Redactor) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    parent = logging.getLogger("test_redact_parent")
    parent.handlers = [handler]
    parent.propagate = False
    parent.setLevel(logging.DEBUG)
    install_log_redaction(redactor, parent)
    return parent, stream


def test_log_filter_scrubs_messages_args_and_tracebacks_of_child_loggers() -> None:
    redactor = Redactor([CERT])
    parent, stream = _logger_with_stream(redactor)
    child = logging.getLogger("test_redact_parent.child")
    child.warning("certificate %s rejected", CERT)
    child.info("headers %r", {"Authorization": "Basic Y3VzdDpzZWNyZXQtdmFsdWU="})
    try:
        raise ValueError(f"boom {CERT}")
    except ValueError:
        child.exception("failed")
    output = stream.getvalue()
    assert CERT not in output
    assert "Y3VzdDpzZWNyZXQtdmFsdWU=" not in output
    assert "certificate *** rejected" in output
    assert "ValueError: boom ***" in output
    # installing twice adds one filter only
    install_log_redaction(redactor, parent)
    assert sum(isinstance(f, RedactingFilter) for f in parent.handlers[0].filters) == 1


def test_installing_a_second_redactor_keeps_masking_both_sets_of_secrets() -> None:
    first = Redactor(["first-secret-value"])
    parent, stream = _logger_with_stream(first)
    install_log_redaction(Redactor(["second-secret-value"]), parent)
    parent.warning("first-secret-value and second-secret-value")
    assert stream.getvalue().strip().endswith("*** and ***")
