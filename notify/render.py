"""Records in, MIME messages out: the digest, the instant alert and the claim-spread alert.

Every message is ``multipart/alternative``: a text/plain part first, then text/html (mail
without a text part costs spam points, and some readers want only text), both rendered from
Jinja2 templates in ``notify/templates``. HTML templates autoescape everything they print,
because titles and evidence come from the web; ``StrictUndefined`` turns a misspelt variable
into an error instead of an empty string. The HTML is laid out in nested tables with widths in
attributes (Outlook's Word engine ignores most CSS), uses no remote images, fonts or scripts,
and has its ``<style>`` block inlined into ``style`` attributes by ``css-inline`` (Gmail and
Outlook drop or ignore style blocks).

Headers follow RFC 5322, RFC 2369 and RFC 8058: ``Message-ID`` exactly as stored in the outbox
(a resend carries the same one), ``Date``, ``List-Id``, ``List-Unsubscribe`` (an HTTPS link
with an opaque signed token, and a mailto when there is one) and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click``. A digest is a requested newsletter, so no ``Auto-Submitted``.
The environment and the inliner are built on first use, not at import.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
import jinja2

from notify import display
from notify.addresses import is_email
from notify.display import SectionView, plural, shorten
from notify.kinds import Mode
from notify.mime import ONE_CLICK, TARGET_HEADER, new_message
from notify.records import Alert, ClaimTrend, Digest, Envelope, SinceLast, SpreadAlert, StoryItem

SUBJECT_LIMIT = 80  # characters of a claim or title in a subject line


@dataclass(frozen=True)
class Footer:
    """Why the reader gets this, and the way out."""

    reason: str
    unsubscribe_url: str
    manage_url: str | None
    timezone: str


@dataclass(frozen=True)
class TrendView:
    statement: str
    note: str  # "3 matches", "12 matches, up from 4"


def render_digest(digest: Digest, envelope: Envelope) -> EmailMessage:
    """A daily or weekly digest: "since your last digest", then claims, then entities."""
    tz = display.zone(digest.timezone)
    claims = tuple(
        SectionView("Claim", display.one_line(c.statement), _stories(c.stories, tz), c.more)
        for c in digest.claims
    )
    entities = tuple(
        SectionView("Entity", display.one_line(e.name), _stories(e.stories, tz), e.more)
        for e in digest.entities
    )
    label = _mode_label(digest.mode)
    counts = [
        plural(max(digest.story_count, digest.total_stories), "story", "stories"),
        plural(len(claims) + digest.more_claims, "claim"),
    ]
    if entities:
        counts.append(plural(len(entities) + digest.more_entities, "entity", "entities"))
    left_out = [
        plural(n, what, whats)
        for n, what, whats in (
            (digest.more_claims, "more claim", "more claims"),
            (digest.more_entities, "more entity", "more entities"),
        )
        if n
    ]
    context = {
        "heading": f"Your {label} digest".replace("  ", " ").strip(),
        "kind_label": f"{label} digest".strip().capitalize(),
        "window": display.window(digest.window_start, digest.window_end, tz),
        "counts": " · ".join(counts),
        "since": _since(digest.since_last),
        "claims": claims,
        "entities": entities,
        "more_sections": f"And {' and '.join(left_out)} in this window, not shown here "
        "(`mediamon matches` lists them all)."
        if left_out
        else "",
        "footer": _footer(
            f"this {label} digest".replace("  ", " "),
            digest.address,
            digest.subscription_id,
            envelope,
            digest.timezone,
        ),
    }
    return _compose(envelope, digest_subject(digest), "digest", context)


def render_alert(alert: Alert, envelope: Envelope) -> EmailMessage:
    """New matches of one debounce window, and how many more past the hourly cap."""
    tz = display.zone(alert.timezone)
    context = {
        "heading": "New matches",
        "kind_label": "Alert",
        "window": display.window(alert.window_start, alert.window_end, tz),
        "claim": display.one_line(alert.claim) if alert.claim else None,
        "stories": _stories(alert.stories, tz),
        "overflow": plural(alert.overflow, "more story", "more stories") if alert.overflow else "",
        "footer": _footer("instant alerts", alert.address, alert.subscription_id, envelope, alert.timezone),
    }
    return _compose(envelope, alert_subject(alert), "alert", context)


def render_spread(alert: SpreadAlert, envelope: Envelope) -> EmailMessage:
    """One claim repeated by several outlets within a day: the first, and each follower's lag."""
    tz = display.zone(alert.timezone)
    followers = [
        {
            "name": display.outlet_name(f.outlet, f.outlet.url),
            "url": display.link(f.outlet.url),
            "time": display.full_time(f.outlet.published, tz),
            "lag": display.lag(f.lag_s),
        }
        for f in alert.followers
    ]
    context = {
        "heading": "Claim spreading",
        "kind_label": "Spread alert",
        "window": display.window(
            alert.first.published,
            max([alert.first.published, *(f.outlet.published for f in alert.followers)]),
            tz,
        ),
        "statement": display.one_line(alert.statement),
        "outlets": plural(_spread_outlets(alert), "outlet"),
        "first": {
            "name": display.outlet_name(alert.first, alert.first.url),
            "url": display.link(alert.first.url),
            "time": display.full_time(alert.first.published, tz),
        },
        "followers": followers,
        "footer": _footer(
            "claim-spread alerts", alert.address, alert.subscription_id, envelope, alert.timezone
        ),
    }
    return _compose(envelope, spread_subject(alert), "spread", context)


