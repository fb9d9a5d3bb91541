"""Wire models: exact names, unknown fields kept, no nulls sent, secrets masked in repr."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from convoai_mcp.models import (
    AgentInfo,
    AgentProperties,
    AgentStatus,
    AgentSummary,
    CallInfo,
    History,
    ListResponse,
    LlmConfig,
    PhoneNumber,
    PipelineRef,
    StartAgentRequest,
    StartAgentResponse,
    TtsConfig,
    Turns,
    UpdatePhoneNumberRequest,
    is_secret_name,
    mask_secrets,
)

SPEC_BODY: dict[str, Any] = {
    "name": "assistant-1",
    "properties": {
        "channel": "room-123",
        "token": "007eJxSECRETTOKENVALUE",
        "agent_rtc_uid": "1001",
        "remote_rtc_uids": ["100"],
        "idle_timeout": 120,
        "asr": {"vendor": "deepgram", "language": "en-US", "params": {"key": "dg-secret"}},
        "llm": {
            "url": "https://api.openai.com/v1/chat/completions",
            "api_key": "sk-secret",
            "system_messages": [{"role": "system", "content": "You are helpful."}],
            "params": {"model": "gpt-4o-mini"},
            "max_history": 10,
            "greeting_message": "Hello!",
            "failure_message": "Please hold on.",
            "style": "openai",
        },
        "tts": {
            "vendor": "microsoft",
            "params": {"key": "ms-secret", "region": "eastus", "sample_rate": 24000},
        },
        "turn_detection": {"language": "en-US"},
        "parameters": {"audio_scenario": "default"},
        "brand_new_option": {"x": 1},
    },
}
SECRETS = ("007eJxSECRETTOKENVALUE", "dg-secret", "sk-secret", "ms-secret")


def test_spec_start_body_round_trips_exactly() -> None:
    request = StartAgentRequest.model_validate(SPEC_BODY)
    assert request.to_wire() == SPEC_BODY
    assert request.properties.model_extra == {"brand_new_option": {"x": 1}}


def test_unset_and_none_fields_are_left_out() -> None:
    request = StartAgentRequest(
        name="a",
        properties=AgentProperties(
            channel="c",
            token="t",
            agent_rtc_uid="1",
            remote_rtc_uids=["*"],
            llm=LlmConfig(url="u", params={"model": "m", "temperature": None}),
        ),
    )
    wire = request.to_wire()
    assert "null" not in json.dumps(wire)
    assert wire == {
        "name": "a",
        "properties": {
            "channel": "c",
            "token": "t",
            "agent_rtc_uid": "1",
            "remote_rtc_uids": ["*"],
            "llm": {"url": "u", "params": {"model": "m"}},
        },
    }


def test_repr_and_redacted_never_show_secrets() -> None:
    request = StartAgentRequest.model_validate(SPEC_BODY)
    for text in (repr(request), str(request), json.dumps(request.redacted())):
        for secret in SECRETS:
            assert secret not in text
    assert request.redacted()["properties"]["llm"]["params"] == {"model": "gpt-4o-mini"}
    assert "sk-secret" in json.dumps(request.to_wire())  # the wire itself is intact


def test_repr_masks_secrets_inside_other_text() -> None:
    """A key in an LLM URL's query or a token in a message is masked in repr, not on the wire."""
    url = "https://llm.example/v1/chat?key=AIzaSyD-secret-1234&x=1"
    llm = LlmConfig(url=url, system_messages=[{"role": "system", "content": "hi"}])
    assert "AIzaSyD-secret-1234" not in repr(llm)
    assert "key=***" in repr(llm)
    assert llm.to_wire()["url"] == url
    prompt = "word " * 200
    assert repr(LlmConfig(greeting_message=prompt)).count("word") == 200  # no length cap


