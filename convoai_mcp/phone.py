"""Phone numbers: the one home of the E.164 rule, and of what libphonenumber knows about a number.

Two layers:

* the **shape** (:data:`E164_PATTERN`, :data:`E164`, :func:`is_e164`): standard library only,
  cheap, for argument schemas and quick checks;
* the **number** (:func:`parse_phone` → :class:`PhoneNumber`): parsed, normalised and validated
  with libphonenumber (the ``phonenumbers`` package, imported on first use so that importing this
  module stays cheap). A number must be *valid for its region*, not merely shaped right:
  ``+1 415 555 012`` is too short, ``+1 555 000 1111`` has no such area code.

Input may have spaces, dashes, dots and brackets (``+1 (415) 555-0123``), or be written in a
national format when a default region is given (``(415) 555-0123`` with ``default_region="US"``,
``020 7183 8750`` with ``"GB"``). Without a default region and without a leading ``+``, the error
suggests the international form when one reading is valid ("did you mean +14155550123?"); the
suggestion is never applied silently.

**Fictional numbers.** The North American range ``NXX-555-0100`` to ``NXX-555-0199`` is reserved
for fiction: such numbers reach no one. The sandbox uses them (``+1 415 555 0100`` is its outbound
line, ``+1 415 555 01xx`` its callees). :func:`parse_phone` accepts them only with
``sandbox=True`` (whatever libphonenumber thinks of the area code) and refuses them otherwise, so a
live deployment never dials a number that cannot answer.

The **number type** (fixed line, mobile, premium rate, shared cost ...) and the **time zones**
come with the parsed number; the calling rules (:mod:`convoai_mcp.calling_rules`) decide what to
refuse. :func:`country_name` gives the English name of a region for display (it loads a large
table on first use: call it where a human looks, not on every dial).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from convoai_mcp.errors import ValidationError

if TYPE_CHECKING:
    import phonenumbers

__all__ = [
    "E164",
    "E164_PATTERN",
    "NUMBER_TYPES",
    "NumberType",
    "PhoneNumber",
    "PhoneNumberError",
    "country_name",
    "is_e164",
    "is_fictional",
    "parse_phone",
]

E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
"""E.164: ``+``, a country code that does not start with 0, 7 to 15 digits in all."""
E164 = re.compile(E164_PATTERN)

_FICTIONAL = re.compile(r"^\+1[2-9][0-9]{2}55501[0-9]{2}$")
"""North American numbers reserved for fiction: ``+1 NXX 555 0100`` … ``+1 NXX 555 0199``."""

NumberType = Literal[
    "fixed_line",
    "mobile",
    "fixed_line_or_mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "unknown",
]
"""libphonenumber's number types, as lower-case names (``PhoneNumberType`` without the enum)."""

NUMBER_TYPES: tuple[NumberType, ...] = (
    "fixed_line",
    "mobile",
    "fixed_line_or_mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "unknown",
)
"""Every :data:`NumberType`, in libphonenumber's order."""

_SEPARATORS = re.compile(r"[\s\-.()/\u00a0\u2010-\u2015]")
_CHARACTERS = re.compile(r"^[+(\d][\d +\-.()/\u00a0\u2010-\u2015A-Za-z]*$")
"""What a written number may hold: digits, separators, vanity letters; it starts with +, ( or a
digit (no schemes such as ``tel:``, no second number after ``;`` or a newline)."""
_EXTENSION = re.compile(r"(?:ext\.?|extension|x|#)\s*\d+\s*$", re.IGNORECASE)


def is_e164(value: object) -> bool:
    """True if ``value`` is a string in E.164 form (e.g. ``+14155550100``)."""
    return isinstance(value, str) and E164.fullmatch(value) is not None


def is_fictional(e164: str) -> bool:
    """True for the North American fiction range ``+1 NXX 555 0100`` … ``0199`` (E.164 input)."""
    return _FICTIONAL.fullmatch(e164) is not None


class PhoneNumberError(ValidationError):
    """A phone number that cannot be dialled: unparseable, not valid for its region, fictional
    outside the sandbox, or carrying an extension. ``suggestion`` is an E.164 reading of the
    input that is valid, when there is one."""

    def __init__(self, message: str, *, hint: str = "", suggestion: str | None = None) -> None:
        self.suggestion = suggestion
        super().__init__(message, hint=hint)


@dataclass(frozen=True)
class PhoneNumber:
    """A parsed, valid number (or a fictional one in sandbox mode)."""

    e164: str
    """The normalised form the service takes and allow-lists compare: ``+14155550123``."""
    region: str | None
    """ISO 3166-1 region (``US``, ``GB``), or None for non-geographic numbers (``+800``…)."""
    country_code: int
    """The calling code (``1``, ``44``)."""
    type: NumberType
    """What libphonenumber says the number is (``premium_rate``, ``mobile`` ...)."""
    time_zones: tuple[str, ...]
    """IANA zones the number may ring in; several when the number does not pin a place (a US
    toll-free number spans every North American zone). Never empty for a valid number whose
    zone is known; empty when libphonenumber does not know any."""
    fictional: bool = False
    """In the fiction range (only ever accepted in sandbox mode)."""
    international: str = ""
    """Formatted for people: ``+1 415-555-0123``."""

    def __str__(self) -> str:
        return self.e164


def _type_name(code: int) -> NumberType:
    """libphonenumber's ``PhoneNumberType`` value as a :data:`NumberType`."""
    import phonenumbers

    name = phonenumbers.PhoneNumberType.to_string(code).lower()
    return next((t for t in NUMBER_TYPES if t == name), "unknown")


def _try_parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    import phonenumbers as lib

    try:
        return lib.parse(text, region)
    except lib.NumberParseException:
        return None


