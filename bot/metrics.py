"""The one place Prometheus metric objects are defined (``prometheus-client``, its default
registry; ``/metrics`` on the admin app shows them, see ``admin/routes/health.py``).

Counters and histograms count what happened in *this* process; the backlog and lag gauges are
set from the database right before each scrape (:func:`refresh_backlog`), so every process
shows the same figures. Names and labels are listed in ``docs/operations-metrics.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:  # bot.lag reaches the timeline, which sends through bot.sending (a cycle)
    from bot.lag import Backlog

UPDATES = Counter(
    "xuatngu_updates_handled",
    "Telegram updates handled, by outcome (handled, unhandled, error)",
    ["outcome"],
)
UPDATE_SECONDS = Histogram(
    "xuatngu_update_handling_seconds",
    "Time to handle one update, replies included",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
MESSAGES = Counter(
    "xuatngu_messages_sent",
    "Unprompted messages tried, by final status and kind (outbox, scheduled_sends)",
    ["status", "kind"],
)
RATE_LIMITED = Counter("xuatngu_telegram_429", "429 answers from Telegram (every send paused)")
WEBHOOK_ERRORS = Counter(
    "xuatngu_webhook_errors", "Webhook requests refused or failed, by reason", ["reason"]
)
TICK_SECONDS = Histogram(
    "xuatngu_scheduler_tick_seconds",
    "Duration of one reminder scheduler pass",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
OUTBOX_BACKLOG = Gauge(
    "xuatngu_outbox_backlog", "Outbox rows waiting to be sent (messages being sent)"
)
REMINDERS_DUE = Gauge("xuatngu_reminders_due", "Reminders due and not sent yet")
OUTBOX_LAG = Gauge(
    "xuatngu_outbox_lag_seconds",
    "How long the oldest due outbox message has waited (quiet hours not counted)",
)
SCHEDULER_LAG = Gauge(
    "xuatngu_scheduler_lag_seconds",
    "How long the oldest due reminder has waited (quiet hours not counted)",
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def webhook_error(reason: str) -> None:
    """Count one webhook request that was refused or failed (``reason``: a short fixed word)."""
    WEBHOOK_ERRORS.labels(reason=reason).inc()


def refresh_backlog(backlog: Backlog) -> None:
    """Set the backlog and lag gauges from one measure (done right before a scrape)."""
    OUTBOX_BACKLOG.set(backlog.outbox_rows)
    REMINDERS_DUE.set(backlog.reminders_due)
    OUTBOX_LAG.set(backlog.outbox_lag)
    SCHEDULER_LAG.set(backlog.reminder_lag)


def exposition() -> bytes:
    """Every metric in the text exposition format."""
    return generate_latest()
