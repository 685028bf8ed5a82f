"""Month arithmetic: the one helper behind every monthly period (quota resets, usage rows)."""

from __future__ import annotations

import calendar
from datetime import datetime


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (or earlier when negative). A day
    the target month lacks becomes its last day: 31 January + 1 month = 28/29 February."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def next_reset_after(reset_date: datetime, now: datetime) -> datetime:
    """The first monthly anniversary of `reset_date` strictly after `now`.

    Counted from the original date (not step by step), so a period anchored on the 31st comes
    back to the 31st after a short month instead of drifting to the 28th.
    """
    months = 1
    candidate = add_months(reset_date, months)
    while candidate <= now:
        months += 1
        candidate = add_months(reset_date, months)
    return candidate


def period_end(reset_date: datetime, now: datetime) -> datetime:
    """The end of the usage period running at `now` for a user whose stored `reset_date` it
    is: that date while it is ahead, else the next anniversary (the lazy reset, read only)."""
    return reset_date if reset_date > now else next_reset_after(reset_date, now)
