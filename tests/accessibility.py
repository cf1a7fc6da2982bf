"""Accessibility checks in the browser tests: axe-core (vendored, tests/vendor) run in the page.

Only serious and critical violations fail a test; each is reported with the elements it found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# WCAG 2.1 A and AA: labels, names, landmarks, keyboard use, contrast.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SERIOUS = {"serious", "critical"}


async def serious_violations(page: Page) -> list[str]:
    """What axe-core finds serious or critical on the page as it is now, one line each."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's debugging protocol: the page's own CSP (no inline
        # scripts) stays on and is tested as it is.
        await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    found: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                    resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' +
                                                    (n.failureSummary || '').slice(0, 200))}));
        }""",
        TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -- " + " | ".join(v["nodes"])
        for v in found
        if v["impact"] in SERIOUS
    ]
