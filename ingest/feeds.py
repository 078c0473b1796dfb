"""Feed lists: plain text (one URL a line) or OPML, read safely and written back."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # only to *write* OPML; reading goes through defusedxml
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException


class FeedListError(Exception):
    """A feed list file cannot be read or parsed."""


@dataclass(frozen=True)
class FeedSource:
    url: str
    title: str | None = None


def read_feed_list(path: Path) -> list[FeedSource]:
    """Read feed URLs from OPML (by content) or a text file: one URL per line, ``#`` comments."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FeedListError(f"cannot read feed list {path}: {exc.strerror}") from exc
    if raw.lstrip().startswith(b"<"):
        return parse_opml(raw, str(path))
    sources: list[FeedSource] = []
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if not line.startswith(("http://", "https://")):
            raise FeedListError(f"{path}:{number}: not an http(s) URL: {line!r}")
        sources.append(FeedSource(line))
    return _unique(sources)


def parse_opml(raw: bytes, name: str = "OPML") -> list[FeedSource]:
    try:
        root = SafeET.fromstring(raw)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise FeedListError(f"{name} is not valid OPML: {exc}") from exc
    sources = [
        FeedSource(url.strip(), outline.get("title") or outline.get("text"))
        for outline in root.iter("outline")
        if (url := outline.get("xmlUrl")) and url.strip().startswith(("http://", "https://"))
    ]
    return _unique(sources)


def to_opml(sources: Iterable[FeedSource], title: str = "mediamon feeds") -> bytes:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for source in sources:
        text = source.title or source.url
        ET.SubElement(body, "outline", type="rss", text=text, title=text, xmlUrl=source.url)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _unique(sources: list[FeedSource]) -> list[FeedSource]:
    seen: dict[str, FeedSource] = {}
    for source in sources:
        seen.setdefault(source.url, source)
    return list(seen.values())
