"""The one Settings object.

Read from the environment (prefix ``MEDIAMON_``) once, at the edge (the CLI, the Celery
app), and passed down. A bad value is an error at start-up, never a silent fallback to the
default: pydantic validates every field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_KB_PATH = DATA_DIR / "kb.yaml"
DEFAULT_FEEDS_PATH = DATA_DIR / "feeds.txt"
DEFAULT_CALIBRATION_PATH = DATA_DIR / "calibration.json"
DEFAULT_RELEVANCE_MODEL_PATH = DATA_DIR / "relevance.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIAMON_", extra="ignore", frozen=True)

    # Store and broker. No broker URL means the embedded one-shot mode.
    database_url: str = "sqlite:///mediamon.db"
    broker_url: str | None = None
    # Put before every key the service keeps in the broker's Redis (Celery's queues, bindings and
    # unacknowledged messages, the quarantine, the per-host politeness slots), so deployments
    # (or test runs) can share one Redis database, e.g. "newsroom-a:". "" keeps the plain names.
    broker_key_prefix: str = Field(default="", pattern=r"^\S*$")

    # Knowledge base and default feed list shipped in the package.
    kb_path: Path = DEFAULT_KB_PATH
    feeds_path: Path = DEFAULT_FEEDS_PATH

    # HTTP client: limits and politeness.
    user_agent: str = "mediamon/0.1 (+https://github.com/mediamon/mediamon; media monitoring)"
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=20.0, gt=0)
    download_timeout: float = Field(default=60.0, gt=0)  # a whole fetch: connect, headers, 1xx, body, retries
    max_feed_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    max_page_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    http_retries: int = Field(default=2, ge=0)
    retry_backoff: float = Field(default=0.5, ge=0)
    max_retry_wait: float = Field(default=30.0, ge=0)
    per_host_concurrency: int = Field(default=2, ge=1)
    host_min_delay_s: float = Field(default=0.25, ge=0)  # between the starts of two requests to one host
    # A crashed worker's host slot frees after this; longer than connect + download timeouts.
    host_lease_s: float = Field(default=75.0, gt=0)
    host_wait_s: float = Field(default=60.0, gt=0)  # longest wait for a host slot (< task time limits)
    fetch_workers: int = Field(default=8, ge=1)
    allowed_private_hosts: Annotated[frozenset[str], NoDecode] = frozenset()

    # Pipeline behaviour.
    max_entries_per_poll: int = Field(default=200, ge=1)
    # Google News article links are decoded by asking Google; off: such entries are skipped.
    decode_google_news: bool = True
    decode_timeout_s: int = Field(default=10, ge=1)  # seconds per request to news.google.com
    keep_raw_html: bool = False
    min_text_chars: int = Field(default=200, ge=0)
    claim_method: Literal["lexical", "semantic"] = "semantic"
    claim_threshold: float | None = Field(default=None, ge=0, le=1)  # None: the calibrated one
    # Sentences per text the encoder may embed: CPU against recall in long, claim-dense texts.
    semantic_max_sentences: int = Field(default=8, ge=1)
    calibration_path: Path = DEFAULT_CALIBRATION_PATH
    cache_dir: Path = Path.home() / ".cache" / "mediamon"  # claim vectors per KB version
    # The theme-relevance model (mediamon eval --fit-relevance); scores at or above the threshold
    # are on the theme (the model's operating point reads 0.3: see matching.relevance).
    relevance_model_path: Path = DEFAULT_RELEVANCE_MODEL_PATH
    relevance_threshold: float = Field(default=0.3, ge=0, le=1)
    # Articles (120 words or more) the relevance model scores below this are not searched for
    # claims: they are about something else (see matching.matcher.Matcher). 0 searches them all.
    claim_min_relevance: float = Field(default=0.15, ge=0, le=1)

    # Service (Celery) timing: beat runs the dispatcher and the sweeper; feeds keep their own schedule.
    dispatch_interval_s: float = Field(default=60.0, gt=0)
    # The sweeper re-enqueues articles whose worker's lease ran out (the worker died), and rows
    # untouched for sweep_after_s while their queue is empty (a lost message). A worker renews
    # the lease of the article it works on every article_heartbeat_s, so a killed worker's
    # article is taken again within about article_lease_s + sweep_interval_s (services/leases.py).
    sweep_interval_s: float = Field(default=30.0, gt=0)
    sweep_after_s: int = Field(default=900, ge=0)
    article_lease_s: float = Field(default=60.0, gt=0)
    article_heartbeat_s: float = Field(default=20.0, gt=0)
    delivery_interval_s: float = Field(default=60.0, gt=0)  # digests and alert windows are checked
    # Stored articles matched under an older matcher version (knowledge base, calibration,
    # relevance model, settings) are matched again by the workers, a batch per
    # rematch_interval_s (more at once while a batch comes back full): a deploy reaches trend
    # reports and search without anyone running `mediamon rematch`.
    rematch_interval_s: float = Field(default=300.0, gt=0)

    # Delivery: alerts and digests. No SMTP URL means messages are written as .eml files into
    # outbox_dir, so the embedded default works end to end. smtp://user:pass@host:587 uses
    # STARTTLS, smtps://user:pass@host:465 implicit TLS; the password is masked when printed.
    smtp_url: str | None = None
    mail_from: str = "mediamon <mediamon@localhost>"
    outbox_dir: Path = Path("outbox")
    public_url: str = "http://127.0.0.1:8000"  # every link a message carries starts with it
    digest_at: str = Field(default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # default local hour
    alert_debounce_s: int = Field(default=60, ge=0)  # what arrives together goes out together
    alert_hourly_cap: int = Field(default=6, ge=1)  # alert messages per subscription per hour
    spread_outlets: int = Field(default=3, ge=2)  # distinct outlets within 24 h for a spread alert
    delivery_attempts: int = Field(default=8, ge=1)  # sends tried before an outbox row is failed
    # A mailbox a person (or a mail rule) watches: offered as the List-Unsubscribe mailto.
    unsubscribe_mailto: str | None = None

    # The read API: browsers may call it from these origins (comma-separated); none: no CORS headers.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Secrets: only ever from the environment, masked when printed.
    secret_key: SecretStr | None = None  # signs unsubscribe tokens; required once delivery runs
    api_token: SecretStr | None = None  # the read API's writes (feed add/remove) need it as a bearer token

    @field_validator("smtp_url", "unsubscribe_mailto", "secret_key", "api_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """``MEDIAMON_SECRET_KEY=`` (as compose passes an unset variable) means not set."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_private_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(h.strip().lower() for h in value.split(",") if h.strip())
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        # Two beats per lease: one late or lost renewal must not let a live worker's lease lapse.
        if self.article_heartbeat_s * 2 > self.article_lease_s:
            raise ValueError(
                f"article_heartbeat_s ({self.article_heartbeat_s}) must be at most half of "
                f"article_lease_s ({self.article_lease_s})"
            )
        return self

    @property
    def delivery_configured(self) -> bool:
        """True when alerts and digests can be sent: their unsubscribe links can be signed."""
        return self.secret_key is not None  # an empty value is made None at start-up

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: the pipeline runs in-process."""
        return not self.broker_url

    def masked(self) -> dict[str, str]:
        """Effective settings for display, with secrets and URL passwords hidden."""
        shown: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                text = "********" if value.get_secret_value() else ""
            elif isinstance(value, frozenset | list):
                text = ",".join(sorted(value))
            elif value is None:
                text = ""
            else:
                text = str(value)
            if name.endswith("_url") and text:
                text = _mask_url_password(text)
            shown[name] = text
        return shown


def _mask_url_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
