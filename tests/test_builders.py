"""AgentSpec -> StartAgentRequest / CallRequest: validation before sending, token minting."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convoai_mcp.builders import (
    AgentSpec,
    build_call_request,
    build_start_request,
    tts_sample_rate,
    validate_channel,
    validate_e164,
    validate_speak_text,
    validate_token_lifetime,
)
from convoai_mcp.errors import ValidationError
from convoai_mcp.models import AsrConfig, AvatarConfig, LlmConfig, MllmConfig, TtsConfig
from convoai_mcp.tokens import verify_token

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
LLM = LlmConfig(
    url="https://llm.example/v1/chat/completions", api_key="sk-x", params={"model": "m"}
)


def tts(rate: int | None = None, vendor: str = "microsoft") -> TtsConfig:
    params: dict[str, Any] = {"key": "k", "voice_name": "v"}
    if rate is not None:
        params["sample_rate"] = rate
    return TtsConfig(vendor=vendor, params=params)


def build(**fields: Any) -> Any:
    spec = AgentSpec(**{"channel": "room-1", **fields})
    return build_start_request(spec, app_id=APP_ID, app_certificate=CERT)


def test_cascading_agent_body_and_minted_token() -> None:
    request = build(
        name="assistant-1",
        asr=AsrConfig(vendor="deepgram", language="en-US"),
        llm=LLM,
        tts=tts(24000),
        system_prompt="Be brief.",
        greeting="Hello!",
        failure_message="Hold on.",
        max_history=10,
        idle_timeout=120,
        remote_uids=["100"],
    )
    wire = request.to_wire()
    props = wire["properties"]
    assert wire["name"] == "assistant-1"
    assert props["channel"] == "room-1"
    assert props["agent_rtc_uid"] == "1001"
    assert props["remote_rtc_uids"] == ["100"]
    assert props["llm"]["system_messages"] == [{"role": "system", "content": "Be brief."}]
    assert props["llm"]["greeting_message"] == "Hello!"
    assert props["llm"]["failure_message"] == "Hold on."
    assert props["llm"]["max_history"] == 10
    assert props["idle_timeout"] == 120
    assert "null" not in json.dumps(wire)
    parsed = verify_token(props["token"], CERT, app_id=APP_ID, channel="room-1", uid="1001")
    assert parsed.rtc is not None and set(parsed.rtc.privileges) == {1, 2, 3, 4}
    assert parsed.rtm is not None


def test_name_is_generated_when_omitted() -> None:
    a = AgentSpec(channel="c")
    b = AgentSpec(channel="c")
    assert a.name.startswith("convoai-") and a.name != b.name


def test_presets_alone_are_enough() -> None:
    request = build(presets=["deepgram_nova_3", "openai_gpt_4o_mini", "openai_tts_1"])
    assert request.preset == "deepgram_nova_3,openai_gpt_4o_mini,openai_tts_1"
    assert "llm" not in request.to_wire()["properties"]


def test_pipeline_id_needs_no_stages() -> None:
    assert build(pipeline_id="pipe-1").pipeline_id == "pipe-1"


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"tts": TtsConfig(vendor="microsoft", params={})}, "no LLM"),
        ({"llm": LLM}, "no TTS"),
        ({"presets": ["openai_gpt_4o_mini"]}, "no TTS"),
        ({"llm": LlmConfig(api_key="k"), "tts": tts()}, "llm.url"),
        ({"llm": LLM, "tts": TtsConfig(params={"key": "k"})}, "tts.vendor"),
        ({"presets": ["a,b"]}, "preset"),
        ({"llm": LLM, "tts": tts(), "channel": "bad/channel"}, "channel"),
        ({"llm": LLM, "tts": tts(), "channel": "x" * 65}, "channel"),
        ({"llm": LLM, "tts": tts(), "agent_uid": "bot"}, "uid"),
        ({"llm": LLM, "tts": tts(), "agent_uid": "4294967296"}, "uid"),
        ({"llm": LLM, "tts": tts(), "agent_uid": "-1"}, "uid"),
        ({"llm": LLM, "tts": tts(), "remote_uids": []}, "remote_uids"),
        ({"llm": LLM, "tts": tts(), "name": " "}, "name"),
        ({"llm": LLM, "tts": tts(), "extra_properties": {"token": "x"}}, "token"),
    ],
)
def test_refused_before_sending(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        build(**fields)


@pytest.mark.parametrize(
    ("vendor", "rate", "ok"),
    [
        ("heygen", 24000, True),
        ("heygen", 16000, False),
        ("liveavatar", 16000, False),
        ("liveavatar", 24000, True),
        ("akool", 16000, True),
        ("akool", 24000, False),
        ("anam", 16000, True),
    ],
)
def test_avatar_sample_rate(vendor: str, rate: int, ok: bool) -> None:
    fields = {"llm": LLM, "tts": tts(rate), "avatar": AvatarConfig(vendor=vendor, params={})}
    if ok:
        assert build(**fields).properties.avatar is not None
    else:
        with pytest.raises(ValidationError, match=f"{vendor} needs TTS audio"):
            build(**fields)


def test_disabled_avatar_is_not_checked() -> None:
    request = build(llm=LLM, tts=tts(8000), avatar=AvatarConfig(vendor="heygen", enable=False))
    assert request.to_wire()["properties"]["avatar"] == {"vendor": "heygen", "enable": False}


@pytest.mark.parametrize(
    ("params", "rate"),
    [
        ({"sample_rate": 24000}, 24000),
        ({"audio_setting": {"sample_rate": 16000}}, 16000),
        ({"output_format": {"sample_rate": 44100}}, 44100),
        ({"AudioConfig": {"sample_rate_hertz": 24000}}, 24000),
        ({"voice": "x"}, None),
    ],
)
def test_tts_sample_rate_locations(params: dict[str, Any], rate: int | None) -> None:
    assert tts_sample_rate(TtsConfig(vendor="v", params=params)) == rate


def test_mllm_agent() -> None:
    request = build(
        mllm=MllmConfig(vendor="openai", api_key="k", params={"model": "gpt-realtime"}),
        system_prompt="Be kind.",
        greeting="Hi",
    )
    props = request.to_wire()["properties"]
    # mllm.enable, as the SDK sets it; the deprecated advanced_features.enable_mllm is gone
    assert props["mllm"]["enable"] is True
    assert "advanced_features" not in props
    assert props["mllm"]["params"]["instructions"] == "Be kind."
    assert props["mllm"]["greeting_message"] == "Hi"
    assert "llm" not in props and "tts" not in props
    # no turn detection or ASR for a realtime model; the audio scenario default still
    assert "turn_detection" not in props and "asr" not in props
    assert props["parameters"] == {"audio_scenario": "default"}
    old_flag = build(
        mllm=MllmConfig(vendor="openai", api_key="k"),
        advanced_features={"enable_mllm": True, "enable_rtm": True},
    ).to_wire()["properties"]
    assert old_flag["advanced_features"] == {"enable_rtm": True}
    assert old_flag["mllm"]["enable"] is True
    disabled = build(llm=LLM, tts=tts(), mllm=MllmConfig(enable=False, vendor="openai")).to_wire()[
        "properties"
    ]
    assert disabled["mllm"] == {"enable": False, "vendor": "openai"}  # stays off
    assert disabled["llm"]["url"] == LLM.url


def test_agent_uid_zero_means_any() -> None:
    """uid 0 asks the service for a random uid (the SDK documents it); the token packs uid 0
    as the empty account, as Agora's reference builders and our recorded vectors do."""
    request = build(llm=LLM, tts=tts(), agent_uid="0")
    assert request.properties.agent_rtc_uid == "0"
    parsed = verify_token(request.properties.token, CERT, app_id=APP_ID, channel="room-1", uid="0")
    assert parsed.rtc is not None and parsed.rtc.uid == ""


