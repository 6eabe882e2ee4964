"""Chart geometry for server-drawn SVG. Templates draw; this only computes coordinates.

No charting library: two chart shapes (lines over days, horizontal bars) are a hundred lines,
render without JavaScript, print, scale with the page, follow the light/dark palette through
CSS classes, and carry a text summary for screen readers next to a table of the same numbers.
"""

import math
from datetime import date

from django.utils.formats import date_format

WIDTH = 720
HEIGHT = 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 14, 12, 28
MARKERS_UP_TO = 62  # days; beyond that, points would be a smear


def nice_max(value: float) -> int:
    """The smallest 1, 2 or 5 x 10^k at or above value (at least 4, so ticks are whole)."""
    if value <= 4:
        return 4
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exp >= value:
            return int(step * exp)
    return int(10 * exp)


def _short(day: date) -> str:
    return date_format(day, "j M")


def line_chart(*, days: list[date], series: list[tuple[str, str, list[int]]]) -> dict:
    """series: (name, css class, values per day)."""
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    top = nice_max(max((max(v, default=0) for _n, _c, v in series), default=0))
    n = len(days)

    def x(i):
        return PAD_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v):
        return PAD_TOP + plot_h - plot_h * v / top

    ticks = [{"y": round(y(top * k / 4), 1), "label": f"{top * k // 4:,}"} for k in range(5)]
    step = max(1, math.ceil(n / 7))
    x_labels = [{"x": round(x(i), 1), "label": _short(days[i])} for i in range(0, n, step)]
    lines = []
    for name, css, values in series:
        points = [(round(x(i), 1), round(y(v), 1)) for i, v in enumerate(values)]
        lines.append(
            {
                "name": name,
                "css": css,
                "points": " ".join(f"{px},{py}" for px, py in points),
                "markers": [
                    {"x": px, "y": py, "title": f"{_short(days[i])}: {values[i]:,} {name}"}
                    for i, (px, py) in enumerate(points)
                ]
                if n <= MARKERS_UP_TO
                else [],
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": PAD_LEFT,
        "right": WIDTH - PAD_RIGHT,
        "bottom": PAD_TOP + plot_h,
        "ticks": ticks,
        "x_labels": x_labels,
        "lines": lines,
        "points": n,
    }


def bar_chart(items: list[tuple[str, int]], *, width: int = 480, row: int = 26) -> dict:
    """Horizontal bars: (label, value) in the order given."""
    label_w = 130
    value_w = 56
    plot_w = width - label_w - value_w
    top = max((v for _l, v in items), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(items):
        bars.append(
            {
                "label": label,
                "value": value,
                "y": i * row,
                "rect_y": i * row + 4,
                "text_y": i * row + row * 0.62,
                "width": round(plot_w * max(value, 0) / top, 1),
                "value_x": round(label_w + plot_w * max(value, 0) / top + 6, 1),
            }
        )
    return {
        "width": width,
        "height": max(row, row * len(items)),
        "label_w": label_w,
        "bar_x": label_w,
        "bar_h": row - 8,
        "bars": bars,
        "plot_w": plot_w,
    }
