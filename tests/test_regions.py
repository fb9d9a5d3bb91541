"""Area endpoints, DNS-based suffix order (with an injected resolver), last-good-first."""

from __future__ import annotations

import asyncio

import pytest

from convoai_mcp.errors import ConfigError
from convoai_mcp.regions import GLOBAL_BASE_URL, Area, Router, area_endpoints, parse_area


def test_parse_area_accepts_any_case_and_rejects_unknown() -> None:
    assert parse_area("eu") is Area.EU
    assert parse_area(Area.CN) is Area.CN
    with pytest.raises(ConfigError, match="AGORA_AREA"):
        parse_area("MARS")


def test_area_endpoints_follow_the_spec() -> None:
    assert area_endpoints("US") == [
        "https://api-us-west-1.agora.io/api/conversational-ai-agent",
        "https://api-us-east-1.agora.io/api/conversational-ai-agent",
        "https://api-us-west-1.sd-rtn.com/api/conversational-ai-agent",
        "https://api-us-east-1.sd-rtn.com/api/conversational-ai-agent",
    ]
    cn = area_endpoints(Area.CN)
    assert cn[0] == "https://api-cn-east-1.sd-rtn.com/cn/api/conversational-ai-agent"
    assert cn[-1] == "https://api-cn-north-1.agora.io/cn/api/conversational-ai-agent"
    assert area_endpoints(Area.GLOBAL) == [GLOBAL_BASE_URL]


async def test_resolving_suffix_comes_first_and_is_cached() -> None:
    asked: list[str] = []

    async def resolver(host: str) -> bool:
        asked.append(host)
        return host.endswith("sd-rtn.com")

    router = Router(Area.EU, resolver=resolver)
    first = await router.candidates()
    assert first[0] == "https://api-eu-west-1.sd-rtn.com/api/conversational-ai-agent"
    assert first[1] == "https://api-eu-central-1.sd-rtn.com/api/conversational-ai-agent"
    assert len(first) == 4
    assert sorted(asked) == ["api-eu-west-1.agora.io", "api-eu-west-1.sd-rtn.com"]
    await router.candidates()
    assert len(asked) == 2  # cached


async def test_cache_expires_after_ttl() -> None:
    now = [0.0]
    calls = [0]

    async def resolver(host: str) -> bool:
        calls[0] += 1
        return True

    router = Router(Area.US, resolver=resolver, dns_ttl=30.0, clock=lambda: now[0])
    await router.candidates()
    now[0] = 31.0
    await router.candidates()
    assert calls[0] == 4


async def test_slow_resolver_counts_as_not_resolving() -> None:
    async def resolver(host: str) -> bool:
        if host.endswith("agora.io"):
            await asyncio.Event().wait()  # never answers; the timeout must cut it
        return True

    router = Router(Area.AP, resolver=resolver, dns_timeout=0.01)
    order = await router.candidates()
    assert order[0].startswith("https://api-ap-southeast-1.sd-rtn.com")


async def test_resolver_error_counts_as_not_resolving() -> None:
    async def resolver(host: str) -> bool:
        raise OSError("no network")

    order = await Router(Area.US, resolver=resolver).candidates()
    assert order == area_endpoints(Area.US)


async def test_fixed_endpoints_bypass_dns_and_last_ok_goes_first() -> None:
    async def resolver(host: str) -> bool:
        raise AssertionError("DNS must not be used")

    router = Router(Area.US, endpoints=["http://a/", "http://b"], resolver=resolver)
    assert await router.candidates() == ["http://a", "http://b"]
    router.mark_ok("http://b")
    assert await router.candidates() == ["http://b", "http://a"]
    assert router.last_ok == "http://b"


async def test_base_url_overrides_routing() -> None:
    router = Router(Area.CN, base_url="http://127.0.0.1:9/api/conversational-ai-agent/")
    assert await router.candidates() == ["http://127.0.0.1:9/api/conversational-ai-agent"]


@pytest.mark.parametrize(
    "url", ["http://user:pw-do-not-leak@127.0.0.1:9/api", "ftp://me:pw-do-not-leak@host/x"]
)
def test_credentials_in_a_base_url_are_refused_without_echoing_them(url: str) -> None:
    """Error messages and logs name the endpoint they failed on: it must carry no password."""
    with pytest.raises(ConfigError, match="credentials") as info:
        Router(base_url=url)
    assert "pw-do-not-leak" not in str(info.value)
    with pytest.raises(ConfigError, match="credentials") as info:
        Router(endpoints=["http://ok", url])
    assert "pw-do-not-leak" not in str(info.value)


def test_bad_urls_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="CONVOAI_BASE_URL"):
        Router(base_url="ftp://x")
    with pytest.raises(ConfigError):
        Router(endpoints=[])


def test_area_is_the_one_home_of_the_area_list() -> None:
    """``Area`` takes what users type (any case, outer whitespace), as a pydantic field too;
    ``AREA_NAMES`` lists the names in order."""
    import pydantic

    from convoai_mcp.regions import AREA_NAMES

    assert AREA_NAMES == ("GLOBAL", "US", "EU", "AP", "CN")
    assert Area(" us ") is Area.US
    with pytest.raises(ValueError):
        Area("MARS")

    class Holder(pydantic.BaseModel):
        area: Area = Area.GLOBAL

    assert Holder.model_validate({"area": "eu"}).area is Area.EU
