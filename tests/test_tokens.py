"""AccessToken2: the spec's vector, round trips, tampering, uid rules, expiry, caching."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convoai_mcp import tokens
from convoai_mcp.tokens import (
    TokenCache,
    TokenError,
    mint_convoai_token,
    mint_rtc_token,
    parse_token,
    uid_to_account,
    validate_app_certificate,
    validate_app_id,
    verify_token,
)

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
OTHER_CERT = "0123456789abcdef0123456789abcdef"

# The vector in ../shared/spec/accesstoken2.md.
VECTOR = {
    "issue_ts": 1111111,
    "salt": 1,
    "expire": 600,
    "channel": "7d72365eb983485397e3e3f9d460bdda",
    "uid": 2882341273,
    "signing_key": "cee2fa8dcbe868c30ca8c959d97fad4a5049c634da48449f1b8f59c14fa61073",
    "signature": "16a0b84c5a5e82cbf74fb813d09f59c54bdac9c06120580539ac97578e958b1a",
    "prefix": "007eJxTYBBbsMMn",
}


def _vector_token() -> str:
    # One RTC service with privilege {1: 600}: exactly a subscriber token.
    return mint_rtc_token(
        APP_ID,
        CERT,
        VECTOR["channel"],  # type: ignore[arg-type]
        VECTOR["uid"],  # type: ignore[arg-type]
        role="subscriber",
        lifetime=600,
        issue_ts=1111111,
        salt=1,
    )


def test_vector_signing_key_derivation() -> None:
    """The two-step key derivation gives the spec's signing key (key/message not swapped)."""
    k1 = hmac.new(struct.pack("<I", 1111111), CERT.encode(), hashlib.sha256).digest()
    key = hmac.new(struct.pack("<I", 1), k1, hashlib.sha256).digest()
    assert key.hex() == VECTOR["signing_key"]


def test_vector_signature_and_fields() -> None:
    token = _vector_token()
    parsed = parse_token(token)
    assert parsed.signature.hex() == VECTOR["signature"]
    assert token.startswith(str(VECTOR["prefix"]))
    assert parsed.app_id == APP_ID
    assert (parsed.issue_ts, parsed.expire, parsed.salt) == (1111111, 600, 1)
    assert parsed.rtc is not None
    assert parsed.rtc.privileges == {1: 600}
    assert parsed.rtc.channel == VECTOR["channel"]
    assert parsed.rtc.uid == "2882341273"
    assert parsed.rtm is None


def test_vector_verifies_before_expiry_and_not_after() -> None:
    token = _vector_token()
    assert verify_token(token, CERT, app_id=APP_ID, now=1111111 + 600).expires_at == 1111711
    with pytest.raises(TokenError) as err:
        verify_token(token, CERT, now=1111111 + 601)
    assert err.value.reason == "expired"


def test_convoai_token_has_rtc_and_rtm_privileges() -> None:
    token = mint_convoai_token(APP_ID, CERT, "room-123", 1001, lifetime=3600, issue_ts=10, salt=7)
    parsed = verify_token(token, CERT, app_id=APP_ID, now=11, channel="room-123", uid="1001")
    assert parsed.rtc is not None and parsed.rtm is not None
    assert parsed.rtc.privileges == {1: 3600, 2: 3600, 3: 3600, 4: 3600}
    assert parsed.rtm.privileges == {1: 3600}
    assert parsed.rtm.user_id == parsed.rtc.uid == "1001"
    assert parsed.expire == 3600


def test_publisher_and_subscriber_privileges() -> None:
    pub = parse_token(mint_rtc_token(APP_ID, CERT, "c", 5, issue_ts=1, salt=1, lifetime=60))
    sub = parse_token(
        mint_rtc_token(APP_ID, CERT, "c", 5, role="subscriber", issue_ts=1, salt=1, lifetime=60)
    )
    assert pub.rtc is not None and sub.rtc is not None
    assert sorted(pub.rtc.privileges) == [1, 2, 3, 4]
    assert sorted(sub.rtc.privileges) == [1]
    assert pub.rtm is None


@pytest.mark.parametrize(
    ("uid", "account"),
    [(0, ""), (1, "1"), (4294967295, "4294967295"), ("0", "0"), ("alice", "alice"), ("", "")],
)
def test_uid_encoding(uid: int | str, account: str) -> None:
    """Integer 0 means "any uid" (empty account); string uids are used unchanged."""
    assert uid_to_account(uid) == account
    parsed = parse_token(mint_convoai_token(APP_ID, CERT, "c", uid, issue_ts=1, salt=1))
    assert parsed.rtc is not None and parsed.rtc.uid == account


