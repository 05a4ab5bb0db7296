"""A KPI's time series as SVG geometry, computed here so the template only draws it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH, HEIGHT = 320, 120
LEFT, RIGHT, TOP, BOTTOM = 40, 18, 10, 20


@dataclass(frozen=True)
class Chart:
    points: str  # "x,y x,y …" for a polyline
    dots: tuple[tuple[float, float, str], ...]  # x, y, title (period: value)
    target_y: float | None
    y_labels: tuple[tuple[float, str], ...]
    x_labels: tuple[tuple[float, str], ...]
    width: int = WIDTH
    height: int = HEIGHT


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.3g}"


def line_chart(
    series: Sequence[tuple[date, Decimal]], target: Decimal | None, unit: str
) -> Chart | None:
    """Values over periods, with the target as a line when it falls in a readable range."""
    if not series:
        return None
    values = [float(v) for _, v in series]
    lo, hi = min([*values, 0.0]), max(values)
    t = float(target) if target is not None else None
    if t is not None and t <= hi * 3:  # a far-off yearly target would flatten the line
        hi = max(hi, t)
    hi = hi if hi > lo else lo + 1
    span_x = WIDTH - LEFT - RIGHT
    span_y = HEIGHT - TOP - BOTTOM
    n = len(series)

    def x(i: int) -> float:
        return round(LEFT + (span_x * i / (n - 1) if n > 1 else span_x / 2), 1)

    def y(v: float) -> float:
        return round(TOP + span_y * (1 - (v - lo) / (hi - lo)), 1)

    dots = tuple(
        (x(i), y(v), f"{d.year}/{d.month}: {_fmt(v)}{unit}")
        for i, ((d, _), v) in enumerate(zip(series, values, strict=True))
    )
    step = max(1, n // 4)
    x_labels = tuple(
        (x(i), f"{series[i][0].year % 100}/{series[i][0].month}") for i in range(0, n, step)
    )
    return Chart(
        points=" ".join(f"{px},{py}" for px, py, _ in dots),
        dots=dots,
        target_y=y(t) if t is not None and lo <= t <= hi else None,
        y_labels=((y(lo), _fmt(lo)), (y(hi), _fmt(hi))),
        x_labels=x_labels,
    )
