"""YAML output in the layout of the shipped kb.yaml (kb/yaml_writer.py)."""

from __future__ import annotations

from kb.yaml_writer import yaml_dump
from matching.kb import load_kb


def test_draft_validates_and_round_trips_through_yaml(draft, tmp_path):
    path = tmp_path / "draft.yaml"
    path.write_text(yaml_dump(draft), encoding="utf-8")

    loaded = load_kb(path)

    assert loaded.model_dump(exclude={"content_hash"}) == draft.model_dump(exclude={"content_hash"})
    assert yaml_dump(loaded) == yaml_dump(draft)
    text = path.read_text(encoding="utf-8")
    assert text.index("\nsources:") < text.index("\nentities:") < text.index("\nclaims:")
