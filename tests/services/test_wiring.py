"""Settings become parts in one place (services/wiring.py): every limit reaches its part."""

from __future__ import annotations

from dataclasses import fields

from config.settings import DEFAULT_CALIBRATION_PATH, DEFAULT_KB_PATH, Settings
from matching.kb import load_kb
from services.limits import WriteLimits
from services.wiring import fetch_policy, matcher_version, write_limits


def test_every_write_limit_comes_from_its_setting():
    changed = {f.name: _other(getattr(WriteLimits(), f.name)) for f in fields(WriteLimits)}
    limits = write_limits(Settings(**changed))  # type: ignore[arg-type]
    assert {f.name: getattr(limits, f.name) for f in fields(WriteLimits)} == changed


def test_the_fetch_policy_takes_the_http_settings_including_renamed_ones():
    settings = Settings(
        user_agent="probe/1",
        connect_timeout=3.5,
        read_timeout=4.5,
        download_timeout=70,
        max_page_bytes=1234,
        max_redirects=2,
        http_retries=7,
        retry_backoff=0.25,
        max_retry_wait=9,
        per_host_concurrency=5,
        allowed_private_hosts=frozenset({"10.0.0.1"}),
    )
    policy = fetch_policy(settings)
    assert (policy.user_agent, policy.connect_timeout, policy.read_timeout) == ("probe/1", 3.5, 4.5)
    assert (policy.download_timeout, policy.max_bytes, policy.max_redirects) == (70, 1234, 2)
    assert (policy.retries, policy.backoff, policy.max_retry_wait) == (7, 0.25, 9)
    assert policy.per_host_concurrency == 5
    assert policy.allowed_private_hosts == frozenset({"10.0.0.1"})


def _other(value: object) -> object:
    """A valid value different from ``value``."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 3
    raise AssertionError(f"no other value for {value!r}")


def test_the_matcher_version_changes_with_what_decides_matches_and_only_with_it(tmp_path):
    kb = load_kb(DEFAULT_KB_PATH)
    calibration = tmp_path / "calibration.json"
    calibration.write_bytes(DEFAULT_CALIBRATION_PATH.read_bytes())
    base = Settings(claim_method="lexical", calibration_path=calibration)
    version = matcher_version(base, kb)
    assert version.startswith(kb.full_version + "/")
    assert matcher_version(Settings(claim_method="lexical", calibration_path=calibration), kb) == version
    # unrelated settings leave it alone: stored articles are not matched again for them
    assert matcher_version(base.model_copy(update={"fetch_workers": 3}), kb) == version
    changed = {
        matcher_version(base.model_copy(update={"claim_method": "semantic"}), kb),
        matcher_version(base.model_copy(update={"claim_threshold": 0.5}), kb),
        matcher_version(base.model_copy(update={"claim_min_relevance": 0.3}), kb),
        matcher_version(base.model_copy(update={"relevance_model_path": tmp_path / "none.json"}), kb),
    }
    calibration.write_text(calibration.read_text().replace('"semantic"', '"semantic" ', 1))
    changed.add(matcher_version(base, kb))
    assert version not in changed and len(changed) == 5
    assert len(version) <= 64  # it fits Article.kb_version