@pytest.mark.parametrize("uid", [-1, 2**32, True])
def test_bad_uids_rejected(uid: int) -> None:
    with pytest.raises(ValueError, match="uid"):
        uid_to_account(uid)


def test_uid_zero_token_accepts_any_uid() -> None:
    token = mint_convoai_token(APP_ID, CERT, "c", 0, issue_ts=1, salt=1)
    assert verify_token(token, CERT, now=2, uid="4242").rtc is not None


@pytest.mark.parametrize("lifetime", [0, -5, 86401, 10**9])
def test_lifetime_out_of_range_is_an_error_not_capped(lifetime: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.86400"):
        mint_convoai_token(APP_ID, CERT, "c", 1, lifetime=lifetime)


def test_default_lifetime_is_a_day() -> None:
    parsed = parse_token(mint_convoai_token(APP_ID, CERT, "c", 1))
    assert parsed.expire == 86400
    assert 1 <= parsed.salt <= 99_999_999


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (APP_ID[:31], "31 characters, expected 32"),
        (APP_ID + "0", "33 characters, expected 32"),
        (" " + APP_ID[1:], "whitespace"),
        (APP_ID[:31] + "\n", "whitespace"),
        ("g" * 32, "hexadecimal"),
    ],
)
def test_app_id_validation_messages(value: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        validate_app_id(value)


def test_app_certificate_message_never_shows_the_value() -> None:
    bad = "zz" + CERT[2:]
    with pytest.raises(ValueError) as err:
        validate_app_certificate(bad)
    assert bad not in str(err.value)
    assert "AGORA_APP_CERTIFICATE" in str(err.value)
    assert validate_app_certificate(CERT) == CERT


def test_mint_refuses_malformed_credentials() -> None:
    with pytest.raises(ValueError, match="App Certificate"):
        mint_convoai_token(APP_ID, CERT + " ", "c", 1)


def _reencode(content: bytes) -> str:
    return "007" + base64.b64encode(zlib.compress(content)).decode()


def test_tampered_signing_info_is_rejected() -> None:
    token = mint_convoai_token(APP_ID, CERT, "room", 1, issue_ts=100, salt=5)
    content = bytearray(zlib.decompress(base64.b64decode(token[3:])))
    content[-1] ^= 0x01  # flip a bit in the last packed field (the RTM user id)
    with pytest.raises(TokenError) as err:
        verify_token(_reencode(bytes(content)), CERT, now=101)
    assert err.value.reason == "bad_signature"


def test_wrong_certificate_and_app_id_rejected() -> None:
    token = mint_convoai_token(APP_ID, CERT, "room", 1, issue_ts=100, salt=5)
    with pytest.raises(TokenError) as err:
        verify_token(token, OTHER_CERT, now=101)
    assert err.value.reason == "bad_signature"
    with pytest.raises(TokenError) as err:
        verify_token(token, CERT, app_id=OTHER_CERT, now=101)
    assert err.value.reason == "wrong_app_id"


def test_wrong_channel_and_uid_rejected() -> None:
    token = mint_convoai_token(APP_ID, CERT, "room", 1, issue_ts=100, salt=5)
    with pytest.raises(TokenError) as err:
        verify_token(token, CERT, now=101, channel="other")
    assert err.value.reason == "wrong_channel"
    with pytest.raises(TokenError) as err:
        verify_token(token, CERT, now=101, uid="2")
    assert err.value.reason == "wrong_uid"


def test_verifies_other_zlib_encodings_of_the_same_content() -> None:
    """Any valid zlib stream is accepted: verification never re-serialises."""
    token = mint_convoai_token(APP_ID, CERT, "room", 1, issue_ts=100, salt=5)
    content = zlib.decompress(base64.b64decode(token[3:]))
    other = "007" + base64.b64encode(zlib.compress(content, 9)).decode()
    assert verify_token(other, CERT, now=101).app_id == APP_ID


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("006abc", "bad_version"),
        ("", "bad_version"),
        ("007!!!", "bad_base64"),
        ("007" + base64.b64encode(b"not zlib").decode(), "bad_zlib"),
        (_reencode(b"\x05\x00ab"), "truncated"),
        (_reencode(b""), "truncated"),
    ],
)
def test_malformed_tokens_rejected_with_reason(token: str, reason: str) -> None:
    with pytest.raises(TokenError) as err:
        parse_token(token)
    assert err.value.reason == reason


