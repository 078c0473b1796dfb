"""The knowledge base's mirror in the store: matches reference entity and claim rows."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from matching.kb import KnowledgeBase
from schema import writes


def sync_kb(sessions: sessionmaker[Session], kb: KnowledgeBase) -> None:
    """Mirror the knowledge base into the entity and claim tables (an upsert, safe to repeat)."""
    with sessions.begin() as session:
        writes.sync_kb(session, kb)