def test_the_sdk_defaults_are_sent() -> None:
    """What the official SDK always sends for an ASR + LLM + TTS agent (X13)."""
    props = build(llm=LLM, tts=tts()).to_wire()["properties"]
    assert props["turn_detection"] == {"language": "en-US"}
    assert props["asr"] == {"vendor": "ares", "language": "en-US"}
    assert props["parameters"] == {"audio_scenario": "default"}
    assert props["llm"]["style"] == "openai"
    assert props["llm"]["input_modalities"] == ["text"]
    assert props["remote_rtc_uids"] == ["1002"]  # one user id, not "*"
    cn = build_start_request(
        AgentSpec(channel="room-1", llm=LLM, tts=tts()),
        app_id=APP_ID,
        app_certificate=CERT,
        cn=True,
    )
    assert cn.to_wire()["properties"]["asr"]["vendor"] == "fengming"
    german = build(
        llm=LlmConfig(url="https://l.example/v1", style="gemini", input_modalities=["audio"]),
        tts=tts(),
        asr=AsrConfig(vendor="deepgram", language="de-DE", params={"model": "nova-3"}),
        parameters={"silence_config": {"timeout_ms": 5000}},
        advanced_features={"enable_rtm": True},
    ).to_wire()["properties"]
    assert german["turn_detection"] == {"language": "de-DE"}  # the ASR language leads
    assert german["asr"]["language"] == "de-DE"
    assert german["llm"]["style"] == "gemini"  # what is set is kept
    assert german["llm"]["input_modalities"] == ["audio"]
    assert german["parameters"] == {
        "silence_config": {"timeout_ms": 5000},
        "audio_scenario": "default",
        "data_channel": "rtm",  # RTM on: the data channel is RTM
    }
    forced = build(
        llm=LLM,
        tts=tts(),
        asr=AsrConfig(vendor="deepgram", language="de-DE"),
        turn_detection={"language": "fr-FR", "type": "agora_vad"},
    ).to_wire()["properties"]
    assert forced["asr"]["language"] == "fr-FR"  # forced to the turn-detection language
    assert forced["turn_detection"] == {"language": "fr-FR", "type": "agora_vad"}
    preset = build(presets=["deepgram_nova_3", "openai_gpt_4o_mini", "openai_tts_1"]).to_wire()
    assert "asr" not in preset["properties"]  # the preset provides the ASR
    assert preset["properties"]["turn_detection"] == {"language": "en-US"}
    piped = build(pipeline_id="pl_1").to_wire()["properties"]
    assert "asr" not in piped and "llm" not in piped


