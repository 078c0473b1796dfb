"""YAML output in the layout of the shipped ``kb.yaml``: the drafted knowledge base, and candidate
entities to paste into one.

:func:`yaml_dump` writes what ``mediamon kb build`` drafts (:func:`kb.drafting.draft_kb`), so that
:func:`matching.kb.load_kb` reads it back; :func:`candidates_yaml` writes what ``mediamon kb
candidates --yaml`` finds (:func:`kb.unknown_names.unknown_candidates`). Key order is kept and
short lists are written inline, so analysts can review and edit the output by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from kb.ids import slugify, unique_id
from kb.unknown_names import NewName
from matching.kb import KnowledgeBase


class _Flow(list[str]):
    """A short list written inline: ``aliases: [ISI, Inter-Services Intelligence]``."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # "  - id: ..." under "entities:", as in kb.yaml


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def _listed(items: Sequence[str], inline_up_to: int = 90) -> list[str]:
    return _Flow(items) if sum(len(i) + 2 for i in items) <= inline_up_to else list(items)


def candidates_yaml(found: Sequence[NewName], kb: KnowledgeBase) -> str:
    """``found`` as entity entries to paste under ``entities:`` in a knowledge-base file, each
    with a description saying where it was seen. Ids that would clash with ``kb`` get a suffix."""
    names = {e.id: e.name for e in kb.entities}
    taken = set(names)
    entries = []
    for new in found:
        entity_id = unique_id(slugify(new.name), taken)
        companions = ", ".join(names.get(eid, eid) for eid, _ in new.cooccurring[:3])
        entries.append(
            {
                "id": entity_id,
                "name": new.name,
                "type": new.type,
                "description": f"candidate: in {new.articles} article(s), next to {companions}",
                "aliases": _Flow([]),
                "weight": 0.5,
            }
        )
    return _dump(entries)


def _dump(data: object) -> str:
    """YAML in the layout of the shipped ``kb.yaml`` (key order kept, short lists inline)."""
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096
    )
    return text


def yaml_dump(kb: KnowledgeBase) -> str:
    """The knowledge base in the layout of the shipped ``kb.yaml``; :func:`matching.kb.load_kb` reads it."""

    entities = []
    for e in kb.entities:
        item: dict[str, object] = {"id": e.id, "name": e.name, "type": e.type}
        if e.description:
            item["description"] = e.description
        if e.aliases:
            item["aliases"] = _listed(e.aliases)
        item["weight"] = e.weight
        entities.append(item)
    claims = []
    for c in kb.claims:
        claim: dict[str, object] = {
            "id": c.id,
            "statement": c.statement,
            "entities": _listed(c.entities, inline_up_to=1000),
            "terms": list(c.terms),
            "source": c.source,
        }
        if c.stance != "asserts":
            claim["stance"] = c.stance
        claims.append(claim)
    sources = {key: s.model_dump(exclude_none=True) for key, s in kb.sources.items()}
    header = (
        "# mediamon knowledge base — a DRAFT written by `mediamon kb build`.\n"
        "# Review it: merge or drop entities, fix types and weights, reword or drop claims, then\n"
        "# run `mediamon kb check` on it. `terms` are cue groups (alternatives separated by |,\n"
        "# matched as word prefixes).\n"
    )
    return "\n".join(
        [
            header + _dump({"version": kb.version, "description": kb.description}),
            _dump({"sources": sources}),
            _dump({"entities": entities}),
            _dump({"claims": claims}),
        ]
    )
