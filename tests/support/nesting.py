"""Pages nested deeper than a parser allows, built at test time from real corpus pages."""

from __future__ import annotations

import re

_BODY_OPEN = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
_BODY_CLOSE = re.compile(rb"</body\s*>", re.IGNORECASE)


def nest_body(page: bytes, depth: int, *, before: bytes = b"") -> bytes:
    """``page`` with everything inside ``<body>`` wrapped in ``depth`` nested ``<div>``s.

    ``before`` goes in front of the wrapper, at the body's own level (text a parser keeps even
    when it gives up on the deep part).
    """
    opened = _BODY_OPEN.search(page)
    closes = list(_BODY_CLOSE.finditer(page))
    if opened is None or not closes:
        raise ValueError("the page has no <body>...</body> to nest")
    start, end = opened.end(), closes[-1].start()
    return b"".join((page[:start], before, b"<div>" * depth, page[start:end], b"</div>" * depth, page[end:]))
