from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import DEFAULT_KB_PATH, Settings


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch):
    for name in ("MEDIAMON_DATABASE_URL", "MEDIAMON_BROKER_URL", "MEDIAMON_ALLOWED_PRIVATE_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///mediamon.db"
    assert settings.embedded
    assert settings.allowed_private_hosts == frozenset()
    assert settings.kb_path == DEFAULT_KB_PATH


def test_environment_is_read_with_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("MEDIAMON_DATABASE_URL", "postgresql://u:pw@db/mm")
    monkeypatch.setenv("MEDIAMON_BROKER_URL", "redis://localhost:6379/0")
    monkeypatch.setenv("MEDIAMON_ALLOWED_PRIVATE_HOSTS", " 127.0.0.1, Localhost ,")
    monkeypatch.setenv("MEDIAMON_READ_TIMEOUT", "3.5")
    monkeypatch.setenv("MEDIAMON_KB_PATH", str(tmp_path / "kb.yaml"))
    settings = Settings()
    assert not settings.embedded
    assert settings.allowed_private_hosts == frozenset({"127.0.0.1", "localhost"})
    assert settings.read_timeout == 3.5
    assert settings.kb_path == tmp_path / "kb.yaml"


@pytest.mark.parametrize(
    ("name", "value"),
    [("MEDIAMON_READ_TIMEOUT", "fast"), ("MEDIAMON_MAX_PAGE_BYTES", "-1"), ("MEDIAMON_CLAIM_THRESHOLD", "2")],
)
def test_a_bad_value_fails_loudly_instead_of_falling_back(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_masked_hides_secrets_and_url_passwords(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MEDIAMON_DATABASE_URL", "postgresql://user:hunter2@db/mm")
    monkeypatch.setenv("MEDIAMON_SMTP_URL", "smtps://mailer:s3cret@smtp.example:465")
    monkeypatch.setenv("MEDIAMON_SECRET_KEY", "k3y-material")
    shown = Settings().masked()
    assert "hunter2" not in shown["database_url"]
    assert "user" in shown["database_url"]
    assert "s3cret" not in shown["smtp_url"]
    assert "mailer" in shown["smtp_url"] and "smtp.example" in shown["smtp_url"]
    assert shown["secret_key"] == "********"
    assert "s3cret" not in repr(shown) and "k3y-material" not in repr(shown)
