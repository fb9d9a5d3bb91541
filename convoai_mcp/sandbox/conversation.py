"""A believable, deterministic stand-in for ASR, LLM and TTS: speech durations, latencies and
canned replies drawn from a seeded ``random.Random``. No audio, no model."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["SEGMENT_NAMES", "Latencies", "reply_to", "speech_seconds", "stage_latencies"]

SEGMENT_NAMES = {"asr": "asr_ttlw", "llm": "llm_ttft", "tts": "tts_ttfb"}
"""Each stage's latency segment name: ASR time to last word, LLM time to first token, TTS time
to first byte (the service's names for a text-modality LLM)."""

_REPLIES = (
    "Sure. You said: {text}. How else can I help?",
    "Got it, {text}. Let me know if you need anything else.",
    "Thanks! About {text}: I'm a sandbox agent, so this answer is canned.",
    "Understood: {text}. Anything else?",
)


def speech_seconds(text: str, rng: random.Random) -> float:
    """How long a text takes to say: about 60 ms a character, at least 0.4 s, a little jitter."""
    base = max(0.4, 0.06 * len(text))
    return round(base * rng.uniform(0.9, 1.1), 3)


def reply_to(text: str, rng: random.Random) -> str:
    """A canned assistant reply that quotes (a shortened) user text."""
    short = text.strip().rstrip(".!?")
    if len(short) > 80:
        short = short[:77] + "..."
    return rng.choice(_REPLIES).format(text=short)


@dataclass(frozen=True)
class Latencies:
    """Per-stage latencies of one turn, in milliseconds."""

    asr: int
    llm: int
    tts: int

    def segments(self, stages: tuple[str, ...]) -> list[dict[str, object]]:
        """``segmented_latency_ms`` items for the stages a turn used, named as the service
        documents them (``asr_ttlw``, ``llm_ttft``, ``tts_ttfb``)."""
        return [{"name": SEGMENT_NAMES[stage], "latency": getattr(self, stage)} for stage in stages]

    def total(self, stages: tuple[str, ...]) -> int:
        """End-to-end latency over ``stages``."""
        return sum(int(getattr(self, stage)) for stage in stages)


def stage_latencies(rng: random.Random) -> Latencies:
    """Plausible ASR / LLM time-to-first-token / TTS time-to-first-byte latencies."""
    return Latencies(asr=rng.randint(120, 420), llm=rng.randint(250, 900), tts=rng.randint(80, 260))
