"""`mediamon kb build` and `mediamon kb candidates`, run in-process (tests/support/cli.py), SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from schema.db import make_engine, upgrade_database
from schema.models import Article, ArticleState
from tests.support.cli import mediamon

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'x.db'}"


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    """The settings of one test (every other MEDIAMON_ variable is unset for each call)."""
    return {"MEDIAMON_DATABASE_URL": database_url, "COLUMNS": "250"}


def seed_files() -> list[str]:
    files = sorted(str(p) for p in SEEDS_DIR.glob("*.txt"))
    assert len(files) == 2, f"expected the two seed documents in {SEEDS_DIR}"
    return files


def test_kb_build_writes_a_draft_that_kb_check_accepts(env, tmp_path):
    output = tmp_path / "kb.yaml"

    built = mediamon(env, "kb", "build", *seed_files(), "-o", str(output))

    assert built.returncode == 0, built.stderr
    assert "drafting" in built.stderr, "progress goes to stderr"
    assert "country" in built.stdout and "person" in built.stdout, "entities by type"
    for seed in seed_files():
        assert Path(seed).name in built.stdout, "claims per source"
    assert "mediamon kb check" in built.stdout
    checked = mediamon(env, "kb", "check", str(output))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ok:")
    kb = load_kb(output)
    assert {"pakistan", "taliban", "ttp", "isi"} <= {e.id for e in kb.entities}
    assert len(kb.claims) > 20


def test_kb_build_refuses_to_overwrite_without_force(env, tmp_path):
    output = tmp_path / "kb.yaml"
    output.write_text("analysts' work\n", encoding="utf-8")

    refused = mediamon(env, "kb", "build", *seed_files(), "-o", str(output))

    assert refused.returncode == 2
    assert "--force" in refused.stderr
    assert output.read_text(encoding="utf-8") == "analysts' work\n"
    forced = mediamon(env, "kb", "build", *seed_files(), "-o", str(output), "--force")
    assert forced.returncode == 0, forced.stderr
    assert output.read_text(encoding="utf-8").startswith("# mediamon knowledge base")


def test_kb_build_reports_an_unreadable_document(env, tmp_path):
    result = mediamon(env, "kb", "build", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "kb.yaml"))

    assert result.returncode == 2
    assert "cannot read" in result.stderr
    assert not (tmp_path / "kb.yaml").exists()


def test_kb_candidates_lists_unknown_names_next_to_kb_entities(env, database_url, tmp_path):
    upgrade_database(database_url)
    engine = make_engine(database_url)
    texts = {
        "done-1": "Maulana Fazlur Rehman met ISI officials on Monday. Zafar Iqbal stayed at home.",
        "done-2": "On Tuesday, Maulana Fazlur Rehman met ISI officials again, sources said.",
        "done-3": "Zafar Iqbal and Zafar Iqbal's friends went to the market.",
    }
    with Session(engine) as session, session.begin():
        for slug, text in texts.items():
            url = f"https://news.example/{slug}"
            session.add(Article(canonical_url=url, url=url, state=ArticleState.DONE, text=text))
        pending = "https://news.example/pending"
        session.add(
            Article(
                canonical_url=pending,
                url=pending,
                state=ArticleState.PENDING,
                text="Maulana Fazlur Rehman met ISI officials.",
            )
        )
    engine.dispose()

    result = mediamon(env, "kb", "candidates")

    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "Fazlur Rehman" in line]
    assert len(rows) == 1, result.stdout
    cells = [cell.strip() for cell in rows[0].split("│")]
    assert "Maulana Fazlur Rehman" in cells
    assert "person" in cells
    assert "2" in cells, "two done articles; the pending one is not counted"
    assert any(cell.startswith("Inter-Services Intelligence") for cell in cells)
    assert "Zafar Iqbal" not in result.stdout, "never in a sentence with a KB entity"
    stricter = mediamon(env, "kb", "candidates", "--min-count", "3")
    assert stricter.returncode == 0, stricter.stderr
    assert "Fazlur Rehman" not in stricter.stdout

    # --yaml: entries an analyst pastes into a KB file, which then passes `kb check` and matches
    stubs = mediamon(env, "kb", "candidates", "--yaml")
    assert stubs.returncode == 0, stubs.stderr
    entries = yaml.safe_load(stubs.stdout)
    assert [(e["name"], e["type"]) for e in entries] == [("Maulana Fazlur Rehman", "person")]
    assert "Inter-Services Intelligence" in entries[0]["description"]
    extended = yaml.safe_load(DEFAULT_KB_PATH.read_text(encoding="utf-8"))
    extended["entities"] += entries
    kb_file = tmp_path / "kb.yaml"
    kb_file.write_text(yaml.safe_dump(extended, allow_unicode=True), encoding="utf-8")
    assert mediamon(env, "kb", "check", str(kb_file)).returncode == 0
    matched = mediamon({**env, "MEDIAMON_KB_PATH": str(kb_file)}, "match", "-", stdin=texts["done-1"])
    assert entries[0]["id"] in {e["id"] for e in json.loads(matched.stdout)["entities"]}
