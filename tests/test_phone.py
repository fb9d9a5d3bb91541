"""Phone numbers: the E.164 shape, and parsing / validation with libphonenumber."""

from __future__ import annotations

import pytest

from convoai_mcp.errors import ValidationError
from convoai_mcp.phone import (
    E164,
    E164_PATTERN,
    NUMBER_TYPES,
    PhoneNumberError,
    country_name,
    is_e164,
    is_fictional,
    parse_phone,
)


def test_the_shape_helpers_still_work() -> None:
    assert E164_PATTERN.startswith("^")
    assert E164.fullmatch("+14155550100")
    assert is_e164("+14155550100")
    assert not is_e164("14155550100")
    assert not is_e164(14155550100)


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+14152345678", None, "+14152345678"),
        ("+1 415 234 5678", None, "+14152345678"),
        ("+1 (415) 234-5678", None, "+14152345678"),
        ("+1.415.234.5678", None, "+14152345678"),
        ("  +44 20 7183 8750 ", None, "+442071838750"),
        ("(415) 234-5678", "US", "+14152345678"),
        ("415-234-5678", "us", "+14152345678"),
        ("020 7183 8750", "GB", "+442071838750"),
        ("+44 (0)20 7183 8750", None, "+442071838750"),
        ("030 123456", "DE", "+4930123456"),
        ("+1 800 FLOWERS", None, "+18003569377"),
    ],
)
def test_spaces_dashes_and_national_formats_normalise_to_e164(
    text: str, region: str | None, expected: str
) -> None:
    number = parse_phone(text, default_region=region)
    assert number.e164 == expected
    assert str(number) == expected
    assert is_e164(number.e164)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("4152345678", "+14152345678"),
        ("14152345678", "+14152345678"),
        ("00442071838750", "+442071838750"),
        ("011 44 20 7183 8750", "+442071838750"),
    ],
)
def test_a_number_without_a_country_code_gets_a_suggestion_not_a_guess(
    text: str, suggestion: str
) -> None:
    with pytest.raises(PhoneNumberError) as info:
        parse_phone(text)
    assert info.value.suggestion == suggestion
    assert f"did you mean {suggestion}?" in str(info.value)
    assert "no country code" in info.value.message


def test_no_suggestion_when_no_reading_is_valid() -> None:
    with pytest.raises(PhoneNumberError) as info:
        parse_phone("12")
    assert info.value.suggestion is None
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("+1 415 234 567", "too short for +1 (US)"),
        ("+1 415 234 567890", "too long for +1 (US)"),
        ("+15550001111", "not a valid one"),  # area code 555 does not exist
        ("+1 099 234 5678", "not a valid one"),  # area codes never start with 0
        ("+552112345678", "not a valid one"),  # no such range in Rio de Janeiro
        ("+999123456789", "not a phone number"),  # no country +999
    ],
)
def test_well_shaped_but_invalid_numbers_are_refused(text: str, says: str) -> None:
    """E.164-shaped is not enough: the number must be valid for its region."""
    assert is_e164(text.replace(" ", ""))
    with pytest.raises(PhoneNumberError) as info:
        parse_phone(text)
    assert says in info.value.message
    assert info.value.hint


def test_refusals_are_validation_errors_with_a_next_step() -> None:
    with pytest.raises(ValidationError) as info:
        parse_phone("")
    assert "empty" in info.value.message
    assert "+14155550123" in info.value.hint


def test_an_extension_is_refused() -> None:
    with pytest.raises(PhoneNumberError, match="extension"):
        parse_phone("+1 415 234 5678 ext. 12")


@pytest.mark.parametrize(
    "text",
    [
        "call +14152345678 now",
        "+14152345678; +19002345678",
        "+1 415 234 5678\n+19002345678",
        "tel:+14152345678",
        "+14152345678,+19002345678",
        "<+14152345678>",
    ],
)
def test_text_around_a_number_is_refused_not_searched(text: str) -> None:
    """libphonenumber would find a number inside text; a destination must be only a number."""
    with pytest.raises(PhoneNumberError, match="not written like one phone number"):
        parse_phone(text)


def test_full_width_digits_are_digits() -> None:
    assert parse_phone("+１４１５２３４５６７８").e164 == "+14152345678"


def test_an_unknown_default_region_is_refused() -> None:
    with pytest.raises(PhoneNumberError, match="not a known region"):
        parse_phone("415 234 5678", default_region="XX")


@pytest.mark.parametrize("text", ["+14155550100", "+14155550123", "+1 212 555 0199"])
def test_fictional_numbers_only_in_sandbox_mode(text: str) -> None:
    with pytest.raises(PhoneNumberError) as info:
        parse_phone(text)
    assert "reserved for fiction" in info.value.message
    assert "sandbox" in info.value.hint
    number = parse_phone(text, sandbox=True)
    assert number.fictional
    assert is_fictional(number.e164)


def test_the_sandbox_accepts_fiction_even_where_the_area_code_is_unassigned() -> None:
    number = parse_phone("+19995550100", sandbox=True)
    assert number.fictional and number.e164 == "+19995550100"
    # … but not an invalid number that is not in the fiction range
    with pytest.raises(PhoneNumberError, match="not a valid one"):
        parse_phone("+15550001111", sandbox=True)


@pytest.mark.parametrize(
    ("e164", "fictional"),
    [
        ("+14155550100", True),
        ("+14155550199", True),
        ("+14155550200", False),
        ("+14155550099", False),
        ("+11235550100", False),  # NXX: area codes start with 2-9
        ("+441415550100", False),
    ],
)
def test_the_fiction_range(e164: str, fictional: bool) -> None:
    assert is_fictional(e164) is fictional


@pytest.mark.parametrize(
    ("text", "number_type"),
    [
        ("+19002345678", "premium_rate"),
        ("+449012345678", "premium_rate"),
        ("+33884012345", "shared_cost"),
        ("+447012345678", "personal_number"),
        ("+18002345678", "toll_free"),
        ("+447911123456", "mobile"),
        ("+442071838750", "fixed_line"),
        ("+14152345678", "fixed_line_or_mobile"),
    ],
)
def test_number_types(text: str, number_type: str) -> None:
    number = parse_phone(text)
    assert number.type == number_type
    assert number.type in NUMBER_TYPES


def test_an_area_code_pins_one_zone() -> None:
    assert parse_phone("+14152345678").time_zones == ("America/Los_Angeles",)
    assert parse_phone("+12122345678").time_zones == ("America/New_York",)
    assert parse_phone("+14155550100", sandbox=True).time_zones == ("America/Los_Angeles",)


def test_numbers_without_a_place_span_every_zone_of_their_country() -> None:
    """libphonenumber gives a +1 toll-free or premium number every North American zone."""
    zones = parse_phone("+18002345678").time_zones
    assert {"America/New_York", "America/Los_Angeles", "Pacific/Honolulu"} <= set(zones)
    assert len(zones) > 10
    assert len(parse_phone("+79161234567").time_zones) > 5


def test_region_and_country_name() -> None:
    number = parse_phone("+442071838750")
    assert number.region == "GB"
    assert number.country_code == 44
    assert number.international == "+44 20 7183 8750"
    assert country_name("GB") == "United Kingdom"
    assert country_name("US") == "United States"
    assert country_name(None) == "non-geographic"
    assert country_name("ZZ") == "ZZ"