def test_the_llm_config_wins_over_prompt_and_greeting() -> None:
    """X12: the spec's prompt / greeting / failure message / history size fill only what the
    LLM config leaves unset, as in the official SDK."""
    configured = LlmConfig(
        url="https://l.example/v1",
        system_messages=[{"role": "system", "content": "From the config."}],
        greeting_message="Config hello",
        max_history=5,
    )
    llm = build(
        llm=configured,
        tts=tts(),
        system_prompt="From the spec.",
        greeting="Spec hello",
        failure_message="Spec sorry",
        max_history=9,
    ).to_wire()["properties"]["llm"]
    assert llm["system_messages"] == [{"role": "system", "content": "From the config."}]
    assert llm["greeting_message"] == "Config hello"
    assert llm["failure_message"] == "Spec sorry"  # unset in the config: the spec fills it
    assert llm["max_history"] == 5
    mllm = build(
        mllm=MllmConfig(
            vendor="openai", greeting_message="Config hi", params={"instructions": "C"}
        ),
        system_prompt="S",
        greeting="Spec hi",
    ).to_wire()["properties"]["mllm"]
    assert (mllm["greeting_message"], mllm["params"]["instructions"]) == ("Config hi", "C")


def test_avatar_with_mllm_is_refused() -> None:
    with pytest.raises(ValidationError, match="MLLM"):
        build(mllm=MllmConfig(vendor="openai"), avatar=AvatarConfig(vendor="heygen"))


def test_token_is_required_without_certificate() -> None:
    spec = AgentSpec(channel="c", llm=LLM, tts=tts())
    with pytest.raises(ValidationError, match="join token"):
        build_start_request(spec, app_id=APP_ID, app_certificate=None)
    given_token = build_start_request(spec, app_id=APP_ID, app_certificate=None, token="007abc")
    assert given_token.properties.token == "007abc"


def test_malformed_certificate_is_a_validation_error_without_the_value() -> None:
    spec = AgentSpec(channel="c", llm=LLM, tts=tts())
    bad = CERT[:-1] + " "
    with pytest.raises(ValidationError) as info:
        build_start_request(spec, app_id=APP_ID, app_certificate=bad)
    assert CERT[:-1] not in str(info.value)


@pytest.mark.parametrize("lifetime", [0, -1, 86401, True])
def test_token_lifetime_bounds(lifetime: int) -> None:
    with pytest.raises(ValidationError, match="lifetime"):
        validate_token_lifetime(lifetime)
    spec = AgentSpec(channel="c", llm=LLM, tts=tts())
    with pytest.raises(ValidationError, match="lifetime"):
        build_start_request(spec, app_id=APP_ID, app_certificate=CERT, token_lifetime=lifetime)


def test_token_lifetime_is_applied() -> None:
    spec = AgentSpec(channel="c", llm=LLM, tts=tts())
    request = build_start_request(spec, app_id=APP_ID, app_certificate=CERT, token_lifetime=60)
    assert verify_token(request.properties.token, CERT).expire == 60


def test_speak_text_limit_counts_utf8_bytes() -> None:
    assert validate_speak_text("a" * 512) == "a" * 512
    with pytest.raises(ValidationError, match="513 bytes"):
        validate_speak_text("a" * 513)
    with pytest.raises(ValidationError, match="bytes"):
        validate_speak_text("é" * 257)  # 514 bytes, 257 characters
    with pytest.raises(ValidationError, match="empty"):
        validate_speak_text("  ")


