"""Canonical URLs and content fingerprints: the two keys that make every write idempotent.

* ``canonical_url`` — courlan's normaliser (lower-cased scheme and host, default ports
  dropped, tracking parameters such as ``utm_*``/``fbclid`` removed, remaining query
  parameters sorted) plus what it leaves alone: the fragment and ``.``/``..`` path segments.
* ``content_fingerprint`` — SHA-256 of the text with case, punctuation and white space
  folded, so the same story syndicated under two URLs is recognised as one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urljoin, urlsplit, urlunsplit

import courlan

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def canonical_url(url: str) -> str:
    """The key an article is stored under. Falls back to the stripped URL if courlan rejects it."""
    url = url.strip()
    try:
        normalised = courlan.normalize_url(url)
    except (ValueError, AttributeError):
        normalised = url
    parts = urlsplit(normalised)
    path = urlsplit(urljoin(f"{parts.scheme}://{parts.netloc}/", parts.path or "/")).path
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def content_fingerprint(text: str) -> str:
    """Hash of the text's words only: survives re-wrapping, punctuation and case changes."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = _NON_WORD.sub(" ", folded).split()
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()
