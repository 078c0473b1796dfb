"""`mediamon match` and `mediamon eval`: matching text, and how well matching does."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from config.settings import Settings
from ingest.clean import clean_text
from matching.calibration import load_calibration, save_calibration
from matching.claims import ClaimExplanation
from matching.evaluation import DEFAULT_DEV_SET, ClaimReport, CrossValidation, Item
from matching.matcher import Matcher, is_article
from matching.news_corpus import DEFAULT_NEWS_CORPUS
from matching.relevance import RelevanceModel, save_relevance_model
from mediamon.cli.common import (
    configured_matcher,
    configured_relevance,
    console,
    fail,
    load_knowledge_base,
    load_settings,
)
from services import export as exporting
from services.wiring import build_semantic


def match(
    source: Annotated[str, typer.Argument(help="a text file, or - for standard input")] = "-",
    jsonl: Annotated[
        Path | None, typer.Option("--jsonl", help='match every {"text": ...} line of this file')
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="why each claim matched, or nearly did: sentence, score against the threshold, features",
        ),
    ] = False,
) -> None:
    """Print the entity and claim matches of plain text as JSON; stores nothing.

    With --jsonl, one result per input line (the model is loaded once). With --explain, a
    readable account of the claims instead: each match and the closest misses, with the
    sentence, the score against the threshold, the features that decided it and why a near
    miss missed (with --jsonl: an "explanations" list on each line)."""
    settings = load_settings()
    kb = load_knowledge_base(settings)
    matcher = configured_matcher(settings, kb)
    if jsonl is not None:
        _match_jsonl(matcher, jsonl, explain=explain)
        return
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {source}: {exc}") from exc
    if explain:
        _print_explanations(matcher, text)
        return
    result = matcher.match(text)
    sys.stdout.write(json.dumps(exporting.match_json(kb, result), ensure_ascii=False, indent=2) + "\n")


def explanation_json(e: ClaimExplanation) -> dict[str, object]:
    return {
        "claim_id": e.claim_id,
        "matched": e.matched,
        "method": e.method,
        "sentence": e.sentence.text,
        "score": e.score,
        "threshold": e.threshold,
        "cosine": e.cosine,
        "margin": e.margin,
        "entity_share": round(e.entity_share, 4),
        "term_share": round(e.term_share, 4),
        "denial": e.denial,
        "encoded": e.encoded,
        "frame": e.frame,
        "floor": e.floor,
        "why": e.why,
    }


def _print_explanations(matcher: Matcher, text: str) -> None:
    explained = matcher.explain(text)
    if not explained:
        console.print("no claim has a candidate sentence here (no sentence names a claim's entities)")
        return
    for e in explained:
        verdict = "[green]MATCH[/]" if e.matched else "[yellow]near miss[/]"
        console.print(f"{verdict} [bold]{e.claim_id}[/] ({e.method})")
        console.print(f"  sentence: {e.sentence.text}", markup=False, highlight=False)
        features = [f"entities {e.entity_share:.2f}", f"cue terms {e.term_share:.2f}"]
        if e.cosine is not None and e.margin is not None:
            features[:0] = [f"cosine {e.cosine:.2f}", f"margin {e.margin:+.2f}"]
        features.append("denial cue" if e.denial else "no denial cue")
        summary = f"  score {e.score:.2f} against {e.threshold:.2f}; {', '.join(features)}"
        console.print(summary, markup=False, highlight=False)
        console.print(f"  why: {e.why}", markup=False, highlight=False)


def _match_jsonl(matcher: Matcher, path: Path, *, explain: bool = False) -> None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["text"]
            if not isinstance(text, str):
                raise TypeError("text is not a string")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise fail(f'{path}:{number}: want a JSON object with a "text" string ({exc})') from exc
        document = exporting.match_json(matcher.kb, matcher.match(text))
        if explain:
            document["explanations"] = [explanation_json(e) for e in matcher.explain(text)]
        if "id" in record:
            document = {"id": record["id"], **document}
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")


def evaluate(
    data: Annotated[Path, typer.Option(help="labelled sentences (JSONL)")] = DEFAULT_DEV_SET,
    split: Annotated[str, typer.Option(help="dev, test or all")] = "test",
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="fit thresholds on the dev split and save them")
    ] = False,
    folds: Annotated[
        int, typer.Option(min=0, help="also cross-validate over all sentences with this many folds (0: no)")
    ] = 0,
    stories: Annotated[
        bool, typer.Option("--stories", help="also story grouping: pairwise P/R on the labelled story pairs")
    ] = False,
    fit_relevance: Annotated[
        bool,
        typer.Option(
            "--fit-relevance",
            help="fit the theme-relevance model on the labelled real articles (not the test split), save it",
        ),
    ] = False,
) -> None:
    """Precision, recall and F1 of claim matching (lexical and semantic), stance accuracy,
    entity matching, and throughput, on the labelled dev set. With --folds, also k-fold
    cross-validation: every sentence scored by parameters fitted without it."""
    from matching import evaluation

    if folds == 1:
        raise fail("--folds needs at least 2 folds (0 turns cross-validation off)")
    settings = load_settings()
    kb = load_knowledge_base(settings)
    try:
        items = evaluation.load_dev_set(data)
    except (OSError, ValueError, KeyError) as exc:
        raise fail(f"cannot read the labelled set {data}: {exc}") from exc
    calibration = load_calibration(settings.calibration_path)
    semantic = build_semantic(settings, kb, calibration)
    if calibrate:
        try:
            real = _real_for_floors()
            calibration = evaluation.calibrated(kb, semantic, items, real)
        except ValueError as exc:
            raise fail(f"cannot calibrate on the dev split of {data}: {exc}") from exc
        save_calibration(calibration, settings.calibration_path)
        console.print(f"calibrated on the dev split, saved to {settings.calibration_path}: {calibration}")
        if not real:  # said, not silent: the shipped floors are not in the file just written
            console.print(
                f"the news corpus is not at {DEFAULT_NEWS_CORPUS}: no per-claim semantic floors were "
                "fitted, and the calibration saved has none"
            )
        semantic.blend, semantic.lexical_threshold = calibration.blend, calibration.threshold("lexical")
        semantic.claim_floors = dict(calibration.claim_floors)
    relevance_model: RelevanceModel | None
    if fit_relevance:
        unfloored = Matcher(kb, semantic, threshold=calibration.threshold("semantic"))
        relevance_model = _fitted_relevance(settings, lambda text: bool(unfloored.match(text).claims))
    else:
        relevance_model = configured_relevance(settings)
    chosen = items if split == "all" else [i for i in items if i.split == split]
    lexical_matcher, semantic_matcher = (
        Matcher(
            kb,
            method,
            threshold=calibration.threshold(name),
            relevance_model=relevance_model,
            claim_min_relevance=settings.claim_min_relevance,
        )
        for name, method in (("lexical", None), ("semantic", semantic))
    )
    _print_claim_reports(
        f"claim matching on {len(chosen)} {split} sentences",
        [evaluation.evaluate_claims(m, chosen) for m in (lexical_matcher, semantic_matcher)],
        [claim.id for claim in kb.claims],
    )
    articles = evaluation.compose_articles(chosen)
    console.print(
        f"claims per article ({len(articles)} texts of ~800 words built from these sentences): "
        + "; ".join(
            f"{name} P {a.precision:.3f} R {a.recall:.3f} F1 {a.f1:.3f}"
            for name, a in (
                ("lexical", evaluation.evaluate_articles(lexical_matcher, articles)),
                ("semantic", evaluation.evaluate_articles(semantic_matcher, articles)),
            )
        )
    )
    entity_scores = evaluation.evaluate_entities(Matcher(kb).entities, chosen)
    console.print(
        f"entity mentions: precision {entity_scores.precision:.3f} recall {entity_scores.recall:.3f} "
        f"F1 {entity_scores.f1:.3f} (tp {entity_scores.tp}, fp {entity_scores.fp}, fn {entity_scores.fn})"
    )
    if evaluation.DEFAULT_PAGES.is_dir():
        pages = evaluation.evaluate_pages(semantic_matcher, clean_text)
        console.print(
            f"corpus pages ({pages.pages}, whole pages as the pipeline cleans them): entities per page "
            f"P {pages.entities.precision:.3f} R {pages.entities.recall:.3f} F1 {pages.entities.f1:.3f}; "
            f"claims found where none is labelled: {len(pages.wrong_claims)} {pages.wrong_claims or ''}"
        )
    if DEFAULT_NEWS_CORPUS.exists():
        _print_real_prose(split, (lexical_matcher, semantic_matcher))
        _print_relevance(split, semantic_matcher, settings.relevance_threshold)
    if folds:
        try:
            _print_cross_validation(evaluation.cross_validate(kb, semantic, items, folds, _real_for_floors()))
        except ValueError as exc:
            raise fail(f"cannot cross-validate on {data}: {exc}") from exc
    if stories:
        from notify.story_evaluation import format_story_report, run_story_eval

        try:
            console.print(format_story_report(run_story_eval()), markup=False, highlight=False)
        except FileNotFoundError as exc:
            raise fail(f"story evaluation needs the labelled pairs and the news corpus: {exc}") from exc


def _real_for_floors() -> list[Item]:
    """The real-prose sentences the per-claim floors are fitted on: the training pools and the
    dev split, never the test split; none without the news corpus, which holds their text."""
    from matching import evaluation

    if not DEFAULT_NEWS_CORPUS.exists():
        return []
    training = evaluation.load_real_prose(evaluation.DEFAULT_REAL_PROSE_TRAINING)
    return training + [item for item in evaluation.load_real_prose() if item.split == "dev"]


def _fitted_relevance(settings: Settings, has_claim: Callable[[str], bool]) -> RelevanceModel:
    """Fit the relevance model on the labelled real articles, save it, and say how it did, and
    which claim floor (``MEDIAMON_CLAIM_MIN_RELEVANCE``) its out-of-fold scores support."""
    from matching import evaluation
    from matching.relevance_fitting import fit_relevance

    try:
        texts, on_theme = evaluation.relevance_training_set()
    except (OSError, ValueError, KeyError) as exc:
        raise fail(f"cannot read the relevance training labels: {exc}") from exc
    console.print(f"fitting theme relevance on {len(texts)} labelled articles ({sum(on_theme)} on theme)")
    try:
        fit = fit_relevance(
            texts, on_theme, default_threshold=settings.relevance_threshold, progress=console.print
        )
    except ValueError as exc:
        raise fail(f"cannot fit theme relevance: {exc}") from exc
    model = replace(
        fit.model,
        measured={
            "on": "tests/data/relevance_train.jsonl and the dev split of tests/data/relevance.jsonl",
            "articles": len(texts),
            "on_theme": sum(on_theme),
            "strength": fit.strength,
            "operating_point": round(fit.operating_point, 4),
            "out_of_fold_on_recall": round(fit.on_recall, 4),
            "out_of_fold_off_pass": round(fit.off_pass, 4),
        },
    )
    save_relevance_model(model, settings.relevance_model_path)
    console.print(
        f"chose C={fit.strength:g}; its operating point {fit.operating_point:.3f} now reads "
        f"{settings.relevance_threshold}; {len(model.idf)} words; saved to {settings.relevance_model_path}"
    )
    _print_claim_floors(fit.out_of_fold, on_theme, texts, has_claim, settings.claim_min_relevance)
    return model


def _print_claim_floors(
    scores: Sequence[float],
    on_theme: Sequence[bool],
    texts: Sequence[str],
    has_claim: Callable[[str], bool],
    current: float,
) -> None:
    """Out of fold, what each claim floor keeps: the floor is chosen here, on the training
    articles, never on the test split."""
    from matching.relevance_fitting import chosen_floor, claim_floors

    console.print(f"matching claims in the {len(texts)} training articles for the claim floor …")
    claimed = [has_claim(text) for text in texts]
    rows = claim_floors(scores, on_theme, claimed, [is_article(text) for text in texts])
    off_theme = sum(not o for o in on_theme)
    table = Table(title="claim floor, out of fold (articles of 120 words or more below it are not searched)")
    for column in (
        "floor",
        "on-theme with a claim, kept",
        f"off-theme with a claim (of {off_theme})",
        "on-theme not searched",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            f"{row.floor:.2f}", str(row.on_claimed_kept), str(row.off_claimed), str(row.on_unsearched)
        )
    console.print(table)
    best = chosen_floor(rows, off_theme)
    console.print(
        f"lowest floor with off-theme claims ≤ 1% and no on-theme claim lost: {best.floor:.2f} "
        f"(MEDIAMON_CLAIM_MIN_RELEVANCE is {current:.2f})"
    )


def _print_claim_reports(title: str, reports: list[ClaimReport], claim_ids: list[str]) -> None:
    """Claim matching per method, by kind of sentence, and recall per claim (claims with none
    labelled and none found are left out)."""
    table = Table(
        "method", "threshold", "precision", "recall", "F1", "stance acc.", "sentences/s", title=title
    )
    for report in reports:
        table.add_row(
            report.method,
            f"{report.threshold:.2f}",
            f"{report.scores.precision:.3f}",
            f"{report.scores.recall:.3f}",
            f"{report.scores.f1:.3f}",
            f"{report.stance_accuracy:.3f}",
            f"{report.sentences_per_s:.0f}",
        )
    console.print(table)
    kinds = Table("kind", *(f"{r.method} recall / precision" for r in reports), title="by kind of sentence")
    for kind in sorted(reports[0].per_kind):
        kinds.add_row(
            kind,
            *(f"{r.per_kind[kind].recall:.2f} / {r.per_kind[kind].precision:.2f}" for r in reports),
        )
    console.print(kinds)
    claims = Table(
        "claim", *(f"{r.method} recall (found/labelled, false)" for r in reports), title="recall per claim"
    )
    for claim_id in claim_ids:
        if any(claim_id in r.per_claim for r in reports):
            claims.add_row(claim_id, *(_claim_recall(r, claim_id) for r in reports))
    console.print(claims)


def _claim_recall(report: ClaimReport, claim_id: str) -> str:
    scores = report.per_claim.get(claim_id)
    if scores is None:
        return "-"
    labelled = scores.tp + scores.fn
    recall = f"{scores.recall:.2f}" if labelled else "-"
    return f"{recall} ({scores.tp}/{labelled}, {scores.fp})"


def _print_real_prose(split: str, matchers: tuple[Matcher, Matcher]) -> None:
    """The same measures on sentences of real news nobody here wrote (tests/data/real_prose.jsonl)."""
    from matching import evaluation

    try:
        items = evaluation.load_real_prose()
    except (OSError, ValueError, KeyError) as exc:
        raise fail(f"cannot read the real-prose set: {exc}") from exc
    chosen = items if split == "all" else [i for i in items if i.split == split]
    with_claims = sum(1 for item in chosen if item.claims)
    reports = [evaluation.evaluate_claims(m, chosen) for m in matchers]
    _print_claim_reports(
        f"real prose: {len(chosen)} {split} sentences of Dawn and APP news ({with_claims} with a claim), "
        "labelled blind",
        reports,
        [claim.id for claim in matchers[0].kb.claims],
    )
    console.print(
        "real prose, what found the claims the semantic matcher reports (right / wrong): "
        + "; ".join(f"{method} {s.tp} / {s.fp}" for method, s in sorted(reports[1].per_method.items()))
    )
    entity_scores = evaluation.evaluate_entities(matchers[0].entities, chosen)
    console.print(
        f"real prose, entity mentions: precision {entity_scores.precision:.3f} recall "
        f"{entity_scores.recall:.3f} F1 {entity_scores.f1:.3f} "
        f"(tp {entity_scores.tp}, fp {entity_scores.fp}, fn {entity_scores.fn})"
    )


def _print_relevance(split: str, matcher: Matcher, threshold: float) -> None:
    """Theme relevance on real articles labelled on or off the theme (tests/data/relevance.jsonl)."""
    from matching import evaluation

    try:
        report = evaluation.evaluate_relevance(matcher, threshold, split)
    except (OSError, ValueError, KeyError) as exc:
        raise fail(f"cannot read the relevance labels: {exc}") from exc
    console.print(
        f"relevance on {report.on_theme + report.off_theme} real {split} articles at the threshold "
        f"{threshold:.2f}: on-theme passed {report.on_passed}/{report.on_theme} "
        f"(recall {report.on_recall:.3f}), off-theme passed {report.off_passed}/{report.off_theme} "
        f"(pass rate {report.off_pass_rate:.3f}); a claim matched on {len(report.claimed_off)} of the "
        f"{report.off_theme} off-theme articles and on {report.claimed_on} of the {report.on_theme} "
        "on-theme ones"
    )


def _print_cross_validation(result: CrossValidation) -> None:
    table = Table(
        "method",
        "precision",
        "recall",
        "F1",
        "F1 per fold",
        title=f"{result.folds}-fold cross-validation over all {result.sentences} sentences",
    )
    for column, (name, scores) in enumerate((("lexical", result.lexical), ("semantic", result.semantic))):
        table.add_row(
            name,
            f"{scores.precision:.3f}",
            f"{scores.recall:.3f}",
            f"{scores.f1:.3f}",
            " ".join(f"{fold[column]:.2f}" for fold in result.per_fold),
        )
    if result.floored is not None:
        floored = result.floored
        table.add_row(
            "semantic + claim floors",
            f"{floored.precision:.3f}",
            f"{floored.recall:.3f}",
            f"{floored.f1:.3f}",
            "claims floored per fold: " + " ".join(str(n) for n in result.floors_per_fold),
        )
    console.print(table)
    if result.floored is None:
        console.print(
            f"the news corpus is not at {DEFAULT_NEWS_CORPUS}: the per-claim floors are not cross-validated"
        )
