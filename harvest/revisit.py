"""The revisit policy: which known report pages and attachments a run asks the server about again.

A report, once published, almost never changes; what changes is the listing, where a new report
appears. So (as the adaptive fetch schedule of crawlers such as Apache Nutch):

- listing pages are revalidated every run (conditional GET);
- a report page or attachment is revalidated on a schedule that lengthens while it does not
  change: every run while it appeared or changed less than ``nightly_days`` ago, then every 7
  days until it has been stable ``weekly_days``, then every ``max_days`` (per source, registry key
  ``revisit``); intervals are shortened by up to a quarter per URL (a fixed hash), so documents
  first seen on the same night do not all fall due on the same later night;
- at once when its listing entry changes (a new link, a new title or date), when the report page
  linking an attachment changed, and when the archive has no complete record of it.

"Appeared" is the earliest evidence of the document: the date printed beside its listing entry,
its ``Last-Modified``, or the run that first saw it. A run can override the schedule
(``REVALIDATE_ALL``: ask about everything, as before; ``REVALIDATE_NONE``: only listings and links
never fetched). The state lives with the URL's validators in the archive (``UrlState``:
``appeared_at``, ``changed_at``, ``due_at``, ``entry``, ``final_url``).

Staleness bound under the defaults: a report page or attachment that changes without its listing
entry changing is seen at most ``max_days`` (30) days later, plus the time to the next run. A
change announced on the listing (new link, title or date) is seen by the next run.

robots.txt is remembered between runs (``RobotsMemory``) and asked again after ``ROBOTS_MAX_AGE``
(24 h, the longest RFC 9309 allows a cached copy to be used).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from xxgk.storage.files import atomic_write_bytes

REVALIDATE_ALL = "all"
REVALIDATE_DUE = "due"
REVALIDATE_NONE = "none"
REVALIDATE_MODES = (REVALIDATE_ALL, REVALIDATE_DUE, REVALIDATE_NONE)

#: Why a document was (not) asked about this run: the counts a run summary shows.
ASKED_NEW = "new"
ASKED_DUE = "due"
ASKED_ENTRY_CHANGED = "entry_changed"
ASKED_PARENT_CHANGED = "parent_changed"
ASKED_FORCED = "forced"
SKIPPED_NOT_DUE = "not_due"

#: The most a remembered robots.txt is used (RFC 9309 §2.4: no more than 24 hours).
ROBOTS_MAX_AGE = timedelta(hours=24)
#: A URL due within this much of the run counts as due (runs at slightly different hours).
DUE_SLACK = timedelta(hours=6)
_WEEK = 7.0


class RevisitSettingsError(ValueError):
    """A ``revisit`` registry entry that cannot be used as written."""


@dataclass(frozen=True, slots=True)
class RevisitSettings:
    """How often a source's report pages and attachments are asked about again (days).

    Every run while the document appeared or changed less than ``nightly_days`` ago; every 7 days
    until it has been unchanged ``weekly_days``; then every ``max_days``: the staleness bound.
    """

    nightly_days: float = 14.0
    weekly_days: float = 90.0
    max_days: float = 30.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise RevisitSettingsError(f"revisit.{f.name} must be a number of days ≥ 0, not {value!r}")
        if self.weekly_days < self.nightly_days:
            raise RevisitSettingsError("revisit.weekly_days must not be less than revisit.nightly_days")
        if not 1 <= self.max_days <= 366:
            raise RevisitSettingsError(f"revisit.max_days must be 1-366 days, not {self.max_days!r}")

    @classmethod
    def from_registry(cls, value: Any) -> RevisitSettings:
        """The settings of a registry entry's ``revisit`` mapping (None: the defaults); unknown keys refused."""
        if value is None:
            return cls()
        if isinstance(value, RevisitSettings):
            return value
        if not isinstance(value, dict):
            raise RevisitSettingsError(f"revisit must be a mapping of {[f.name for f in fields(cls)]}, not {value!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise RevisitSettingsError(f"revisit: unknown keys {unknown} (known: {sorted(known)})")
        return cls(**value)

    def interval(self, stable: timedelta) -> timedelta:
        """How long until a document unchanged for ``stable`` is asked about again (0: next run)."""
        days = stable.total_seconds() / 86400
        if days < self.nightly_days:
            return timedelta(0)
        if days < self.weekly_days:
            return timedelta(days=min(_WEEK, self.max_days))
        return timedelta(days=self.max_days)


def now_utc() -> datetime:
    """The policy's clock (a benchmark moves it to simulate later nights)."""
    return datetime.now(UTC)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def parse_time(value: str | None) -> datetime | None:
    """An ISO timestamp/date or an HTTP date as an aware datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


_DATE_PARTS = re.compile(r"((?:19|20)\d{2})\D{1,3}(\d{1,2})\D{1,3}(\d{1,2})")


def listed_date(text: str | None) -> str | None:
    """A printed date (2024-01-30, 2024.1.30, or with the year/month/day words) as ISO; None if there is none."""
    m = _DATE_PARTS.search(text or "")
    if not m:
        return None
    try:
        return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3))).date().isoformat()
    except ValueError:
        return None


def entry_key(title: str, date: str | None) -> str:
    """What a listing says about a report link: its title and printed date (a change asks at once)."""
    return f"{title}\x1f{date or ''}"


def _spread(url: str) -> float:
    """A fixed factor in [0.75, 1] per URL, so documents first seen together fall due on different nights."""
    h = int.from_bytes(hashlib.blake2b(url.encode("utf-8"), digest_size=4).digest(), "big")
    return 0.75 + 0.25 * (h / 0xFFFFFFFF)


@dataclass(slots=True, frozen=True)
class Decision:
    """Whether to ask the server about a URL this run, and why (one of the ASKED_*/SKIPPED_* words)."""

    ask: bool
    why: str


def decide(
    mode: str,
    state: Any,
    *,
    entry: str | None = None,
    parent_changed: bool = False,
    now: datetime | None = None,
) -> Decision:
    """Whether a report page or attachment with last ``state`` (a ``UrlState`` or None) is asked about now.

    ``entry``: the listing entry of a report link now (``entry_key``); ``parent_changed``: the
    report page linking an attachment changed this run. Listing pages are not decided here: they
    are asked about every run.
    """
    if state is None or not getattr(state, "final_url", None) or not getattr(state, "due_at", None):
        return Decision(True, ASKED_NEW)  # never fetched, or recorded before this policy: ask (conditionally)
    if mode == REVALIDATE_ALL:
        return Decision(True, ASKED_FORCED)
    if entry is not None and state.entry is not None and entry != state.entry:
        return Decision(True, ASKED_ENTRY_CHANGED)
    if parent_changed:
        return Decision(True, ASKED_PARENT_CHANGED)
    if mode == REVALIDATE_NONE:
        return Decision(False, SKIPPED_NOT_DUE)
    due = parse_time(state.due_at)
    if due is None or (now or now_utc()) + DUE_SLACK >= due:
        return Decision(True, ASKED_DUE)
    return Decision(False, SKIPPED_NOT_DUE)


def schedule(
    url: str,
    state: Any,
    previous: Any,
    *,
    changed: bool,
    settings: RevisitSettings,
    listed: str | None = None,
    entry: str | None = None,
    now: datetime | None = None,
) -> None:
    """Fill in the revisit fields of ``state`` (the ``UrlState`` a fetch of ``url`` just produced).

    ``previous`` is the state before this run (None the first time); ``listed`` the date printed
    beside the listing entry; ``changed`` whether the bytes differ from the previous ones.
    """
    at = now or now_utc()
    evidence = [at]
    for value in (getattr(previous, "appeared_at", None), listed, state.last_modified):
        when = parse_time(value)
        if when is not None and when <= at:
            evidence.append(when)
    appeared = min(evidence)
    state.appeared_at = iso(appeared)
    if changed and previous is not None:
        changed_at = at
    else:
        changed_at = parse_time(getattr(previous, "changed_at", None)) or appeared
    state.changed_at = iso(changed_at)
    wait = settings.interval(at - changed_at) * _spread(url)
    state.due_at = iso(at + wait)
    if entry is not None:
        state.entry = entry
    elif previous is not None and getattr(previous, "entry", None) is not None:
        state.entry = previous.entry


def staleness_bound(settings: list[RevisitSettings], mode: str = REVALIDATE_DUE) -> str:
    """The run summary's sentence: how stale a report can be at most under this run's settings."""
    if mode == REVALIDATE_ALL:
        return "every known report page and attachment was revalidated this run"
    if mode == REVALIDATE_NONE:
        return "known report pages and attachments were not revalidated (listing changes only)"
    worst = max((s.max_days for s in settings), default=RevisitSettings().max_days)
    return (
        f"a report page or attachment that changes without its listing entry changing is seen at most "
        f"{worst:g} days later (plus the time to the next run); a change on a listing, at the next run"
    )


# ---------------------------------------------------------------------------------------------
# robots.txt remembered between runs


class RobotsMemory:
    """robots.txt answers per origin kept in ``<archive>/robots/``, used for ``ROBOTS_MAX_AGE``.

    Only answers that give rules are kept (a 2xx body, or a 4xx meaning "no rules"); an
    unreachable robots.txt is asked again by the next run. The ``Fetcher`` consults it before it
    asks a host for its robots.txt.
    """

    def __init__(self, archive_root: Path | str, max_age: timedelta = ROBOTS_MAX_AGE) -> None:
        self.root = Path(archive_root) / "robots"
        self.max_age = max_age

    def _path(self, origin: str) -> Path:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", origin)
        return self.root / f"{name}.json"

    def get(self, origin: str) -> tuple[int, str] | None:
        """(HTTP status, body text) remembered for ``origin`` and still fresh, else None."""
        try:
            record = json.loads(self._path(origin).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        fetched = parse_time(record.get("fetched_at"))
        if record.get("origin") != origin or fetched is None or now_utc() - fetched > self.max_age:
            return None
        with contextlib.suppress(TypeError, ValueError):
            return int(record["status"]), str(record.get("text") or "")
        return None

    def put(self, origin: str, status: int, text: str) -> None:
        """Remember a robots.txt answer that gives rules (2xx) or none (4xx)."""
        record = {"origin": origin, "status": status, "text": text, "fetched_at": iso(now_utc())}
        data = json.dumps(record, ensure_ascii=False).encode("utf-8")
        atomic_write_bytes(self._path(origin), data, durable=False)
