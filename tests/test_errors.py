"""The exception tree: classes per status, fields from both body shapes, hints, no secrets."""

from __future__ import annotations

import pytest

from convoai_mcp.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConflictError,
    ConvoAIError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    TransportError,
    ValidationError,
    error_from_response,
    scrub,
)

TOKEN = "007eJxTYBBf9GqRkhS1KtVVzjYPavqvPbitnYG8vJ8BAHL8CNc="


def test_422_is_the_access_limit_not_a_field_error() -> None:
    """The official SDK documents the service's 422 as "access limit exceeded"."""
    err = error_from_response(422, b"{}", {}, method="post", path="/v2/projects/x/join")
    assert isinstance(err, RateLimitedError)
    assert "access limit" in err.hint
    assert "field" not in err.hint


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (422, RateLimitedError),  # "access limit exceeded", as the official SDK documents
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitedError),
        (500, ServiceUnavailableError),
        (503, ServiceUnavailableError),
        (599, ServiceUnavailableError),
        (418, APIStatusError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[APIStatusError]) -> None:
    err = error_from_response(status, b"{}", {}, method="get", path="/v2/x")
    assert type(err) is cls
    assert err.status == status
    assert isinstance(err, ConvoAIError)


def test_agent_body_fields_and_request_id() -> None:
    err = error_from_response(
        409,
        b'{"detail": "name in use", "reason": "TaskConflict"}',
        {"X-Request-ID": "req-1"},
        method="post",
        path="/v2/projects/a/join?x=1",
    )
    assert (err.reason, err.detail, err.request_id) == ("TaskConflict", "name in use", "req-1")
    assert err.method == "POST"
    assert err.path == "/v2/projects/a/join"
    assert "TaskConflict" in str(err) and "req-1" in str(err)
    assert err.hint and "name" in err.hint


def test_telephony_body_fields_and_lowercase_header() -> None:
    err = error_from_response(
        400, {"error_type": "InvalidNumber", "description": "bad to_number"}, {"x-request-id": "r"}
    )
    assert (err.reason, err.detail, err.request_id) == ("InvalidNumber", "bad to_number", "r")


def test_non_json_body_becomes_detail() -> None:
    err = error_from_response(502, b"<html>bad gateway</html>", {})
    assert err.reason is None
    assert err.detail == "<html>bad gateway</html>"


def test_rate_limited_carries_retry_after() -> None:
    err = error_from_response(429, b"{}", {}, retry_after=2.5)
    assert isinstance(err, RateLimitedError)
    assert err.retry_after == 2.5


def test_reason_hint_wins_over_status_hint() -> None:
    err = error_from_response(403, {"reason": "ServiceNotEnabled"}, {})
    assert "enable" in err.hint.lower()


def test_str_is_message_and_hint() -> None:
    err = ConfigError("AGORA_APP_ID is missing", hint="set it")
    assert str(err) == "AGORA_APP_ID is missing (set it)"
    assert repr(err) == "ConfigError('AGORA_APP_ID is missing (set it)')"
    assert str(ValidationError("plain")) == "plain"


def test_marking_an_error_maybe_performed_replaces_its_hint() -> None:
    err = error_from_response(503, {"reason": "Busy"}, {}, method="post", path="/v2/x/join")
    before = err.maybe_performed
    err.mark_maybe_performed("it may have been created anyway: list the agents")
    assert (before, err.maybe_performed) == (False, True)
    assert str(err).endswith("(it may have been created anyway: list the agents)")
    assert err.args == (str(err),)
    kept = TransportError("lost", hint="try again", sent=False)
    kept.mark_maybe_performed()  # no new hint: the old one stays
    assert kept.sent and kept.maybe_performed and kept.hint == "try again"


@pytest.mark.parametrize(
    "text",
    [
        f"token {TOKEN} is bad",
        f"Authorization: agora token={TOKEN}",
        "Authorization: Basic Y3VzdG9tZXI6c2VjcmV0c2VjcmV0",
        'api_key="sk-live-abcdef123456"',
        '{"api_key": "sk-live-abcdef123456", "model": "m"}',
        "{'params': {'key': 'sk-live-abcdef123456'}}",
        "secret=hunter2hunter2",
        "password: hunter2hunter2",
    ],
)
def test_secrets_never_survive_in_errors(text: str) -> None:
    err = error_from_response(401, {"detail": text, "reason": "InvalidPermission"}, {})
    for secret in (TOKEN, "Y3VzdG9tZXI6c2VjcmV0c2VjcmV0", "sk-live-abcdef123456", "hunter2"):
        assert secret not in str(err)
        assert secret not in repr(err)
        assert secret not in (err.detail or "")


def test_extra_body_fields_are_kept_but_secret_ones_masked() -> None:
    body = {
        "reason": "TaskConflict",
        "agent_id": "A42",
        "api_key": "sk-live-abcdef123456",
        "rtc_token": "abc",
        "note": "token=abcdefghijkl",
    }
    err = error_from_response(409, body, {})
    assert err.extra == {
        "agent_id": "A42",
        "api_key": "***",
        "rtc_token": "***",
        "note": "token=***",
    }


@pytest.mark.parametrize(
    "detail",
    ["properties.llm.api_key: must be a string", "properties.token: cannot join 'room' as 1001"],
)
def test_field_names_in_details_stay_readable(detail: str) -> None:
    assert scrub(detail) == detail


def test_scrub_caps_length() -> None:
    assert len(scrub("x" * 10_000)) <= 501


def test_errors_as_structured_data() -> None:
    """What a tool result needs, without parsing the message: the REST path (with the App ID)
    and the request id are fields; ``summary`` is the message without them."""
    err = error_from_response(
        404,
        {"reason": "TaskNotFound", "detail": "no agent"},
        {"X-Request-Id": "r-1"},
        method="get",
        path="/v2/projects/APP/agents/A1?x=1",
    )
    assert err.summary == "HTTP 404 TaskNotFound: no agent"
    assert err.as_dict() == {
        "type": "NotFoundError",
        "message": err.message,
        "hint": err.hint,
        "maybe_performed": False,
        "status": 404,
        "reason": "TaskNotFound",
        "detail": "no agent",
        "request_id": "r-1",
        "method": "GET",
        "path": "/v2/projects/APP/agents/A1",
        "summary": "HTTP 404 TaskNotFound: no agent",
    }
    lost = TransportError("lost", sent=True, method="post", path="/v2/x?q", endpoint="http://e")
    assert lost.as_dict() == {
        "type": "TransportError",
        "message": "lost",
        "hint": "",
        "maybe_performed": True,
        "attempts": 1,
        "sent": True,
        "method": "POST",
        "path": "/v2/x",
        "endpoint": "http://e",
    }


def test_known_secret_values_are_masked_in_error_bodies() -> None:
    err = error_from_response(
        400, {"detail": "bad value s3cr3t-value-x", "reason": "X"}, {}, known=["s3cr3t-value-x"]
    )
    assert "s3cr3t" not in str(err) and err.detail == "bad value ***"
