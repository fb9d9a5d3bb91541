"""Phone numbers as the service takes them: the one home of the E.164 rule.

This module imports only the standard library, so every layer (configuration, policy, the
client's builders, the server's argument types) can use it.
"""

from __future__ import annotations

import re

__all__ = ["E164", "E164_PATTERN", "is_e164"]

E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
"""E.164: ``+``, a country code that does not start with 0, 7 to 15 digits in all."""
E164 = re.compile(E164_PATTERN)


def is_e164(value: object) -> bool:
    """True if ``value`` is a string in E.164 form (e.g. ``+14155550100``)."""
    return isinstance(value, str) and E164.fullmatch(value) is not None
