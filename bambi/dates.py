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
