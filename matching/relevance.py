"""Theme relevance: how likely an article is to be on the Afghanistan–Pakistan security theme.

A logistic model over the article's words (sublinear TF-IDF, L2-normalised), fitted on real
Dawn and APP articles labelled on or off the theme (``tests/data/relevance*.jsonl``; where the
line is drawn is written in ``tests/data/README.md``) by ``mediamon eval --fit-relevance``, and
shipped as ``config/data/relevance.json``: each word's IDF and weight, nothing else. Entity and
claim evidence is not a feature: the theme is a topic, and a cricket or budget story names
Pakistan and Afghanistan as often as a security story does (measured: adding it cut on-theme
recall on the test split).

The score is the model's probability shifted on the logit scale so that its operating point
(the threshold that keeps 92% of on-theme articles, chosen out of fold) reads 0.3, the
product's default ``relevance_threshold``: every existing threshold keeps its meaning, and a
higher one trades recall for fewer off-theme articles. Without a model file the older
entity-weight formula (:func:`matching.matcher.relevance`) is used.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from matching.text import normalise

#: Words as the model counts them: two or more word characters, after normalisation.
_WORD = re.compile(r"\b\w\w+\b")


def words(text: str) -> list[str]:
    """The words of ``text`` as the relevance model counts them (fitting uses this too)."""
    return _WORD.findall(normalise(text)[0])


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def probability(z: float) -> float:
    """The inverse of :func:`logit`: log-odds to 0..1."""
    return 1 / (1 + math.exp(-z))


@dataclass(frozen=True)
class RelevanceModel:
    idf: dict[str, float]
    weights: dict[str, float]
    intercept: float
    # Added to the logit so that the operating point chosen out of fold reads as the default
    # threshold: logit(default threshold) - logit(operating point).
    offset: float = 0.0
    measured: dict[str, object] = field(default_factory=dict)  # what it was fitted on, and how it did

    def logit(self, text: str) -> float:
        """The model's log-odds that ``text`` is on the theme (before the offset)."""
        counts = Counter(word for word in words(text) if word in self.idf)
        values = {word: (1 + math.log(count)) * self.idf[word] for word, count in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        if not norm:
            return self.intercept
        return self.intercept + sum(v * self.weights[word] for word, v in values.items()) / norm

    def score(self, text: str) -> float:
        """0..1, rounded as it is stored: at or above the default threshold (0.3) is on the theme."""
        return round(probability(self.logit(text) + self.offset), 4)


class RelevanceModelError(Exception):
    """The relevance model file exists but cannot be read."""


def load_relevance_model(path: Path) -> RelevanceModel | None:
    """The model at ``path``, or None if there is none (the entity-weight formula then)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        table = data["words"]
        return RelevanceModel(
            idf={word: float(pair[0]) for word, pair in table.items()},
            weights={word: float(pair[1]) for word, pair in table.items()},
            intercept=float(data["intercept"]),
            offset=float(data["offset"]),
            measured=dict(data.get("measured", {})),
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise RelevanceModelError(
            f"{path} is not a valid relevance model ({exc}); rebuild it with `mediamon eval --fit-relevance`"
        ) from exc


def save_relevance_model(model: RelevanceModel, path: Path) -> None:
    """One word a line (``"word": [idf, weight]``), sorted, so a refit reads as a diff."""
    head = {"intercept": round(model.intercept, 6), "offset": round(model.offset, 6)}
    header = json.dumps({**head, "measured": model.measured}, indent=2, sort_keys=True)
    rows = ",\n    ".join(
        f"{json.dumps(word)}: [{model.idf[word]:.5f}, {model.weights[word]:.5f}]"
        for word in sorted(model.idf)
    )
    path.write_text(header[:-2] + ',\n  "words": {\n    ' + rows + "\n  }\n}\n", encoding="utf-8")
