"""AccessToken2 ("007") tokens: mint, parse and verify, with the standard library only.

Every failure is a :class:`~convoai_mcp.errors.TokenError` (also a ``ValueError``): bad input
(``reason="invalid_input"``: App ID, certificate, uid, lifetime ...) or a token that does not
decode or verify (the other reasons).

A token is ``"007" + base64(zlib(pack_string(signature) + signing_info))`` where
``signing_info`` packs the app id, issue time, lifetime, salt and the services (RTC, RTM) with
their privileges. All integers are little-endian; lifetimes are relative to ``issue_ts``.

The signing key is derived in two HMAC-SHA256 steps (issue time, then salt) from the App
Certificate, and the signature is the HMAC of the raw ``signing_info`` bytes. Verification
never re-serialises: it checks the bytes exactly as received.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from convoai_mcp.errors import TokenError, TokenFailure

__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_LIFETIME",
    "PRIV_JOIN_CHANNEL",
    "PRIV_PUBLISH_AUDIO",
    "PRIV_PUBLISH_DATA",
    "PRIV_PUBLISH_VIDEO",
    "PRIV_RTM_LOGIN",
    "SERVICE_RTC",
    "SERVICE_RTM",
    "VERSION",
    "ParsedToken",
    "RtcService",
    "RtmService",
    "TokenCache",
    "TokenError",
    "TokenFailure",
    "mint_convoai_token",
    "mint_rtc_token",
    "parse_token",
    "uid_to_account",
    "validate_app_certificate",
    "validate_app_id",
    "verify_token",
]

VERSION: Final = "007"
SERVICE_RTC: Final = 1
SERVICE_RTM: Final = 2
PRIV_JOIN_CHANNEL: Final = 1
PRIV_PUBLISH_AUDIO: Final = 2
PRIV_PUBLISH_VIDEO: Final = 3
PRIV_PUBLISH_DATA: Final = 4
PRIV_RTM_LOGIN: Final = 1
DEFAULT_LIFETIME: Final = 86400
MAX_LIFETIME: Final = 86400
_MAX_SALT: Final = 99_999_999
_U32_MAX: Final = 0xFFFF_FFFF
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")

# --------------------------------------------------------------------------- credentials


def _validate_hex32(value: str, name: str, env: str, *, secret: bool) -> str:
    if not isinstance(value, str):
        raise TokenError("invalid_input", f"{name} must be a string of 32 hexadecimal characters")
    if value != value.strip():
        raise TokenError(
            "invalid_input",
            f"{name} has leading or trailing whitespace; remove it (check {env} for a stray "
            "space or newline)",
        )
    if len(value) != 32:
        raise TokenError(
            "invalid_input",
            f"{name} has {len(value)} characters, expected 32; copy it again from the Agora "
            f"console into {env}",
        )
    if not _HEX32.fullmatch(value):
        shown = "" if secret else f" ({value!r})"
        raise TokenError(
            "invalid_input",
            f"{name}{shown} must contain only hexadecimal characters 0-9 and a-f; copy it "
            f"again from the Agora console into {env}",
        )
    return value


def validate_app_id(value: str) -> str:
    """Return ``value`` if it is a well-formed App ID (32 hex characters), else raise
    :class:`TokenError` (a ValueError)."""
    return _validate_hex32(value, "App ID", "AGORA_APP_ID", secret=False)


def validate_app_certificate(value: str) -> str:
    """Return ``value`` if it is a well-formed App Certificate; the message never shows it."""
    return _validate_hex32(value, "App Certificate", "AGORA_APP_CERTIFICATE", secret=True)


def uid_to_account(uid: int | str) -> str:
    """The account string a uid is packed as: int 0 becomes "" (anyone), ints their decimal."""
    if isinstance(uid, bool):
        raise TokenError("invalid_input", "uid must be an int or a str, not a bool")
    if isinstance(uid, int):
        if not 0 <= uid <= _U32_MAX:
            raise TokenError(
                "invalid_input", f"uid {uid} is out of range; use 0..{_U32_MAX} or a string account"
            )
        return "" if uid == 0 else str(uid)
    return uid


# --------------------------------------------------------------------------- packing


def _u16(value: int) -> bytes:
    return struct.pack("<H", value)


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


def _pack_string(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise TokenError("invalid_input", "a packed string is limited to 65535 bytes")
    return _u16(len(data)) + data


def _pack_map(privileges: dict[int, int]) -> bytes:
    out = [_u16(len(privileges))]
    out.extend(_u16(key) + _u32(privileges[key]) for key in sorted(privileges))
    return b"".join(out)


def _signature(app_certificate: str, issue_ts: int, salt: int, signing_info: bytes) -> bytes:
    k1 = hmac.new(_u32(issue_ts), app_certificate.encode(), hashlib.sha256).digest()
    signing_key = hmac.new(_u32(salt), k1, hashlib.sha256).digest()
    return hmac.new(signing_key, signing_info, hashlib.sha256).digest()


def _check_lifetime(lifetime: int) -> int:
    if isinstance(lifetime, bool) or not isinstance(lifetime, int):
        raise TokenError("invalid_input", "token lifetime must be an integer number of seconds")
    if not 1 <= lifetime <= MAX_LIFETIME:
        raise TokenError(
            "invalid_input",
            f"token lifetime {lifetime} s is out of range; choose 1..{MAX_LIFETIME} seconds "
            "(24 hours at most)",
        )
    return lifetime


def _mint(
    app_id: str,
    app_certificate: str,
    services: list[tuple[int, bytes]],
    lifetime: int,
    issue_ts: int | None,
    salt: int | None,
) -> str:
    validate_app_id(app_id)
    validate_app_certificate(app_certificate)
    _check_lifetime(lifetime)
    ts = int(time.time()) if issue_ts is None else issue_ts
    s = secrets.randbelow(_MAX_SALT) + 1 if salt is None else salt
    if not 0 <= ts <= _U32_MAX or not 0 <= s <= _U32_MAX:
        raise TokenError("invalid_input", "issue_ts and salt must fit in 32 bits")
    services.sort(key=lambda item: item[0])
    signing_info = b"".join(
        [
            _pack_string(app_id.encode()),
            _u32(ts),
            _u32(lifetime),
            _u32(s),
            _u16(len(services)),
            *(packed for _, packed in services),
        ]
    )
    content = _pack_string(_signature(app_certificate, ts, s, signing_info)) + signing_info
    return VERSION + base64.b64encode(zlib.compress(content)).decode()


def _rtc(privileges: dict[int, int], channel: str, account: str) -> tuple[int, bytes]:
    body = _pack_map(privileges) + _pack_string(channel.encode()) + _pack_string(account.encode())
    return SERVICE_RTC, _u16(SERVICE_RTC) + body


def _rtm(privileges: dict[int, int], user_id: str) -> tuple[int, bytes]:
    return SERVICE_RTM, _u16(SERVICE_RTM) + _pack_map(privileges) + _pack_string(user_id.encode())


def mint_convoai_token(
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int | str,
    *,
    lifetime: int = DEFAULT_LIFETIME,
    issue_ts: int | None = None,
    salt: int | None = None,
) -> str:
    """Mint the Conversational AI token: RTC join + publish audio/video/data, and RTM login.

    ``uid`` 0 packs as the empty account (any uid may join); the RTM user id is the RTC account.
    ``issue_ts`` (default now) and ``salt`` (default random 1..99999999) exist for tests.
    """
    _check_lifetime(lifetime)
    account = uid_to_account(uid)
    rtc_privileges = dict.fromkeys(
        (PRIV_JOIN_CHANNEL, PRIV_PUBLISH_AUDIO, PRIV_PUBLISH_VIDEO, PRIV_PUBLISH_DATA), lifetime
    )
    services = [_rtc(rtc_privileges, channel, account), _rtm({PRIV_RTM_LOGIN: lifetime}, account)]
    return _mint(app_id, app_certificate, services, lifetime, issue_ts, salt)


def mint_rtc_token(
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int | str,
    *,
    role: Literal["publisher", "subscriber"] = "publisher",
    lifetime: int = DEFAULT_LIFETIME,
    issue_ts: int | None = None,
    salt: int | None = None,
) -> str:
    """Mint an RTC-only token: a publisher may join and publish, a subscriber only join."""
    if role not in ("publisher", "subscriber"):
        raise TokenError("invalid_input", f"role must be 'publisher' or 'subscriber', not {role!r}")
    _check_lifetime(lifetime)
    keys = [PRIV_JOIN_CHANNEL]
    if role == "publisher":
        keys += [PRIV_PUBLISH_AUDIO, PRIV_PUBLISH_VIDEO, PRIV_PUBLISH_DATA]
    services = [_rtc(dict.fromkeys(keys, lifetime), channel, uid_to_account(uid))]
    return _mint(app_id, app_certificate, services, lifetime, issue_ts, salt)


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class RtcService:
    """The RTC service of a token: privileges (relative seconds), channel and account."""

    privileges: dict[int, int]
    channel: str
    uid: str


@dataclass(frozen=True, slots=True)
class RtmService:
    """The RTM service of a token: privileges and the RTM user id."""

    privileges: dict[int, int]
    user_id: str


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """The decoded fields of an AccessToken2; ``signing_info`` is kept as received."""

    app_id: str
    issue_ts: int
    expire: int
    salt: int
    signature: bytes
    signing_info: bytes
    rtc: RtcService | None
    rtm: RtmService | None

    @property
    def expires_at(self) -> int:
        """Absolute Unix time after which the token is expired."""
        return self.issue_ts + self.expire

    def __repr__(self) -> str:  # the signature is not secret, but it is noise
        return (
            f"ParsedToken(app_id={self.app_id!r}, issue_ts={self.issue_ts}, "
            f"expire={self.expire}, rtc={self.rtc!r}, rtm={self.rtm!r})"
        )


class _Reader:
    """Reads little-endian fields from a buffer, raising TokenError('truncated') at the end."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self._data):
            raise TokenError("truncated", "token is truncated: a field runs past its end")
        chunk = self._data[self.pos : end]
        self.pos = end
        return chunk

    def u16(self) -> int:
        value: int = struct.unpack("<H", self.take(2))[0]
        return value

    def u32(self) -> int:
        value: int = struct.unpack("<I", self.take(4))[0]
        return value

    def string(self) -> bytes:
        return self.take(self.u16())

    def text(self) -> str:
        try:
            return self.string().decode()
        except UnicodeDecodeError as exc:
            raise TokenError("truncated", "token holds a string that is not UTF-8") from exc

    def privileges(self) -> dict[int, int]:
        return {self.u16(): self.u32() for _ in range(self.u16())}

    @property
    def done(self) -> bool:
        return self.pos == len(self._data)


