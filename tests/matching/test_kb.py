"""The shipped knowledge base loads, is our own wording, and bad files fail with a clear KBError."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import DEFAULT_KB_PATH
from matching.kb import KBError, KnowledgeBase, load_kb
from tests.support.kb_data import minimal_kb_data

KB_PATH = DEFAULT_KB_PATH
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def _seed_files() -> list[Path]:
    files = sorted(SEEDS.glob("*.txt"))
    assert len(files) == 2, f"expected the two seed documents in {SEEDS}, found {len(files)}"
    return files


def _words(text: str) -> list[str]:
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.findall(r"[a-z0-9]+", text)


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(KB_PATH)


@pytest.fixture(scope="module")
def seed_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in _seed_files())


# --- the shipped KB ----------------------------------------------------------------------


def test_shipped_kb_loads(kb: KnowledgeBase) -> None:
    assert kb.version == "1"
    assert kb.full_version.startswith("1+")
    assert len(kb.content_hash) == 64
    assert set(kb.sources) == {"seed-2021", "seed-2023"}
    assert len(kb.entities) >= 30


def test_sources_name_the_seed_files(kb: KnowledgeBase) -> None:
    names = {path.name for path in _seed_files()}
    assert {source.file for source in kb.sources.values()} == names


def test_claim_count_in_range(kb: KnowledgeBase) -> None:
    assert 25 <= len(kb.claims) <= 40
    for source in kb.sources:
        assert len(kb.claims_from(source)) >= 10, source
    assert sum(len(kb.claims_from(s)) for s in kb.sources) == len(kb.claims)


def test_claims_have_enough_cue_groups(kb: KnowledgeBase) -> None:
    for claim in kb.claims:
        assert 3 <= len(claim.terms) <= 6, claim.id
        assert all(group.strip() for group in claim.terms), claim.id


def test_every_wording_is_in_our_own_words(kb: KnowledgeBase, seed_text: str) -> None:
    seed_lower = seed_text.lower()
    seed_grams = _ngrams(_words(seed_text), 8)
    for claim in kb.claims:
        for wording in (claim.statement, *claim.variants, *claim.denials):
            assert wording.lower() not in seed_lower, claim.id
            shared = _ngrams(_words(wording), 8) & seed_grams
            assert not shared, (
                f"{claim.id} copies a run of 8+ words from a seed: {' '.join(next(iter(shared)))}"
            )


@pytest.mark.parametrize(
    ("alias", "entity_id"),
    [
        ("ISI", "isi"),
        ("Inter-Services Intelligence", "isi"),
        ("TTP", "ttp"),
        ("Tehreek-e-Taliban Pakistan", "ttp"),
        ("Pakistani Taliban", "ttp"),
        ("IS-K", "isk"),
        ("ISKP", "isk"),
        ("ISIS-K", "isk"),
        ("Islamic State Khorasan", "isk"),
        ("Islamic State Khorasan Province", "isk"),
        ("LeT", "let"),
        ("Lashkar-e-Taiba", "let"),
        ("Lashkar-e-Tayyiba", "let"),
        ("Lashkar-e-Toiba", "let"),
        ("JeM", "jem"),
        ("Jaish-e-Mohammed", "jem"),
        ("Jaish-e-Muhammad", "jem"),
        ("Rawalpindi", "pakistan-army"),
        ("Haqqani Network", "haqqani-network"),
        ("Haqqanis", "haqqani-network"),
        ("FATF", "fatf"),
        ("Financial Action Task Force", "fatf"),
        ("gray list", "fatf-grey-list"),
        ("grey list", "fatf-grey-list"),
        ("CENTCOM", "centcom"),
        ("Jammu and Kashmir", "kashmir"),
        ("26/11", "mumbai-attacks-2008"),
    ],
)
def test_required_aliases(kb: KnowledgeBase, alias: str, entity_id: str) -> None:
    owners = [e.id for e in kb.entities if alias in e.surface_forms]
    assert owners == [entity_id]


def test_rawalpindi_is_not_a_separate_place(kb: KnowledgeBase) -> None:
    assert all(e.name != "Rawalpindi" for e in kb.entities)
    assert kb.entity("pakistan-army").name == "Pakistan Army"


def test_taliban_and_ttp_are_distinct(kb: KnowledgeBase) -> None:
    taliban, ttp = kb.entity("taliban"), kb.entity("ttp")
    assert "Afghan Taliban" in taliban.surface_forms
    assert not set(taliban.surface_forms) & set(ttp.surface_forms)


def test_no_bare_surname_for_imran_khan(kb: KnowledgeBase) -> None:
    # "Khan" fires on ordinary prose: it may only follow the full name, never stand alone.
    khan = kb.entity("imran-khan")
    assert "Khan" not in (khan.name, *khan.aliases, *khan.context_aliases)
    assert "Khan" in khan.short_aliases


def test_weights_reflect_theme_strength(kb: KnowledgeBase) -> None:
    for entity_id in ("pakistan", "afghanistan", "united-states"):
        assert kb.entity(entity_id).weight <= 0.3
    for entity_id in ("taliban", "isi", "ttp", "isk", "let", "jem"):
        assert kb.entity(entity_id).weight == 1.0


def test_claim_entities_and_sources_resolve(kb: KnowledgeBase) -> None:
    ids = {e.id for e in kb.entities}
    for claim in kb.claims:
        assert set(claim.entities) <= ids, claim.id
        assert claim.source in kb.sources, claim.id


# --- invalid files -----------------------------------------------------------------------


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "kb.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_minimal_kb_is_valid(tmp_path: Path) -> None:
    kb = load_kb(_write(tmp_path, minimal_kb_data()))
    assert [c.id for c in kb.claims] == ["c1"]


def test_unknown_entity_in_claim(tmp_path: Path) -> None:
    data = minimal_kb_data()
    data["claims"][0]["entities"] = ["isi", "nobody"]
    with pytest.raises(KBError, match=r"claim c1 names unknown entities: nobody"):
        load_kb(_write(tmp_path, data))


def test_unknown_source_in_claim(tmp_path: Path) -> None:
    data = minimal_kb_data()
    data["claims"][0]["source"] = "elsewhere"
    with pytest.raises(KBError, match=r"unknown source 'elsewhere'"):
        load_kb(_write(tmp_path, data))


def test_duplicate_entity_ids(tmp_path: Path) -> None:
    data = minimal_kb_data()
    data["entities"].append({"id": "isi", "name": "Another", "type": "organisation"})
    with pytest.raises(KBError, match=r"duplicate entity ids: isi"):
        load_kb(_write(tmp_path, data))


def test_duplicate_claim_ids(tmp_path: Path) -> None:
    data = minimal_kb_data()
    data["claims"].append(dict(data["claims"][0]))
    with pytest.raises(KBError, match=r"duplicate claim ids: c1"):
        load_kb(_write(tmp_path, data))


def test_alias_owned_by_two_entities(tmp_path: Path) -> None:
    data = minimal_kb_data()
    data["entities"][1]["aliases"] = ["isi"]  # same alias, other case
    with pytest.raises(KBError, match=r"alias 'isi' belongs to both isi and taliban"):
        load_kb(_write(tmp_path, data))


def test_alias_collision_after_normalisation(tmp_path: Path) -> None:
    data = minimal_kb_data()
    data["entities"][0]["aliases"] = ["IS-K"]
    data["entities"][1]["aliases"] = ["IS K"]
    with pytest.raises(KBError, match=r"belongs to both"):
        load_kb(_write(tmp_path, data))


def test_bad_entity_type_and_id(tmp_path: Path) -> None:
    data = minimal_kb_data()
    data["entities"][0]["type"] = "spy agency"
    data["entities"][1]["id"] = "Bad Id"
    with pytest.raises(KBError, match=r"not a valid knowledge base: entities\.0\.type") as info:
        load_kb(_write(tmp_path, data))
    assert "entities.1.id" in str(info.value)


def test_broken_yaml(tmp_path: Path) -> None:
    path = tmp_path / "kb.yaml"
    path.write_text("version: '1'\nentities: [\n  - id: isi\n", encoding="utf-8")
    with pytest.raises(KBError, match=r"is not valid YAML"):
        load_kb(path)


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "kb.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(KBError, match=r"must hold a mapping"):
        load_kb(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KBError, match=r"cannot read knowledge base .*missing\.yaml"):
        load_kb(tmp_path / "missing.yaml")


def test_changed_content_changes_version(tmp_path: Path) -> None:
    first = load_kb(_write(tmp_path, minimal_kb_data()))
    data = minimal_kb_data()
    data["description"] = "edited"
    second = load_kb(_write(tmp_path, data))
    assert first.version == second.version == "1"
    assert first.full_version != second.full_version


def test_part_of_names_a_known_entity(tmp_path: Path) -> None:
    data = minimal_kb_data()
    data["entities"][0]["part_of"] = "pakistan"
    with pytest.raises(KBError, match=r"entity isi is part_of unknown entity pakistan"):
        load_kb(_write(tmp_path, data))


def test_part_of_cycle_is_refused(tmp_path: Path) -> None:
    data = minimal_kb_data()
    data["entities"][0]["part_of"] = "taliban"
    data["entities"][1]["part_of"] = "isi"
    with pytest.raises(KBError, match=r"part_of cycle: "):
        load_kb(_write(tmp_path, data))


def test_organs_of_a_state_count_for_it(kb: KnowledgeBase) -> None:
    assert kb.broader("isi") == ("isi", "pakistan")
    assert kb.broader("islamabad") == ("islamabad", "pakistan")
    assert kb.broader("pakistan-army") == ("pakistan-army", "pakistan")
    assert kb.broader("pakistan") == ("pakistan",)
    assert kb.broader("ttp") == ("ttp",), "an insurgency fighting the state is not part of it"


def test_a_not_within_phrase_cannot_be_an_alias(tmp_path: Path) -> None:
    data = minimal_kb_data()
    data["entities"][1]["not_within"] = ["ISI"]
    with pytest.raises(KBError, match=r"not_within phrase 'ISI' of taliban is empty or an alias itself"):
        load_kb(_write(tmp_path, data))
