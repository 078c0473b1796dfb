"""The read API fuzzed against its own OpenAPI schema with schemathesis, in process.

Every GET operation of ``/openapi.json`` gets generated requests, valid ones (parameters as the
schema allows them) and invalid ones (as it does not), over a SQLite store of real articles
(tests/web/corpus.py). Whatever comes in, the answer must not be a server error, its status
must be one the schema documents, and its body must be what the schema says: a fuzzer that
finds a 500 has found a request a client could send.

Examples are bounded (``EXAMPLES`` per operation and mode) so this runs in well under a minute,
and Hypothesis keeps no example database (runs stay independent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from schema.db import make_engine, make_session_factory, upgrade_database
from tests.web.corpus import NOW, THRESHOLD, fill
from web.app import create_app

EXAMPLES = 12  # per operation and mode: about 300 requests, under a minute on a busy machine
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: Every GET the API documents; a new one must be added here (and so is fuzzed too).
GET_OPERATIONS = {
    "/health",
    "/api/articles",
    "/api/articles/{article_id}",
    "/api/matches",
    "/api/entities",
    "/api/claims",
    "/api/claims/{claim_id}/history",
    "/api/trends",
    "/charts/trends.png",
    "/api/top",
    "/api/spikes",
    "/api/search",
    "/api/feeds",
}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app's own schema, loaded from the app over a SQLite store of real articles."""
    database: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    url = f"sqlite:///{database}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    fill(sessions)
    app = create_app(sessions, "fuzz-secret", clock=lambda: NOW, on_theme_threshold=THRESHOLD)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    engine.dispose()


def test_no_generated_request_makes_a_server_error_or_breaks_the_schema(api_schema):
    tried: Counter[tuple[str, str]] = Counter()
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    gets = [op for op in operations if op.method.upper() == "GET"]
    assert {op.path for op in gets} == GET_OPERATIONS

    for operation in gets:
        takes_input = len(operation.query) + len(operation.path_parameters) > 0
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)[: 1 + takes_input]:
            _fuzz(operation, mode, tried, statuses)

    print(
        f"schemathesis: {len(gets)} GET operations, {sum(tried.values())} requests, statuses {dict(statuses)}"
    )
    for path in GET_OPERATIONS:
        assert tried[(path, "positive")] >= 1, path
    assert statuses[200] > 0 and statuses[422] > 0, "valid and invalid requests both got through"
    assert not any(status >= 500 for status in statuses)


def _fuzz(
    operation: Any, mode: GenerationMode, tried: Counter[tuple[str, str]], statuses: Counter[int]
) -> None:
    """Up to ``EXAMPLES`` generated requests to one operation, each response checked."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case: Any) -> None:
        response = case.call()
        tried[(operation.path, mode.value)] += 1
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    fuzz()
