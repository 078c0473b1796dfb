"""`mediamon rematch`: match the stored articles again with today's matcher."""

from __future__ import annotations

from typing import Annotated

import typer

from mediamon.cli.common import configured_matcher, console, load_knowledge_base, load_settings, opened_store
from schema import queries
from services.rematch import RematchReport, rematch


def rematch_stored(
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="every stored article, not only those matched under another matcher version "
            "(knowledge base, calibration, relevance model, settings): after a matching-code change",
        ),
    ] = False,
) -> None:
    """Match stored articles again after the knowledge base, its frames or the calibration changed,
    so trend reports, search and the dashboard show what today's matcher finds. No alert or
    digest is sent again for them (their stored time is kept)."""
    settings = load_settings()
    kb = load_knowledge_base(settings)
    matcher = configured_matcher(settings, kb)

    def show(report: RematchReport) -> None:
        console.print(f"… {report.articles} articles matched again", highlight=False)

    with opened_store(settings) as store:
        with store.sessions() as session:
            newest = queries.newest_kb_version(session)
        if newest not in (None, matcher.version):
            # an old checkout, or a rollback: say so, since a worker still on the newer one undoes it
            console.print(
                f"note: workers have run a newer matcher version ({newest}); this matches the store "
                f"under {matcher.version}, and any worker still on {newest} will match it back",
                highlight=False,
            )
        report = rematch(store.sessions, matcher, everything=everything, progress=show)
    if not report.articles:
        console.print(f"nothing to do: every stored article is matched under {matcher.version}")
        return
    console.print(
        f"matched {report.articles} stored articles again under {matcher.version}: "
        f"{report.claims_before} claim matches before, {report.claims_after} now",
        highlight=False,
    )
    if report.failed:
        console.print(
            f"{len(report.failed)} of them could not be matched again and keep their stored matches "
            f"(ids {', '.join(map(str, report.failed[:20]))}{' …' if len(report.failed) > 20 else ''}; "
            "the log says why)",
            highlight=False,
        )
