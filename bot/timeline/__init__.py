"""The service timeline: reminders on each person's own dates, outcomes, the scheduler.

Public interface (other packages import from here):

- :func:`reschedule_person` — after enlistment/discharge/return dates change (survey service).
- :func:`tick`, :class:`TickResult`, :func:`run_scheduler` — the scheduler.
- :func:`record_outcome`, :func:`answer_home`, :func:`set_return_date`,
  :func:`set_reminders_paused` — domain actions (the bot's buttons and officers alike).
- :func:`check_content`, :func:`get_schedule` — the schedule in ``content/reminders.yaml``.
"""

from bot.timeline.rows import reschedule_person
from bot.timeline.schedule import OUTCOME_STATUSES, Schedule, check_content, get_schedule
from bot.timeline.service import (
    RETURNED_HOME,
    answer_home,
    record_outcome,
    set_outcome_trade,
    set_reminders_paused,
    set_return_date,
    trade_choices,
)
from bot.timeline.tick import TickResult, run_scheduler, tick

__all__ = [
    "OUTCOME_STATUSES",
    "RETURNED_HOME",
    "Schedule",
    "TickResult",
    "answer_home",
    "check_content",
    "get_schedule",
    "record_outcome",
    "reschedule_person",
    "run_scheduler",
    "set_outcome_trade",
    "set_reminders_paused",
    "set_return_date",
    "tick",
    "trade_choices",
]
