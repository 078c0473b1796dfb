"""Trend charts for the web: the report's matplotlib figure as inline SVG or as PNG.

pyplot keeps a process-wide registry of figures, and uvicorn runs plain handlers in a thread
pool, so two requests drawing at once could tangle their figures: drawing is serialised by a
lock (a chart takes tens of milliseconds).
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Sequence

from reports.charts import render, timeline_figure
from reports.trends import Timeline

_DRAWING = threading.Lock()
_SIZE = re.compile(r'\s(?:width|height)="[^"]*"')
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)


def png(timeline: Timeline, series: Sequence[str] | None = None, title: str | None = None) -> bytes:
    with _DRAWING:
        return render(timeline_figure(timeline, series, title), "png")


def inline_svg(timeline: Timeline, series: Sequence[str] | None = None, title: str | None = None) -> str:
    """The chart as an ``<svg>`` element to put in a page as it is (no XML prologue, no
    fixed size: the stylesheet makes it as wide as its box). Text is drawn as paths, so no
    font is fetched."""
    with _DRAWING:
        drawn = render(timeline_figure(timeline, series, title), "svg").decode("utf-8")
    svg = _METADATA.sub("", drawn[drawn.index("<svg") :], count=1)
    head, _, rest = svg.partition(">")
    head = _SIZE.sub("", head)
    label = html.escape(title or "trend chart", quote=True)
    return f'{head} role="img" aria-label="{label}">{rest}'
