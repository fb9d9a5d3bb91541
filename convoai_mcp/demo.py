"""``convoai-mcp demo``: a scripted MCP session against the sandbox, printed step by step.

It starts the emulator on a free loopback port, builds the MCP server on it with the demo
credentials, connects an in-memory MCP client and walks through what a model would do: start
an agent, speak, think, read the transcript and turn metrics, list numbers, place a call,
hang up and stop, then run a small campaign (three numbers: one answers and confirms, one does
not answer, one is busy) and print its report. No account, no network beyond loopback, a few
seconds (the emulator's clock is moved: nobody waits for a ring timeout). It prints the URL
of the live console, served on loopback while the demo runs (``--keep-console``: and after
it, until Ctrl-C).
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

__all__ = ["DEMO_CALLEE", "main", "run_demo"]

DEMO_CALLEE = "+14155550123"
"""The number the demo dials (the sandbox's own outbound line calls it; it is allow-listed)."""
DEMO_CAMPAIGN = ("+14155550131", "+14155550132", "+14155550133")
"""The demo campaign's numbers: one answers and confirms, one does not answer, one is busy."""

_WIDTH = 100
_SIGPIPE_STATUS = 141  # 128 + SIGPIPE, what shells report for a writer whose reader left


def _short(value: Any) -> Any:
    """Shorten long tokens so the output stays readable."""
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_short(v) for v in value]
    if isinstance(value, str) and value.startswith("007") and len(value) > 40:
        return f"{value[:16]}…({len(value)} chars)"
    return value


