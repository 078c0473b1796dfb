"""Charts of a timeline, drawn with matplotlib (the project's one charting library).

The same picture serves ``mediamon report trends --format png`` and the dashboard (as SVG,
inline, so the page fetches nothing). The Agg backend draws without a screen.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display here, and no GUI toolkit in a worker

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from reports.trends import Series, Timeline

#: Series drawn by default: the attention measures, not the raw total (it dwarfs the rest).
DEFAULT_SERIES = ("on_theme", "claims:asserts", "claims:reports", "claims:denies")


def timeline_figure(
    timeline: Timeline, series: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """One line per series; shares (percent) with ``normalize``, counts otherwise."""
    wanted = [s for s in timeline.series if s.name in series] if series else _default(timeline)
    figure, axes = plt.subplots(figsize=(9, 3.6), dpi=100, layout="constrained")
    # Wall-clock labels in the report's zone, as matplotlib's date numbers.
    x = mdates.date2num([b.replace(tzinfo=None) for b in timeline.buckets])  # type: ignore[no-untyped-call]
    for s in wanted:
        y = [100 * r for r in s.ratios] if timeline.normalized and s.ratios is not None else s.counts
        axes.plot(x, y, label=s.name, linewidth=1.6, marker="o" if len(x) <= 40 else None, markersize=3)
    axes.set_ylabel("% of stored articles" if timeline.normalized else "articles")
    axes.set_title(title or f"mediamon trends by {timeline.by} ({timeline.tz})", fontsize=11)
    axes.grid(True, alpha=0.3)
    axes.set_ylim(bottom=0)
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    if wanted:
        axes.legend(loc="best", fontsize=8, framealpha=0.8)
    return figure


def _default(timeline: Timeline) -> list[Series]:
    chosen = [s for s in timeline.series if s.name in DEFAULT_SERIES or s.name.startswith("entity:")]
    return chosen or list(timeline.series)


def render(figure: Figure, fmt: str = "png") -> bytes:
    """The figure as PNG or SVG bytes (and the figure closed: pyplot keeps figures otherwise)."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format=fmt, metadata={"Software": None} if fmt == "png" else {"Date": None})
    finally:
        plt.close(figure)
    return buffer.getvalue()
