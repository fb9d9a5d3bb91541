"""A local emulator of the Agora Conversational AI REST API (v2) for tests and trying things out.

It speaks the dialect in ``shared/spec``: the same paths, bodies, answers, status codes and
error bodies, checks Basic credentials and AccessToken2 tokens for real, emulates agents,
their conversation (deterministically, from a seed), calls and phone numbers, and injects
faults on demand. No audio, no real ASR / LLM / TTS. Independent of the project's client.

    sb = Sandbox()
    async with sb.serve() as base_url:       # http://127.0.0.1:PORT/api/conversational-ai-agent
        ...
"""

from __future__ import annotations

from .app import ADMIN_PREFIX, PATH_PREFIX, Sandbox
from .callees import Callee, Callees, Line
from .credentials import DEMO_CREDENTIALS, SandboxCredentials
from .faults import OPERATIONS, Fault, FaultKind, FaultSet
from .state import AGENT_STATES, SandboxState

__all__ = [
    "ADMIN_PREFIX",
    "AGENT_STATES",
    "DEMO_CREDENTIALS",
    "OPERATIONS",
    "PATH_PREFIX",
    "Callee",
    "Callees",
    "Fault",
    "FaultKind",
    "FaultSet",
    "Line",
    "Sandbox",
    "SandboxCredentials",
    "SandboxState",
]