def _number(value: Any) -> Any:
    """A JSON number as people write it: 1.0 -> 1 (the service sends some ids as floats)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.step = 0

    def title(self, text: str) -> None:
        self.step += 1
        print(f"\n[{self.step}] {text}", file=self.out)

    def call(self, name: str, args: dict[str, Any]) -> None:
        shown = json.dumps(args, ensure_ascii=False)
        print(f"  → {name} {shown}", file=self.out)

    def result(self, data: Any, *, error: bool = False) -> None:
        text = json.dumps(_short(data), indent=2, ensure_ascii=False)
        lines = text.splitlines()
        if len(lines) > 24:
            lines = [*lines[:22], f"  … ({len(lines) - 22} more lines)", lines[-1]]
        mark = "  ✗ " if error else "  ← "
        for i, line in enumerate(lines):
            print((mark if i == 0 else "    ") + line, file=self.out)
        self.out.flush()

    def say(self, text: str) -> None:
        print(f"  {text}", file=self.out)


async def run_demo(
    out: TextIO, *, archive_dir: Path, hold: Callable[[str], Awaitable[None]] | None = None
) -> int:
    """Run the scripted session, printing to ``out``; returns 0 when every step succeeded.
    ``hold(console_url)``, when given, is awaited after the last step, the console still
    served."""
    from mcp import Client
    from mcp.shared.exceptions import MCPError

    from convoai_mcp.config import Settings
    from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox
    from convoai_mcp.server.app import build_server
    from convoai_mcp.server.sandbox_mode import sandbox_settings
    from convoai_mcp.server.transports.console import serve_console

    p = _Printer(out)
    failures = 0
    started = time.monotonic()
    sandbox = Sandbox(DEMO_CREDENTIALS, answer_delay=0.3)
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        print(
            f"convoai-mcp demo: sandbox at {base_url} (emulated: nothing real is called)", file=out
        )
        env = {
            "CONVOAI_CALL_ALLOWLIST": ",".join((DEMO_CALLEE, *DEMO_CAMPAIGN)),
            # a scripted session has no human to approve the call: the operator pre-approves
            # the numbers (see README, Safety model: the human gate)
            "CONVOAI_PREAPPROVED_NUMBERS": ",".join((DEMO_CALLEE, *DEMO_CAMPAIGN)),
            "CONVOAI_ARCHIVE_PATH": str(archive_dir / "demo-archive.sqlite3"),
        }
        settings = sandbox_settings(Settings.from_env(env, require_credentials=False), base_url)
        server = build_server(settings, poll_interval=0.1)  # transcripts follow the fast clock
        try:
            async with Client(server) as client, serve_console(server, server.runtime) as url:
                print(f"console at {url} (open it to watch the session live)", file=out)

                async def tool(name: str, args: dict[str, Any]) -> dict[str, Any]:
                    nonlocal failures
                    p.call(name, args)
                    result = await client.call_tool(name, args)
                    if result.is_error:
                        failures += 1
                        text = " ".join(getattr(c, "text", "") for c in result.content)
                        p.result(text, error=True)
                        return {}
                    data: dict[str, Any] = result.structured_content or {}
                    p.result(data)
                    return data

                async def resource(uri: str) -> dict[str, Any]:
                    nonlocal failures
                    print(f"  → read {uri}", file=out)
                    try:
                        contents = (await client.read_resource(uri)).contents
                    except MCPError as exc:
                        failures += 1
                        p.result(exc.error.message, error=True)
                        return {}
                    data: dict[str, Any] = json.loads(getattr(contents[0], "text", "{}"))
                    return data

                tools = await client.list_tools()
                p.title(f"The server offers {len(tools.tools)} tools")
                p.say(", ".join(t.name for t in tools.tools))

                p.title("Start a voice agent with nothing but a channel")
                agent = await tool(
                    "start_agent",
                    {"channel": "demo-room", "wait_until_running": True},
                )
                agent_id = agent.get("agent_id", "")
                p.say("(the user's app joins demo-room as user_uid with user_token)")

                p.title("Make it say something verbatim")
                await tool("speak", {"agent_id": agent_id, "text": "Hello from convoai-mcp!"})

                p.title("Give it something to respond to")
                await tool(
                    "think",
                    {"agent_id": agent_id, "text": "What are your opening hours on Sunday?"},
                )

                p.title("Read the transcript and the turn metrics")
                history = await resource(f"convoai://agents/{agent_id}/history")
                for entry in history.get("contents", []):
                    p.say(f"{entry.get('role', '?'):>9}: {entry.get('content', '')}")
                p.say(f"(source: {history.get('source')})")
                turns = await resource(f"convoai://agents/{agent_id}/turns")
                for turn in turns.get("turns", [])[:5]:
                    latency = (turn.get("metrics") or {}).get("e2e_latency_ms")
                    kind = (turn.get("start") or {}).get("type")
                    turn_id = _number(turn.get("turn_id"))
                    p.say(f"turn {turn_id}: {kind}, end-to-end {_number(latency)} ms")

                p.title("List the project's phone numbers")
                await tool("list_numbers", {})

                p.title("Place a phone call (allow-listed, pre-approved number)")
                placed = await tool(
                    "call",
                    {
                        "to_number": DEMO_CALLEE,
                        "system_prompt": "You confirm Tuesday's 3 pm appointment, briefly.",
                        "greeting": "Hi, this is the clinic calling about your appointment.",
                        "wait_until_answered": True,
                    },
                )
                call_id = placed.get("agent_id", "")

                p.title("Hang up the call, then stop the agent")
                if call_id:
                    await tool("hangup", {"agent_id": call_id})
                await tool("stop_agent", {"agent_id": agent_id})

                p.title("The transcript is still readable after the agent stopped")
                after = await resource(f"convoai://agents/{agent_id}/history")
                p.say(f"{len(after.get('contents', []))} entries (source: {after.get('source')})")

                failures += await _campaign(p, tool, sandbox, server)
                finished = time.monotonic()
                if hold is not None:
                    await hold(url)
        finally:
            await server.runtime.aclose()
    elapsed = finished - started
    verdict = "all steps succeeded" if failures == 0 else f"{failures} step(s) failed"
    print(f"\nDemo finished in {elapsed:.1f} s: {verdict}.", file=out)
    print(
        "Next: add `convoai-mcp --sandbox` to your MCP client (see README), then set "
        "AGORA_APP_ID and credentials to use the real service.",
        file=out,
    )
    return 0 if failures == 0 else 1


async def _campaign(p: _Printer, tool: Any, sandbox: Any, server: Any) -> int:
    """The campaign step: three callees, the campaign run on the emulator's clock, its
    report. Returns the number of failures."""
    import anyio

    from convoai_mcp.sandbox import Callee
    from convoai_mcp.server.campaigns import scheduler_of, service

    confirms, silent, busy = DEMO_CAMPAIGN
    callees = sandbox.state.callees
    callees.set(
        confirms, Callee.answers(2, hang_up_after=12, says=[(3, "Yes, Tuesday at 3 works.")])
    )
    callees.set(silent, Callee("no_answer"))
    callees.set(busy, Callee("busy"))
    scheduler = scheduler_of(server.runtime)
    if scheduler is None:
        return 1
    scheduler.clock, scheduler.tick = sandbox.state.now, 0.05  # follows the emulator's clock

    p.title("Run a small campaign: one answers and confirms, one does not answer, one is busy")
    started = await tool(
        "start_campaign",
        {
            "name": "Tuesday appointments",
            "destinations": [
                {"number": confirms},
                {"number": silent},
                {"number": busy},
            ],
            "system_prompt": "You confirm Tuesday's 3 pm appointment, briefly.",
            "greeting": "Hi, this is the clinic calling about your appointment.",
            "pacing": {"max_concurrent": 3, "calls_per_minute": 30},
        },
    )
    campaign_id = started.get("campaign_id")
    if not campaign_id:
        return 1
    p.say("(the emulator's clock moves on: calls ring, are answered, time out)")
    report: dict[str, Any] = {}
    with anyio.move_on_after(30):
        while report.get("status") not in ("completed", "cancelled", "expired"):
            sandbox.state.advance(2)
            await scheduler.wait_changed(0.1)
            report = (await service.get(server.runtime, campaign_id)).model_dump(mode="json")
    p.title("The campaign's report")
    result = await tool("get_campaign", {"campaign_id": campaign_id})
    for destination in result.get("destinations", []):
        line = f"{destination['number']}: {destination['state']}"
        if destination.get("reason"):
            line += f" ({destination['reason']})"
        p.say(line)
    summary = result.get("summary", {})
    p.say(f"counts: {summary.get('counts')}; needs a human: {summary.get('needs_human')}")
    answered = next((d for d in result.get("destinations", []) if d["state"] == "ended"), None)
    if answered is not None:
        history = await tool("get_history", {"agent_id": answered["agent_id"]})
        for entry in history.get("entries", []):
            p.say(f"{entry.get('role', '?'):>9}: {entry.get('untrusted_text', '')}")
    return 0 if result.get("status") == "completed" else 1


def main(argv: Sequence[str] | None = None) -> int:
    """``convoai-mcp demo``: run the scripted session; exit status 0 on success."""
    import argparse

    import anyio

    parser = argparse.ArgumentParser(
        prog="convoai-mcp demo",
        description="Run a scripted MCP session against the local sandbox (no account, no "
        "network) and print every tool call and result.",
    )
    parser.add_argument(
        "--keep-console",
        action="store_true",
        help="after the last step keep serving the live console until Ctrl-C",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    hold = _until_interrupted if args.keep_console else None
    # Only errors on stderr: the demo's own output is the point (demo credentials only).
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="convoai-demo-") as tmp:
        try:
            status: int = anyio.run(lambda: run_demo(sys.stdout, archive_dir=Path(tmp), hold=hold))
        except* BrokenPipeError:  # `convoai-mcp demo | head`: the reader has seen enough
            status = _quiet_on_closed_stdout()
    return status


async def _until_interrupted(url: str) -> None:
    """Wait for SIGINT / SIGTERM, the console at ``url`` still served."""
    import anyio

    print(f"\nThe console stays at {url} until Ctrl-C.", file=sys.stdout, flush=True)
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            return


def _quiet_on_closed_stdout() -> int:
    """After stdout's reader went away: no traceback, and none at exit when Python flushes
    stdout again; the exit status is what shells report for SIGPIPE (141)."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return _SIGPIPE_STATUS