@given(st.text(min_size=1, max_size=600))
def test_speak_text_accepts_exactly_what_fits(text: str) -> None:
    fits = len(text.encode("utf-8")) <= 512 and bool(text.strip())
    try:
        validate_speak_text(text)
    except ValidationError:
        assert not fits
    else:
        assert fits


@pytest.mark.parametrize("number", ["+14155550123", "+442071838750", "+8613800138000"])
def test_e164_ok(number: str) -> None:
    assert validate_e164(number) == number


@pytest.mark.parametrize(
    "number", ["14155550123", "+0123456789", "+1 415 555 0123", "+1-415", "+1234567890123456", ""]
)
def test_e164_refused(number: str) -> None:
    with pytest.raises(ValidationError, match=r"E\.164"):
        validate_e164(number)


def test_channel_rules() -> None:
    assert validate_channel("Room 1_a-b") == "Room 1_a-b"
    with pytest.raises(ValidationError):
        validate_channel("")
    with pytest.raises(ValidationError):
        validate_channel("日本")


def test_call_request() -> None:
    spec = AgentSpec(name="caller", channel="call-1", llm=LLM, tts=tts())
    request = build_call_request(
        spec,
        to_number="+14155550123",
        from_number="+14155550100",
        app_id=APP_ID,
        app_certificate=CERT,
    )
    wire = request.to_wire()
    assert wire["sip"]["to_number"] == "+14155550123"
    assert wire["sip"]["rtc_uid"] == "1002"
    assert wire["properties"]["remote_rtc_uids"] == ["1002"]
    verify_token(wire["sip"]["rtc_token"], CERT, channel="call-1", uid="1002")
    verify_token(wire["properties"]["token"], CERT, channel="call-1", uid="1001")
    with pytest.raises(ValidationError, match=r"E\.164"):
        build_call_request(
            spec, to_number="555", from_number="+14155550100", app_id=APP_ID, app_certificate=CERT
        )
    with pytest.raises(ValidationError, match="differ"):
        build_call_request(
            spec,
            to_number="+14155550123",
            from_number="+14155550100",
            app_id=APP_ID,
            app_certificate=CERT,
            sip_uid="1001",
        )


def test_spec_repr_has_no_secrets() -> None:
    spec = AgentSpec(channel="c", llm=LLM, tts=tts())
    assert "sk-x" not in repr(spec)
    assert "sk-x" not in str(spec)


def test_bad_extra_property_names_the_field_but_not_the_value() -> None:
    spec = AgentSpec(
        channel="c", llm=LLM, tts=tts(), extra_properties={"idle_timeout": "secret-value-xyz"}
    )
    with pytest.raises(ValidationError, match=r"properties\.idle_timeout") as info:
        build_start_request(spec, app_id=APP_ID, app_certificate=CERT)
    assert "secret-value-xyz" not in str(info.value)


def test_spec_str_has_no_secrets() -> None:
    spec = AgentSpec(channel="c", llm=LLM, tts=tts(), extra_properties={"rtc": {"key": "k-123"}})
    assert "k-123" not in str(spec)


def test_a_publishing_avatar_gets_its_own_token() -> None:
    """As the SDK's sessions do: a LiveAvatar / HeyGen / generic avatar that names its
    agora_uid gets an RTC token for that uid; a generic one also the App ID and channel."""
    live = AvatarConfig(vendor="liveavatar", params={"api_key": "k", "agora_uid": "3001"})
    avatar = build(llm=LLM, tts=tts(24000), avatar=live).to_wire()["properties"]["avatar"]
    minted = avatar["params"]["agora_token"]
    assert verify_token(minted, CERT, app_id=APP_ID, channel="room-1", uid="3001").rtc
    given = AvatarConfig(vendor="heygen", params={"agora_uid": "3001", "agora_token": "007x"})
    kept = build(llm=LLM, tts=tts(24000), avatar=given).to_wire()["properties"]["avatar"]
    assert kept["params"]["agora_token"] == "007x"
    generic = AvatarConfig(vendor="generic", params={"agora_uid": "3001"})
    params = build(llm=LLM, tts=tts(), avatar=generic).to_wire()["properties"]["avatar"]["params"]
    assert (params["agora_appid"], params["agora_channel"]) == (APP_ID, "room-1")
    akool = AvatarConfig(vendor="akool", params={"api_key": "k"})
    plain = build(llm=LLM, tts=tts(16000), avatar=akool).to_wire()["properties"]["avatar"]
    assert plain["params"] == {"api_key": "k"}  # Akool does not publish in the channel
    with pytest.raises(ValidationError, match="agora_uid"):
        build(
            llm=LLM,
            tts=tts(24000),
            avatar=AvatarConfig(vendor="liveavatar", params={"agora_uid": "1001"}),
        )