def _inflate(token: str) -> bytes:
    if not isinstance(token, str) or not token.startswith(VERSION):
        raise TokenError("bad_version", 'not an AccessToken2: it must start with "007"')
    try:
        raw = base64.b64decode(token[len(VERSION) :].strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TokenError("bad_base64", "token is not valid base64 after the 007 prefix") from exc
    try:
        return zlib.decompress(raw)
    except zlib.error as exc:
        raise TokenError("bad_zlib", "token payload is not a valid zlib stream") from exc


def parse_token(token: str) -> ParsedToken:
    """Decode an AccessToken2 into its fields without checking the signature."""
    content = _Reader(_inflate(token))
    signature = content.string()
    start = content.pos
    app_id = content.text()
    issue_ts, expire, salt = content.u32(), content.u32(), content.u32()
    rtc: RtcService | None = None
    rtm: RtmService | None = None
    for _ in range(content.u16()):
        service = content.u16()
        privileges = content.privileges()
        if service == SERVICE_RTC:
            rtc = RtcService(privileges, content.text(), content.text())
        elif service == SERVICE_RTM:
            rtm = RtmService(privileges, content.text())
        else:
            raise TokenError("truncated", f"token holds an unknown service type {service}")
    if not content.done:
        raise TokenError("truncated", "token has trailing bytes after its services")
    signing_info = content._data[start:]
    return ParsedToken(app_id, issue_ts, expire, salt, signature, signing_info, rtc, rtm)


def verify_token(
    token: str,
    app_certificate: str,
    *,
    app_id: str | None = None,
    now: float | None = None,
    channel: str | None = None,
    uid: str | None = None,
) -> ParsedToken:
    """Parse ``token`` and check its signature, app id, expiry and, if given, channel and uid.

    Raises TokenError whose ``reason`` names the failed check; returns the parsed token.
    """
    parsed = parse_token(token)
    if app_id is not None and not hmac.compare_digest(parsed.app_id, app_id):
        raise TokenError("wrong_app_id", "token was minted for another App ID")
    expected = _signature(app_certificate, parsed.issue_ts, parsed.salt, parsed.signing_info)
    if not hmac.compare_digest(expected, parsed.signature):
        raise TokenError(
            "bad_signature", "token signature does not match: wrong App Certificate or tampered"
        )
    current = time.time() if now is None else now
    if current > parsed.expires_at:
        raise TokenError("expired", "token has expired; mint a new one")
    if channel is not None and (parsed.rtc is None or parsed.rtc.channel != channel):
        raise TokenError("wrong_channel", "token was minted for another channel")
    if uid is not None and (parsed.rtc is None or parsed.rtc.uid not in (uid, "")):
        raise TokenError("wrong_uid", "token was minted for another uid")
    return parsed


# --------------------------------------------------------------------------- caching


class TokenCache:
    """Reuses ConvoAI tokens per (channel, uid) until ``refresh_margin`` seconds before expiry.

    Thread-safe; bounded to ``max_entries`` (the oldest entry is dropped first).
    """

    def __init__(
        self,
        app_id: str,
        app_certificate: str,
        *,
        lifetime: int = DEFAULT_LIFETIME,
        refresh_margin: int = 300,
        clock: Callable[[], float] = time.time,
        max_entries: int = 1024,
    ) -> None:
        self._app_id = validate_app_id(app_id)
        self._certificate = validate_app_certificate(app_certificate)
        self._lifetime = _check_lifetime(lifetime)
        if not 0 <= refresh_margin < lifetime:
            raise TokenError(
                "invalid_input", "refresh_margin must be at least 0 and shorter than the lifetime"
            )
        self._margin = refresh_margin
        self._clock = clock
        self._max = max_entries
        self._entries: dict[tuple[str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenCache(app_id={self._app_id!r}, entries={len(self._entries)})"

    def convoai_token(self, channel: str, uid: int | str) -> str:
        """A ConvoAI token for (channel, uid), minted only when none is fresh enough."""
        key = (channel, uid_to_account(uid))
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now < hit[0]:
                return hit[1]
            issue_ts = int(now)
            token = mint_convoai_token(
                self._app_id,
                self._certificate,
                channel,
                uid,
                lifetime=self._lifetime,
                issue_ts=issue_ts,
            )
            if len(self._entries) >= self._max and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (issue_ts + self._lifetime - self._margin, token)
            return token