def test_trailing_bytes_rejected() -> None:
    token = mint_convoai_token(APP_ID, CERT, "room", 1, issue_ts=100, salt=5)
    content = zlib.decompress(base64.b64decode(token[3:]))
    with pytest.raises(TokenError) as err:
        parse_token(_reencode(content + b"\x00"))
    assert err.value.reason == "truncated"


hex32 = st.text(alphabet="0123456789abcdefABCDEF", min_size=32, max_size=32)
uids = st.one_of(st.integers(min_value=0, max_value=2**32 - 1), st.text(max_size=64))


@settings(max_examples=150, deadline=None)
@given(
    app_id=hex32,
    cert=hex32,
    channel=st.text(max_size=64),
    uid=uids,
    lifetime=st.integers(min_value=1, max_value=86400),
    issue_ts=st.integers(min_value=0, max_value=2**31),
    salt=st.integers(min_value=1, max_value=99_999_999),
)
def test_round_trip(
    app_id: str, cert: str, channel: str, uid: int | str, lifetime: int, issue_ts: int, salt: int
) -> None:
    token = mint_convoai_token(
        app_id, cert, channel, uid, lifetime=lifetime, issue_ts=issue_ts, salt=salt
    )
    parsed = verify_token(
        token,
        cert,
        app_id=app_id,
        now=issue_ts + lifetime,
        channel=channel,
        uid=uid_to_account(uid),
    )
    assert (parsed.issue_ts, parsed.expire, parsed.salt) == (issue_ts, lifetime, salt)
    assert parsed.rtc is not None and parsed.rtc.channel == channel
    assert parsed.rtm is not None and parsed.rtm.user_id == uid_to_account(uid)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parser_rejects_garbage_cleanly(text: str) -> None:
    try:
        parse_token(text)
    except TokenError as exc:
        assert exc.reason


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_tokens_never_verify_or_crash(data: st.DataObject) -> None:
    token = mint_convoai_token(APP_ID, CERT, "room", 7, issue_ts=100, salt=9)
    raw = bytearray(zlib.decompress(base64.b64decode(token[3:])))
    index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[index] ^= data.draw(st.integers(min_value=1, max_value=255))
    try:
        verify_token(_reencode(bytes(raw)), CERT, now=101)
    except TokenError as exc:
        assert exc.reason in {"truncated", "bad_signature", "wrong_app_id", "expired"}
    else:  # pragma: no cover - a bit flip that still verifies would be a forgery
        pytest.fail("a mutated token verified")


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_cache_reuses_until_refresh_margin() -> None:
    clock = FakeClock(1_000_000.0)
    cache = TokenCache(APP_ID, CERT, lifetime=3600, refresh_margin=300, clock=clock)
    first = cache.convoai_token("room", 1001)
    assert cache.convoai_token("room", 1001) is first
    assert cache.convoai_token("room", "1001") is first  # same account
    assert cache.convoai_token("room", 1002) != first
    clock.now += 3600 - 300 - 1
    assert cache.convoai_token("room", 1001) is first
    clock.now += 1
    renewed = cache.convoai_token("room", 1001)
    assert renewed != first
    assert verify_token(renewed, CERT, now=clock.now).issue_ts == int(clock.now)


def test_cache_is_bounded_and_hides_secrets() -> None:
    cache = TokenCache(APP_ID, CERT, max_entries=3)
    for i in range(10):
        cache.convoai_token("room", i + 1)
    assert len(cache._entries) == 3
    assert CERT not in repr(cache)


def test_module_exports() -> None:
    for name in tokens.__all__:
        assert hasattr(tokens, name)


def test_bad_inputs_raise_a_token_error_from_the_error_tree() -> None:
    """tokens raises TokenError (a ConvoAIError, still a ValueError), not a bare ValueError."""
    from collections.abc import Callable

    from convoai_mcp.errors import ConvoAIError

    calls: list[Callable[[], object]] = [
        lambda: tokens.validate_app_id("nope"),
        lambda: tokens.uid_to_account(-1),
        lambda: tokens.mint_rtc_token(APP_ID, CERT, "room", 1, lifetime=0),
    ]
    for call in calls:
        with pytest.raises(TokenError) as err:
            call()
        assert isinstance(err.value, ConvoAIError) and isinstance(err.value, ValueError)
        assert err.value.reason == "invalid_input"
