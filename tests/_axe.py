"""axe-core (vendored under tests/vendor/axe-core, MPL-2.0) injected into a page or frame under
Playwright: the accessibility rules the console pages must pass."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Frame, Page

AXE_VERSION = "4.10.3"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"
AXE_PATH = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
"""The rule sets run: WCAG 2.0-2.2 A and AA (labels, names, roles, ARIA, contrast ...) and
Deque's best practices (landmarks, headings, regions)."""

_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"]});
  return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary)}));
}"""


def axe_source() -> str:
    """The vendored bundle, after checking it is the pinned one."""
    data = AXE_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, f"{AXE_PATH} is not axe {AXE_VERSION}"
    return data.decode()


def axe_violations(target: Page | Frame) -> list[dict[str, Any]]:
    """Inject axe into ``target`` (once) and run it: its violations (rule id, impact, help and
    the failing nodes)."""
    if not target.evaluate("() => typeof axe !== 'undefined'"):
        target.evaluate(axe_source())
    version = target.evaluate("() => axe.version")
    assert version == AXE_VERSION, version
    violations: list[dict[str, Any]] = target.evaluate(_RUN, TAGS)
    return violations
