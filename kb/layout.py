"""Which lines of a reference document are layout, not prose: headings and metadata lines.

Entity-name candidates (:mod:`kb.name_occurrences`) treat headings with suspicion, since title
case capitalises every word, and skip metadata lines ("Date: ...", "Image Source: ..."); draft
claims (:mod:`kb.drafting`) come from neither.
"""

from __future__ import annotations

import re

from kb.lexicon import STOPWORDS

_METADATA = re.compile(r"^\s*(?:date|published|updated|author|by|source|image source)\b\s*:?", re.IGNORECASE)


def is_metadata(line: str) -> bool:
    """A "Date:", "By", "Source:" or "Image Source:" line: about the document, not part of it."""
    return _METADATA.match(line) is not None


def is_heading(sentence: str) -> bool:
    """A line without closing punctuation whose words are mostly capitalised (or very short)."""
    text = sentence.strip()
    if not text or text[-1] in '.!?…:;"”’)':
        return False
    words = re.findall(r"[A-Za-z][\w’'-]*", text)
    capitals = sum(w[0].isupper() for w in words if w.lower() not in STOPWORDS or w[0].isupper())
    content = [w for w in words if w.lower() not in STOPWORDS or w[0].isupper()]
    return len(words) <= 14 and (len(words) <= 4 or capitals * 3 >= len(content) * 2)
