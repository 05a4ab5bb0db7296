"""The digest's KPI chart: 達成率 (this fiscal year against the target) per KPI, with 前年同期比.

matplotlib with the object API (no pyplot state, safe in threads) and the IPAex Gothic font that
matplotlib-fontja ships, so Japanese KPI names render on a machine without Japanese fonts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

from storage.kpi_progress import Progress

MAX_BARS = 12


@cache
def _font() -> Any:
    # Imported here, not at module import: loading fonts is work, and nothing runs at import.
    from matplotlib.font_manager import FontProperties
    from matplotlib_fontja import get_font_ttf_path

    return FontProperties(fname=get_font_ttf_path())


def chart_spec(progress: Sequence[Progress], *, title: str) -> dict[str, Any] | None:
    """What the chart shows, as plain JSON (drawn when first needed, see `render_spec`), or
    None when no KPI has a value this fiscal year yet."""
    bars = [[p.kpi.name[:18], p.ratio, p.yoy] for p in progress if p.ratio is not None]
    return {"title": title, "bars": bars[:MAX_BARS]} if bars else None


def render_spec(spec: dict[str, Any]) -> bytes:
    return _render(spec["title"], tuple((name, ratio, yoy) for name, ratio, yoy in spec["bars"]))


# Many digests show the same numbers (everyone on an agreement, week after week until a value
# is entered): the picture is drawn once per distinct content.
@lru_cache(maxsize=64)
def _render(title: str, shown: tuple[tuple[str, float | None, float | None], ...]) -> bytes:
    from matplotlib.figure import Figure

    font = _font()
    height = 1.2 + 0.5 * len(shown)
    fig = Figure(figsize=(7, height), dpi=100)
    # Fixed margins (room for 18-character names), not tight_layout: it draws the figure an
    # extra time to measure it, most of a chart's cost when Monday draws thousands.
    fig.subplots_adjust(left=0.3, right=0.97, top=1 - 0.45 / height, bottom=0.6 / height)
    ax = fig.subplots()
    rows = list(reversed(shown))  # the first KPI on top
    values = [min(ratio or 0, 2.0) * 100 for _name, ratio, _yoy in rows]
    ax.barh(range(len(rows)), values, height=0.5, color="#2f6db5")
    ax.axvline(100, color="#d9534f", linestyle="--", linewidth=1)
    ax.set_yticks(list(range(len(rows))))
    ax.set_yticklabels([name for name, _r, _y in rows], fontproperties=font)
    ax.set_xlabel("目標に対する達成率（%）　赤線：目標", fontproperties=font)
    ax.set_title(title, fontproperties=font)
    for i, (value, (_name, ratio, yoy)) in enumerate(zip(values, rows, strict=True)):
        label = f"{(ratio or 0) * 100:.0f}%" + (f"（前年同期比 {yoy * 100:.0f}%）" if yoy else "")
        ax.text(value + 1, i, label, va="center", fontsize=8, fontproperties=font)
    ax.set_xlim(0, max(130, *values) + 45)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
