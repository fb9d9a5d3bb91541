"""Calls and phone numbers end to end against the emulator."""

from __future__ import annotations

import pytest
from _client_helpers import cascading_spec, rig

from convoai_mcp.errors import ConflictError, NotFoundError, ValidationError
from convoai_mcp.models import (
    AddPhoneNumberRequest,
    InboundConfig,
    OutboundConfig,
    PipelineRef,
    UpdatePhoneNumberRequest,
)


async def test_dial_get_list_hangup() -> None:
    async with rig("app") as r:
        placed = await r.client.calls.dial(
            cascading_spec(name="call-agent", channel="call-1"),
            to_number="+14155550123",
            from_number="+14155550100",
        )
        assert placed.agent_id
        info = await r.client.calls.get(placed.agent_id)
        assert (info.agent_id, info.channel, info.to_number) == (
            placed.agent_id,
            "call-1",
            "+14155550123",
        )
        assert info.type == "outbound"
        listed = [c.agent_id async for c in r.client.calls.list(number="+14155550123")]
        assert listed == [placed.agent_id]
        page = await r.client.calls.list_page(type="inbound")
        assert page.items == []
        await r.client.calls.hangup(placed.agent_id)
        # the body is {}, as the official SDKs send it
        assert (r.seen[-1].path.rsplit("/", 1)[-1], r.seen[-1].body) == ("hangup", b"{}")
        after = await r.client.calls.get(placed.agent_id)
        assert (after.state, after.reason) == ("hangup", "request")
        # the app-credentials token for the call's requests is bound to its channel
        assert r.client._scope(placed.agent_id) == ("call-1", "1001")


async def test_call_list_pages() -> None:
    async with rig() as r:
        placed = set()
        for i in range(3):
            call = await r.client.calls.dial(
                cascading_spec(name=f"c{i}", channel=f"call-{i}"),
                to_number=f"+1415555012{i}",
                from_number="+14155550100",
            )
            placed.add(call.agent_id)
        listed = {c.agent_id async for c in r.client.calls.list(limit=1)}
        assert listed == placed


async def test_hangup_unknown_call_is_not_found() -> None:
    async with rig() as r:
        with pytest.raises(NotFoundError):
            await r.client.calls.hangup("no-such-call")


async def test_call_numbers_are_checked_before_sending() -> None:
    async with rig() as r:
        with pytest.raises(ValidationError, match=r"E\.164"):
            await r.client.calls.dial(
                cascading_spec(), to_number="4155550123", from_number="+14155550100"
            )
        assert r.seen == []


async def test_phone_numbers_add_get_update_list_delete() -> None:
    async with rig() as r:
        numbers = r.client.phone_numbers
        added = await numbers.add(
            AddPhoneNumberRequest(
                provider="byo",
                phone_number="+14155550111",
                label="front desk",
                inbound=True,
                outbound=True,
                inbound_config=InboundConfig(allowed_addresses=["10.0.0.1"]),
                outbound_config=OutboundConfig(address="sip.example.com", transport="tls"),
            )
        )
        assert added.phone_number == "+14155550111"
        assert (await numbers.get("+14155550111")).label == "front desk"
        # "+" travels as %2B: the emulator treats a literal "+" as a space
        assert r.seen[-1].raw_path.endswith(b"/phone-numbers/%2B14155550111")
        assert "/projects/" not in r.seen[-1].path

        updated = await numbers.update(
            "+14155550111",
            UpdatePhoneNumberRequest(inbound_config=PipelineRef(pipeline_id="pipe-1")),
        )
        assert updated.phone_number == "+14155550111"
        patch = r.seen[-1]
        assert patch.method == "PATCH"
        assert patch.body == b'{"inbound_config":{"pipeline_id":"pipe-1"}}'

        await numbers.update(
            "+14155550111", UpdatePhoneNumberRequest(inbound_config=PipelineRef(pipeline_id=None))
        )
        assert r.seen[-1].body == b'{"inbound_config":{"pipeline_id":null}}'

        listed = [n.phone_number for n in await numbers.list()]
        assert listed.count("+14155550111") == 1
        await numbers.delete("+14155550111")
        assert "+14155550111" not in [n.phone_number for n in await numbers.list()]
        with pytest.raises(NotFoundError):
            await numbers.delete("+14155550111")


async def test_adding_a_number_twice_conflicts() -> None:
    async with rig() as r:
        request = AddPhoneNumberRequest(provider="byo", phone_number="+14155550112", label="a")
        await r.client.phone_numbers.add(request)
        with pytest.raises(ConflictError) as info:
            await r.client.phone_numbers.add(request)
        assert info.value.status == 409


async def test_phone_number_path_must_be_e164() -> None:
    async with rig() as r:
        with pytest.raises(ValidationError):
            await r.client.phone_numbers.get("14155550111")
        with pytest.raises(ValidationError):
            await r.client.phone_numbers.get("..")
        assert r.seen == []
