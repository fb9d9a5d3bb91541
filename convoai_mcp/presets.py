"""The service's hosted vendor presets, by stage: the one home of their names.

A preset stands in for a whole stage (no URL, key or model needed). The names come from
``../shared/spec/convoai-rest-api.md`` (section 3). This module imports nothing, so the server
can build its tool schemas from it without loading the client.
"""

from __future__ import annotations

__all__ = ["ALL_PRESETS", "ASR_PRESETS", "LLM_PRESETS", "PRESET_NAMES", "TTS_PRESETS"]

ASR_PRESETS: frozenset[str] = frozenset({"deepgram_nova_2", "deepgram_nova_3"})
LLM_PRESETS: frozenset[str] = frozenset(
    {"openai_gpt_4o_mini", "openai_gpt_4_1_mini", "openai_gpt_5_nano", "openai_gpt_5_mini"}
)
TTS_PRESETS: frozenset[str] = frozenset(
    {"minimax_speech_2_6_turbo", "minimax_speech_2_8_turbo", "openai_tts_1"}
)
ALL_PRESETS: frozenset[str] = ASR_PRESETS | LLM_PRESETS | TTS_PRESETS

PRESET_NAMES: tuple[str, ...] = (
    "deepgram_nova_2",
    "deepgram_nova_3",
    "openai_gpt_4o_mini",
    "openai_gpt_4_1_mini",
    "openai_gpt_5_nano",
    "openai_gpt_5_mini",
    "minimax_speech_2_6_turbo",
    "minimax_speech_2_8_turbo",
    "openai_tts_1",
)
"""Every preset in a stable order (ASR, LLM, TTS), e.g. for a tool's enum."""

assert frozenset(PRESET_NAMES) == ALL_PRESETS
