"""Areas, their endpoints, DNS-based domain selection and failover order (no HTTP here).

An area has region prefixes and domain suffixes (spec section 1). The :class:`Router` hands the
client an ordered list of base URLs to try for one request:

1. the endpoint that answered last (remembered with :meth:`Router.mark_ok`), then
2. for each domain suffix that resolves (async DNS with a timeout, cached ``dns_ttl`` seconds),
   every region prefix in order, then
3. the suffixes that did not resolve, as a last resort.

``base_url=`` or ``endpoints=[...]`` bypass DNS entirely (that is how tests and the emulator are
reached); ``resolver=`` replaces the DNS lookup.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from convoai_mcp.errors import ConfigError

__all__ = [
    "AREAS",
    "AREA_NAMES",
    "GLOBAL_BASE_URL",
    "Area",
    "AreaConfig",
    "Resolver",
    "Router",
    "area_endpoints",
    "dns_resolves",
    "parse_area",
]

Resolver = Callable[[str], Awaitable[bool]]
"""``await resolver(host)`` is True when ``host`` resolves."""

GLOBAL_BASE_URL = "https://api.agora.io/api/conversational-ai-agent"


class Area(StrEnum):
    """Where the REST API is served from. GLOBAL lets Agora route by geography.

    The one home of the area list. ``Area("us")`` and ``Area(" EU ")`` work too (any case, outer
    whitespace ignored), so a pydantic field typed ``Area`` accepts what users type;
    :data:`AREA_NAMES` lists the names for messages and help texts.
    """

    GLOBAL = "GLOBAL"
    US = "US"
    EU = "EU"
    AP = "AP"
    CN = "CN"

    @classmethod
    def _missing_(cls, value: object) -> Area | None:
        if isinstance(value, str):
            normalized = value.strip().upper()
            if normalized in cls.__members__:
                return cls[normalized]
        return None


AREA_NAMES: tuple[str, ...] = tuple(area.value for area in Area)
"""``("GLOBAL", "US", "EU", "AP", "CN")``: the area names, in order."""


@dataclass(frozen=True)
class AreaConfig:
    """Region prefixes, domain suffixes (both in preference order) and the path prefix."""

    region_prefixes: tuple[str, ...]
    domain_suffixes: tuple[str, ...]
    path_prefix: str

    def url(self, prefix: str, suffix: str) -> str:
        """The base URL for one (region prefix, domain suffix) pair."""
        return f"https://{prefix}.{suffix}{self.path_prefix}"


_PATH = "/api/conversational-ai-agent"
AREAS: dict[Area, AreaConfig] = {
    Area.US: AreaConfig(("api-us-west-1", "api-us-east-1"), ("agora.io", "sd-rtn.com"), _PATH),
    Area.EU: AreaConfig(("api-eu-west-1", "api-eu-central-1"), ("agora.io", "sd-rtn.com"), _PATH),
    Area.AP: AreaConfig(
        ("api-ap-southeast-1", "api-ap-northeast-1"), ("agora.io", "sd-rtn.com"), _PATH
    ),
    Area.CN: AreaConfig(
        ("api-cn-east-1", "api-cn-north-1"), ("sd-rtn.com", "agora.io"), "/cn" + _PATH
    ),
}


def parse_area(value: Area | str) -> Area:
    """``"us"`` / ``"US"`` / ``Area.US`` -> ``Area.US``; anything else is a :class:`ConfigError`."""
    if isinstance(value, Area):
        return value
    try:
        return Area(value)
    except ValueError:
        names = ", ".join(AREA_NAMES)
        raise ConfigError(
            f"AGORA_AREA={value!r} is not an area", hint=f"use one of {names}"
        ) from None


def area_endpoints(area: Area | str, suffix_order: Sequence[str] | None = None) -> list[str]:
    """Every base URL of ``area``: suffixes in ``suffix_order`` (default: the spec's), prefixes
    in order within each suffix. GLOBAL has the single global host."""
    area = parse_area(area)
    if area is Area.GLOBAL:
        return [GLOBAL_BASE_URL]
    config = AREAS[area]
    suffixes = list(suffix_order) if suffix_order is not None else list(config.domain_suffixes)
    return [config.url(prefix, suffix) for suffix in suffixes for prefix in config.region_prefixes]


async def dns_resolves(host: str) -> bool:
    """True when ``host`` has an address (the default resolver; no timeout of its own)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos)


def _normalise(url: str) -> str:
    url = url.strip().rstrip("/")
    if "@" in urlsplit(url).netloc:  # user:password@host; the message must not echo it
        raise ConfigError(
            "CONVOAI_BASE_URL carries credentials (user:password@host)",
            hint="remove them from the URL; set AGORA_CUSTOMER_ID / AGORA_CUSTOMER_SECRET "
            "or AGORA_APP_CERTIFICATE instead",
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"CONVOAI_BASE_URL={url!r} is not an http(s) URL",
            hint="use e.g. http://127.0.0.1:8000/api/conversational-ai-agent",
        )
    return url


class Router:
    """Ordered candidate base URLs for a request, remembering the last one that answered."""

    def __init__(
        self,
        area: Area | str = Area.GLOBAL,
        *,
        base_url: str | None = None,
        endpoints: Sequence[str] | None = None,
        resolver: Resolver | None = None,
        dns_timeout: float = 1.0,
        dns_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.area = parse_area(area)
        fixed: list[str] | None = None
        if base_url is not None:
            fixed = [_normalise(base_url)]
        elif endpoints is not None:
            fixed = [_normalise(u) for u in endpoints]
            if not fixed:
                raise ConfigError("endpoints is empty", hint="give at least one base URL")
        self._fixed = fixed
        self._resolver: Resolver = resolver or dns_resolves
        self._dns_timeout = dns_timeout
        self._dns_ttl = dns_ttl
        self._clock = clock
        self._suffix_cache: tuple[float, list[str]] | None = None
        self._last_ok: str | None = None

    @property
    def last_ok(self) -> str | None:
        """The base URL that answered last, if any."""
        return self._last_ok

    def mark_ok(self, url: str) -> None:
        """Remember ``url`` as the endpoint to try first next time."""
        self._last_ok = url

    async def candidates(self) -> list[str]:
        """Base URLs to try, best first (last good endpoint, then resolving domains)."""
        if self._fixed is not None:
            ordered = list(self._fixed)
        elif self.area is Area.GLOBAL:
            ordered = [GLOBAL_BASE_URL]
        else:
            ordered = area_endpoints(self.area, await self._suffix_order())
        if self._last_ok in ordered:
            ordered.remove(self._last_ok)
            ordered.insert(0, self._last_ok)
        return ordered

    async def _suffix_order(self) -> list[str]:
        now = self._clock()
        if self._suffix_cache is not None and now - self._suffix_cache[0] < self._dns_ttl:
            return self._suffix_cache[1]
        config = AREAS[self.area]
        hosts = [f"{config.region_prefixes[0]}.{suffix}" for suffix in config.domain_suffixes]
        results = await asyncio.gather(*(self._resolve(h) for h in hosts))
        good = [s for s, ok in zip(config.domain_suffixes, results, strict=True) if ok]
        bad = [s for s, ok in zip(config.domain_suffixes, results, strict=True) if not ok]
        order = good + bad
        self._suffix_cache = (now, order)
        return order

    async def _resolve(self, host: str) -> bool:
        try:
            async with asyncio.timeout(self._dns_timeout):
                return await self._resolver(host)
        except (TimeoutError, OSError):
            return False

    def __repr__(self) -> str:
        return f"Router(area={self.area.value!r}, last_ok={self._last_ok!r})"