# --- subject lines ------------------------------------------------------------------------


def digest_subject(digest: Digest) -> str:
    """ "mediamon daily digest, 27 Nov 2026: 12 stories, 4 claims"."""
    tz = display.zone(digest.timezone)
    label = _mode_label(digest.mode)
    name = f"mediamon {label} digest" if label else "mediamon digest"
    on = display.day(display.local(digest.window_end, tz))
    stories = plural(max(digest.story_count, digest.total_stories), "story", "stories")
    return f"{name}, {on}: {stories}, {plural(len(digest.claims) + digest.more_claims, 'claim')}"


def alert_subject(alert: Alert) -> str:
    """ "mediamon alert: <claim or first title> (+N more)"."""
    more = alert.overflow + max(0, len(alert.stories) - 1)
    if alert.claim:
        what = alert.claim
    elif alert.stories:
        what = alert.stories[0].title
    else:
        return f"mediamon alert: {plural(alert.overflow, 'new story', 'new stories')}"
    suffix = f" (+{more} more)" if more else ""
    return f"mediamon alert: {shorten(what, SUBJECT_LIMIT)}{suffix}"


def spread_subject(alert: SpreadAlert) -> str:
    """ "Claim spreading: <statement, shortened> — 5 outlets in 24 h"."""
    return f"Claim spreading: {shorten(alert.statement, 70)} — {_spread_outlets(alert)} outlets in 24 h"


# --- the message --------------------------------------------------------------------------


def _compose(envelope: Envelope, subject: str, template: str, context: dict[str, Any]) -> EmailMessage:
    values = {**context, "subject": subject}
    env = _environment()
    text = env.get_template(f"{template}.txt.j2").render(values)
    html = _inliner().inline(env.get_template(f"{template}.html.j2").render(values))

    date = envelope.date if envelope.date.tzinfo else envelope.date.replace(tzinfo=UTC)
    message = new_message()
    message["From"] = envelope.mail_from
    if is_email(envelope.to):
        message["To"] = envelope.to
    else:  # an Apprise URL: not an address, kept where the Apprise sender reads it
        message[TARGET_HEADER] = envelope.to
    message["Subject"] = display.one_line(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = envelope.message_id
    message["List-Id"] = envelope.list_id
    message["List-Unsubscribe"] = _list_unsubscribe(envelope)
    message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    # base64 for the HTML: quoted-printable costs the standard library a Python call per byte
    # (most of a digest's render time), and mail clients decode both alike.
    message.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    for part in message.iter_parts():
        del part["MIME-Version"]  # once, at the top, is what RFC 2045 asks for
    # Fixed now, or every serialisation picks a random one: the outbox keeps these bytes and a
    # resend must be the same message. "=_" cannot occur in quoted-printable text.
    digest = hashlib.sha256(f"{envelope.message_id}\n{text}\n{html}".encode()).hexdigest()
    message.set_boundary(f"=_mediamon_{digest[:32]}")
    return message


def _list_unsubscribe(envelope: Envelope) -> str:
    items = [f"<{envelope.unsubscribe_url}>"]
    if envelope.unsubscribe_mailto:
        mailto = envelope.unsubscribe_mailto
        items.append(f"<{mailto if mailto.startswith('mailto:') else 'mailto:' + mailto}>")
    return ", ".join(items)


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("notify", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    # Nothing is fetched: the templates link no stylesheet, and none may be loaded if one did.
    return css_inline.CSSInliner(load_remote_stylesheets=False)


# --- pieces -------------------------------------------------------------------------------


def _stories(items: tuple[StoryItem, ...], tz: ZoneInfo) -> tuple[display.StoryView, ...]:
    return tuple(display.story(item, tz) for item in items)


def _since(since: SinceLast) -> dict[str, Any] | None:
    if since.empty:
        return None

    def view(trend: ClaimTrend, note: str) -> TrendView:
        return TrendView(display.one_line(trend.statement), note)

    return {
        "first_seen": tuple(view(t, plural(t.count, "match", "matches")) for t in since.first_seen),
        "growing": tuple(
            view(t, f"{plural(t.count, 'match', 'matches')}, up from {t.previous}") for t in since.growing
        ),
        "denied": tuple(view(t, f"denied in {plural(t.count, 'match', 'matches')}") for t in since.denied),
        "spiking": tuple(
            TrendView(
                display.one_line(s.label),
                f"{plural(s.observed, 'article', 'articles')} on {s.day:%d %b}, "
                f"usually {s.expected:.1f} a day",
            )
            for s in since.spiking
        ),
        "more": f"… and {plural(since.more, 'more trend', 'more trends')} (new, growing, denied or spiking)"
        if since.more
        else "",
    }


def _footer(what: str, address: str, subscription_id: int, envelope: Envelope, timezone: str) -> Footer:
    who = address if is_email(address) else "this notification channel"
    reason = f"You receive {what} because {who} is subscribed to mediamon (subscription #{subscription_id})."
    return Footer(reason, envelope.unsubscribe_url, envelope.manage_url, timezone)


def _mode_label(mode: Mode) -> str:
    return {Mode.DAILY: "daily", Mode.WEEKLY: "weekly"}.get(mode, "")


def _spread_outlets(alert: SpreadAlert) -> int:
    names = {display.outlet_name(alert.first, alert.first.url)}
    names.update(display.outlet_name(f.outlet, f.outlet.url) for f in alert.followers)
    return len(names)