def _valid_reading(text: str, region: str | None) -> str | None:
    """The E.164 form of ``text`` read with ``region``, if that reading is a valid number."""
    import phonenumbers as lib

    parsed = _try_parse(text, region)
    if parsed is None:
        return None
    e164 = lib.format_number(parsed, lib.PhoneNumberFormat.E164)
    if lib.is_valid_number(parsed) or is_fictional(e164):
        return e164
    return None


def _suggest(text: str) -> str | None:
    """A valid international reading of a number typed without ``+``, if there is one."""
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    candidates = ["+" + digits[len(idd) :] for idd in ("011", "00") if digits.startswith(idd)]
    candidates.append("+" + digits)
    if len(digits) == 10 and digits[0] in "23456789":
        candidates.append("+1" + digits)
    for candidate in candidates:
        reading = _valid_reading(candidate, None)
        if reading is not None:
            return reading
    return None


def _describe_shape_problem(parsed: phonenumbers.PhoneNumber, shown: str) -> str:
    import phonenumbers as lib

    reason = lib.is_possible_number_with_reason(parsed)
    v = lib.ValidationResult
    code = parsed.country_code or 0
    region = lib.region_code_for_country_code(code)
    where = f"+{code} ({region})" if region not in ("ZZ", "001") else f"+{code}"
    if reason == v.INVALID_COUNTRY_CODE:
        return f"{shown} has no valid country code"
    if reason == v.TOO_SHORT:
        return f"{shown} is too short for {where}"
    if reason == v.TOO_LONG:
        return f"{shown} is too long for {where}"
    if reason in (v.INVALID_LENGTH, v.IS_POSSIBLE_LOCAL_ONLY):
        return f"{shown} does not have a valid length for {where}"
    return f"{shown} is shaped like a {where} number but is not a valid one (no such range)"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def parse_phone(
    text: str, *, default_region: str | None = None, sandbox: bool = False
) -> PhoneNumber:
    """Parse, normalise and validate ``text``; raise :class:`PhoneNumberError` if it cannot be
    dialled.

    ``default_region`` (ISO 3166-1, e.g. ``"US"``) lets national formats through; without it a
    number must start with ``+``. ``sandbox=True`` also accepts the fiction range (and only then).
    """
    if not isinstance(text, str) or not text.strip():
        raise PhoneNumberError(
            "the phone number is empty",
            hint="give it in international form, e.g. +14155550123",
        )
    raw = text.strip()
    shown = repr(raw) if len(raw) <= 40 else repr(raw[:40] + "…")
    if _EXTENSION.search(raw):
        raise PhoneNumberError(
            f"{shown} has an extension; calls go to a line, not an extension",
            hint="give the number without the extension; the agent can ask for it on the call",
        )
    if not _CHARACTERS.fullmatch(raw):
        raise PhoneNumberError(
            f"{shown} is not written like one phone number",
            hint="give one number, digits with an optional + and spaces or dashes, "
            "e.g. +1 415 555 0123",
        )
    import phonenumbers as lib

    region = default_region.upper() if default_region else None
    if region is not None and region not in lib.SUPPORTED_REGIONS:
        raise PhoneNumberError(
            f"default region {default_region!r} is not a known region",
            hint="use an ISO 3166-1 code such as US, GB or DE",
        )
    compact = _SEPARATORS.sub("", raw)
    if not compact.startswith("+") and region is None:
        suggestion = _suggest(raw)
        hint = "write it in international form, with + and the country code"
        if suggestion is not None:
            hint = f"did you mean {suggestion}? {hint}"
        raise PhoneNumberError(
            f"{shown} has no country code (no leading +)", hint=hint, suggestion=suggestion
        )
    try:
        parsed = lib.parse(raw, region)
    except lib.NumberParseException as exc:
        raise PhoneNumberError(
            f"{shown} is not a phone number ({_lower_first(exc._msg.rstrip('.'))})",
            hint="give it in international form, e.g. +14155550123",
        ) from None
    e164 = lib.format_number(parsed, lib.PhoneNumberFormat.E164)
    fictional = is_fictional(e164)
    if fictional and not sandbox:
        raise PhoneNumberError(
            f"{e164} is in the 555-0100…0199 range reserved for fiction: it reaches no one",
            hint="use the real number; fictional numbers are for the sandbox only",
        )
    if not fictional and not lib.is_valid_number(parsed):
        raise PhoneNumberError(
            _describe_shape_problem(parsed, shown),
            hint="check the digits (a missing or extra digit is the usual cause)",
        )
    region_code = lib.region_code_for_number(parsed)
    type_name = _type_name(lib.number_type(parsed))
    from phonenumbers import timezone

    zones = tuple(z for z in timezone.time_zones_for_number(parsed) if z != "Etc/Unknown")
    return PhoneNumber(
        e164=e164,
        region=region_code if region_code not in (None, "ZZ", "001") else None,
        country_code=int(parsed.country_code or 0),
        type=type_name,
        time_zones=zones,
        fictional=fictional,
        international=lib.format_number(parsed, lib.PhoneNumberFormat.INTERNATIONAL),
    )


@functools.cache
def country_name(region: str | None) -> str:
    """The English name of an ISO 3166-1 region (``"US"`` → ``"United States"``); the code itself
    when the name is not known, ``"non-geographic"`` for None. Loads a large table on first use."""
    if region is None:
        return "non-geographic"
    from phonenumbers.geodata.locale import LOCALE_DATA

    names = LOCALE_DATA.get(region.upper())
    if not names:
        return region
    name = names.get("en", "")
    while name.startswith("*"):  # an alias: "*aa" means "the same as the 'aa' entry"
        name = names.get(name[1:], "")
    return name or region
