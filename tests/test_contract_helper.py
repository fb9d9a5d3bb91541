"""The contract tests' guard: without the official SDK they skip visibly, but fail under CI."""

from __future__ import annotations

import sys

import pytest
from _contract import import_sdk


@pytest.fixture
def no_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "agora_agent" or m.startswith("agora_agent.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "agora_agent", None)  # importing it raises ImportError


@pytest.mark.usefixtures("no_sdk")
def test_missing_sdk_skips_with_the_reason_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"agora-agents==2\.12\.0.*\[contract\]"):
        import_sdk()


@pytest.mark.usefixtures("no_sdk")
def test_missing_sdk_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run under CI"):
        import_sdk()
