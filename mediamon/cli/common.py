"""What every command shares: reading Settings, clear errors, opening the store.

Errors a user can fix end in one red line and exit code 2, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console

from config.settings import Settings
from matching.calibration import CalibrationError
from matching.kb import KBError, KnowledgeBase, load_kb
from matching.matcher import Matcher
from matching.relevance import RelevanceModel, RelevanceModelError, load_relevance_model
from services.export import resolve_entity
from services.wiring import Store, build_matcher, open_store

console = Console()
errors = Console(stderr=True)


def refresh_consoles() -> None:
    """Have both consoles look again at the standard streams and the environment.

    rich settles a Console's width (COLUMNS), colour system and interactivity when it is made,
    from the streams of that moment, and these two are made at import. A `mediamon` process
    runs one command, so for users that is the command's own moment and this changes nothing;
    but when the app runs several times in one process (Typer's CliRunner in the tests), each
    command must see its own streams and environment, as a fresh process would. The app calls
    this before every command.
    """
    for shared in (console, errors):
        Console.__init__(shared, stderr=shared.stderr)


def fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"MEDIAMON_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise fail(f"bad configuration: {problems}") from exc


def load_knowledge_base(settings: Settings, path: Path | None = None) -> KnowledgeBase:
    try:
        return load_kb(path or settings.kb_path)
    except KBError as exc:
        raise fail(str(exc)) from exc


def knowledge_filters(
    kb: KnowledgeBase, entities: Sequence[str] | None, claims: Sequence[str] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``--entity`` names (id, name or alias) and ``--claim`` ids checked against the knowledge
    base: ``(entity_ids, claim_ids)``, or one clear error naming the first unknown one."""
    entity_ids = []
    for name in entities or ():
        entity_id = resolve_entity(kb, name)
        if entity_id is None:
            raise fail(f"no entity called {name!r} in the knowledge base")
        entity_ids.append(entity_id)
    known_claims = {c.id for c in kb.claims}
    unknown = [c for c in claims or () if c not in known_claims]
    if unknown:
        raise fail(f"no claim {unknown[0]!r} in the knowledge base (mediamon kb show lists them)")
    return tuple(entity_ids), tuple(claims or ())


def configured_matcher(settings: Settings, kb: KnowledgeBase) -> Matcher:
    try:
        return build_matcher(settings, kb)
    except (CalibrationError, RelevanceModelError) as exc:
        raise fail(str(exc)) from exc


def configured_relevance(settings: Settings) -> RelevanceModel | None:
    try:
        return load_relevance_model(settings.relevance_model_path)
    except RelevanceModelError as exc:
        raise fail(str(exc)) from exc


@contextmanager
def opened_store(settings: Settings) -> Iterator[Store]:
    from sqlalchemy.exc import OperationalError  # imported late: only this path needs it

    try:
        opened = open_store(settings)
    except OperationalError as exc:
        raise fail(f"cannot open the database {settings.masked()['database_url']}: {exc.orig}") from exc
    try:
        yield opened
    finally:
        opened.close()


def parse_since(value: str | None, option: str = "--since") -> datetime | None:
    """An ISO 8601 date or moment from the command line (UTC when it names no zone)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise fail(
            f"{option} wants an ISO date like 2026-11-01 or 2026-11-01T07:00+00:00, got {value!r}"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""