def test_secret_names() -> None:
    for name in (
        "api_key",
        "key",
        "token",
        "rtc_token",
        "secret_id",
        "adc_credentials_string",
        "Authorization",
        "apiKey",
        "api_subscription_key",
        "password",
    ):
        assert is_secret_name(name), name
    for name in ("max_tokens", "keywords", "keyterm", "voice_id", "model", "channel"):
        assert not is_secret_name(name), name
    assert mask_secrets({"headers": {"Authorization": "Bearer x"}, "n": [{"token": "y"}]}) == {
        "headers": {"Authorization": "***"},
        "n": [{"token": "***"}],
    }


def test_status_names_numbers_and_unknown_strings() -> None:
    assert StartAgentResponse.model_validate({"agent_id": "a", "status": "RUNNING"}).status is (
        AgentStatus.RUNNING
    )
    assert AgentInfo.model_validate({"status": 6}).status is AgentStatus.FAILED
    assert AgentInfo.model_validate({"status": "HIBERNATING"}).status == "HIBERNATING"
    assert AgentInfo.model_validate({}).status is None


def test_list_envelope_and_unknown_fields_kept() -> None:
    body = {
        "data": {"count": 1, "list": [{"agent_id": "x", "status": "STOPPED", "new": 3}]},
        "meta": {"cursor": "c2", "total": 9},
        "status": "ok",
    }
    parsed = ListResponse[AgentSummary].model_validate(body)
    assert parsed.data.items[0].agent_id == "x"
    assert parsed.data.items[0].model_extra == {"new": 3}
    assert parsed.meta is not None and parsed.meta.cursor == "c2"
    assert parsed.to_wire() == body


def test_response_models_accept_spec_shapes() -> None:
    history = History.model_validate(
        {"agent_id": "a", "status": "RUNNING", "contents": [{"role": "user", "content": "hi"}]}
    )
    assert history.contents[0].content == "hi"
    turns = Turns.model_validate(
        {
            "agent_id": "a",
            "name": "n",
            "channel": "c",
            "total_turn_count": 1,
            "pagination": {"page_index": 1, "total_pages": 1, "is_last_page": True},
            "turns": [
                {
                    "turn_id": 1,
                    "start": {"start_at": 1.5, "type": "greeting", "metadata": {}},
                    "end": {"end_at": 2.0, "type": "ok"},
                    "metrics": {
                        "e2e_latency_ms": 800,
                        "segmented_latency_ms": [{"name": "llm", "latency": 300}],
                    },
                }
            ],
        }
    )
    assert turns.turns[0].metrics is not None
    assert turns.turns[0].metrics.segmented_latency_ms is not None
    assert turns.turns[0].metrics.segmented_latency_ms[0].name == "llm"
    call = CallInfo.model_validate({"agent_id": "a", "state": "answered", "reason": "request"})
    assert call.state == "answered"
    number = PhoneNumber.model_validate(
        {"phone_number": "+15551234567", "associated_pipeline": {"pipeline_id": "p"}}
    )
    assert number.associated_pipeline is not None
    assert number.associated_pipeline.pipeline_id == "p"


def test_phone_number_patch_sends_explicit_nulls_only() -> None:
    clear = UpdatePhoneNumberRequest(inbound_config=PipelineRef(pipeline_id=None))
    assert clear.to_wire() == {"inbound_config": {"pipeline_id": None}}
    assert UpdatePhoneNumberRequest().to_wire() == {}
    assert UpdatePhoneNumberRequest(outbound_config=None).to_wire() == {"outbound_config": None}


json_scalars = st.one_of(st.booleans(), st.integers(-(2**31), 2**31), st.text(max_size=10))
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    params=st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=4),
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in TtsConfig.model_fields),
        json_values,
        max_size=3,
    ),
)
def test_tts_round_trip_keeps_everything(params: dict[str, Any], extra: dict[str, Any]) -> None:
    body = {"vendor": "minimax", "params": params, **extra}
    assert TtsConfig.model_validate(body).to_wire() == body
