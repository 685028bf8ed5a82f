"""The monthly generation quota: the one module that takes a slot (`quota_reserve`, before a
provider call) and gives one back (`quota_refund` when the call failed; `generations_sweep_pending`
for generations a dead worker left pending). Reads (`usage_for`) never write.

Why one UPDATE: the check ("is there room left?") and the increment must be one database step,
or two requests from the same user (on two app servers) can both see 49/50 and both pass. A
conditional `UPDATE ... WHERE usage_count < limit` is atomic on every backend: on PostgreSQL the
second UPDATE waits for the first one's row lock, then re-evaluates its WHERE and SET against the
row as the first one left it (READ COMMITTED's re-check), so exactly one of them wins the last slot.

The lazy monthly reset is folded into the same statement: when `reset_date` has passed, the SET
starts the counter again at 1 and moves `reset_date` on, and the WHERE lets the row through
whatever the old count was. Two requests that both see an expired period cannot both reset it:
the second one re-reads the row after the first commits, finds `reset_date` in the future and
takes the plain increment branch.

The same statement runs on SQLite (the `scripts/run` default; RETURNING since SQLite 3.35),
where the database serialises writers: the UPDATE takes the write lock, so the check and the
increment cannot interleave either. Raw SQL bypasses the ORM's conversions, so parameters go
through each field's `get_db_prep_value` (SQLite stores a UUID as 32 hex digits and a datetime
as naive UTC text) and the row read back through the backend's converters (aware datetimes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from bambi.dates import add_months, next_reset_after
from billing.plans import (
    FREE,
    PREMIUM,
    Plan,
    PlanLimitReached,
    complimentary_premium_active,
    plan_for,
    premium_subscription_exists,
)
from byok.models import ApiConfiguration
from generations.budgets import budgets_refund_reserved
from generations.models import ImageGeneration
from tokens.models import ApiToken

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reservation:
    """One reserved slot. `reset_date` identifies the period the slot was taken from, so a
    refund after the period rolled over does not eat into the new period."""

    user_id: object
    reset_date: datetime
    usage_count: int


@dataclass(frozen=True)
class Usage:
    """The user's usage as the dashboard and /api/usage/ show it (the lazy reset applied)."""

    plan: Plan
    used: int
    limit: int | None
    reset_date: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0
        return min(100, round(self.used * 100 / self.limit))

    @property
    def level(self) -> str:
        """ "ok", "warn" (at or past 80 %) or "full" (at the limit)."""
        if self.limit is None:
            return "ok"
        if self.used >= self.limit:
            return "full"
        if self.used * 100 >= self.limit * 80:
            return "warn"
        return "ok"


def usage_for(user: User, *, plan: Plan | None = None) -> Usage:
    """The user's usage for display; an expired period reads as 0 used. Writes nothing.

    A slot held by a generation a dead worker left pending is not counted: nothing will ever
    use it, and the sweep (the housekeeping command, or `quota_reserve` when the quota runs
    out) gives it back. Counting them is one probe of a near-empty partial index.
    """
    plan = plan or plan_for(user)
    now = timezone.now()
    used, reset_date = user.usage_count, user.reset_date
    if reset_date <= now:
        used, reset_date = 0, next_reset_after(reset_date, now)
    else:
        used = max(used - _abandoned_slots(user, period_start=add_months(reset_date, -1)), 0)
    return Usage(plan=plan, used=used, limit=plan.generations_per_period, reset_date=reset_date)


def _abandoned_slots(user: User, *, period_start: datetime) -> int:
    """Slots of this period held by generations that the sweep will fail and give back."""
    return ImageGeneration.objects.filter(
        user=user,
        status=ImageGeneration.Status.PENDING,
        created_at__lt=timezone.now() - pending_abandoned_after(),
        created_at__gt=period_start,
    ).count()


def quota_reserve(*, user: User, plan: Plan | None = None) -> Reservation:
    """Take one slot of the user's monthly quota, or raise PlanLimitReached.

    One conditional UPDATE ... RETURNING (see the module docstring): one round trip when
    there is room. Premium users have no limit but are still counted. Without `plan`, the
    plan is not read first: the UPDATE's WHERE lets the row through when the user is under
    the Free limit *or* has a subscription that grants Premium (`billing.plans`' own
    query, as an EXISTS), so working out the plan costs no round trip of its own. Must not
    run inside a long transaction: the row lock it takes is held until commit, and the
    provider call that follows can take a minute.
    """
    premium = None
    if plan is None:
        if complimentary_premium_active(user):
            plan = PREMIUM
        else:
            plan, premium = FREE, premium_subscription_exists(user.pk)
    limit = plan.generations_per_period
    # The new period is computed from the reset_date loaded with the request's user. The
    # UPDATE only takes the "new period" branch when the row still holds that date, so a
    # stale read (another request reset the period meanwhile) cannot move it to a wrong one:
    # the row is then skipped, read again, and the reservation tried once more.
    known_reset = user.reset_date
    swept = False
    for _attempt in range(3):
        now = timezone.now()
        row = _reserve_row(
            user.pk,
            limit=limit,
            premium=premium,
            now=now,
            known_reset=known_reset,
            new_reset=next_reset_after(known_reset, now),
        )
        if row is not None:
            user.usage_count, user.reset_date = row
            return Reservation(user_id=user.pk, reset_date=row[1], usage_count=row[0])
        fresh = User.objects.filter(pk=user.pk).values_list("usage_count", "reset_date").first()
        if fresh is None:
            raise PlanLimitReached(_("This account no longer exists."))
        user.usage_count, user.reset_date = fresh
        if fresh[1] == known_reset or fresh[1] > now:
            # The limit is reached, unless a slot is held by a generation a dead worker
            # abandoned: give those back (once per generation) and try again.
            if swept or not generations_sweep_pending(user=user):
                break
            swept = True
        known_reset = fresh[1]
    raise PlanLimitReached(_limit_reached_sentence(limit, user.reset_date))


def _limit_reached_sentence(limit: int | None, reset_date: datetime) -> str:
    from billing.services import billing_configured

    values = {"limit": limit, "date": date_format(reset_date, "DATE_FORMAT")}
    if billing_configured():
        return (
            _(
                "You have used all %(limit)s generations of your plan this month. They come "
                "back on %(date)s, or upgrade to Premium for unlimited generations."
            )
            % values
        )
    # Without Stripe there is nothing to upgrade to: no upsell.
    return (
        _(
            "You have used all %(limit)s generations of your plan this month. They come back "
            "on %(date)s."
        )
        % values
    )


def _reserve_row(pk, *, limit: int | None, premium=None, now, known_reset, new_reset):
    """The conditional increment; returns (usage_count, reset_date) after it, or None when
    the row was not updated (limit reached, or the period is not the one `known_reset` says).
    `premium`: an (EXISTS sql, params) pair that lifts the limit when true.

    Raw SQL for RETURNING: the ORM's update() cannot return the row, and reading it back is
    one more round trip on every generation. Every SET expression sees the row as it was.
    """
    qn = connection.ops.quote_name
    table = qn(User._meta.db_table)
    count = qn(_field("usage_count").column)
    reset = qn(_field("reset_date").column)
    key = qn(User._meta.pk.column)
    lifted = "" if premium is None else f" OR {premium[0]}"
    room = "" if limit is None else f" AND ({reset} <= %s OR {count} < %s{lifted})"
    sql = (
        f"UPDATE {table} SET "
        f"{count} = CASE WHEN {reset} <= %s THEN 1 ELSE {count} + 1 END, "
        f"{reset} = CASE WHEN {reset} <= %s THEN %s ELSE {reset} END "
        f"WHERE {key} = %s AND ({reset} > %s OR {reset} = %s){room} "
        f"RETURNING {count}, {reset}"
    )
    moment, new_reset, known_reset = (
        _to_db("reset_date", v) for v in (now, new_reset, known_reset)
    )
    params = [moment, moment, new_reset, _to_db("id", pk), moment, known_reset]
    if limit is not None:
        params += [moment, limit, *(premium[1] if premium is not None else ())]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return _from_db("usage_count", row[0]), _from_db("reset_date", row[1])


def quota_refund(*, reservation: Reservation, user: User | None = None) -> bool:
    """Give back a reserved slot (the provider call failed). False when nothing was given back:
    the period has rolled over since the reservation, so the slot is already gone."""
    qn = connection.ops.quote_name
    count = qn(_field("usage_count").column)
    reset = qn(_field("reset_date").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(User._meta.db_table)} SET {count} = {count} - 1 "
            f"WHERE {qn(User._meta.pk.column)} = %s AND {reset} = %s AND {count} > 0 "
            f"RETURNING {count}",
            [_to_db("id", reservation.user_id), _to_db("reset_date", reservation.reset_date)],
        )
        row = cursor.fetchone()
    if user is not None:
        user.usage_count = (
            _from_db("usage_count", row[0])
            if row is not None
            else User.objects.filter(pk=user.pk).values_list("usage_count", flat=True).first() or 0
        )
    return row is not None


def _field(name: str) -> Field:
    return User._meta.get_field(name)


def _to_db(name: str, value):
    """`value` as the database stores the field `name` (what the ORM would send)."""
    return _field(name).get_db_prep_value(value, connection)


def _from_db(name: str, value):
    """A raw column value of the field `name` as the ORM would return it (the backend's
    converters, then the field's: on SQLite, text becomes an aware datetime)."""
    field = _field(name)
    column = field.get_col(User._meta.db_table)
    for converter in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
        value = converter(value, column, connection)
    return value


def quota_refund_reserved_at(*, user_id, reserved_at: datetime) -> bool:
    """Give back the slot reserved at `reserved_at` when no Reservation is at hand (a
    generation abandoned by a worker that died). Only within the period it was taken from:
    once that period has ended, its slots went with it and the new period must not pay."""
    reset_date = User.objects.filter(pk=user_id).values_list("reset_date", flat=True).first()
    if reset_date is None or reserved_at <= add_months(reset_date, -1):
        return False
    # quota_refund matches on reset_date: a period reset in between makes this a no-op.
    return quota_refund(
        reservation=Reservation(user_id=user_id, reset_date=reset_date, usage_count=0)
    )


def _budgets_refund_reserved_at(*, user_id, reserved_at: datetime, subjects, amount) -> None:
    """Give back the budget reservation of a generation abandoned while pending (its
    `cost_estimate` is what was reserved), in the period it was reserved in only."""
    reset_date = User.objects.filter(pk=user_id).values_list("reset_date", flat=True).first()
    if reset_date is None or reserved_at <= add_months(reset_date, -1):
        return
    budgets_refund_reserved(subjects=subjects, amount=amount, period_end=reset_date)


def usage_reset_expired(*, now: datetime | None = None) -> int:
    """Start a new period for every user whose period has ended; returns how many.

    Safe to run at any time and twice: each row is reset with a conditional UPDATE on the
    reset_date read, so a request doing the lazy reset at the same moment wins or loses cleanly.
    """
    now = now or timezone.now()
    count = 0
    expired = User.objects.filter(reset_date__lte=now).values_list("pk", "reset_date")
    for pk, reset_date in expired.iterator(chunk_size=500):
        count += User.objects.filter(pk=pk, reset_date=reset_date).update(
            usage_count=0, reset_date=next_reset_after(reset_date, now)
        )
    return count


# --- generations abandoned by a dead worker ------------------------------------------------------

ABANDONED_MESSAGE = gettext_lazy(
    "Bambi stopped before the provider answered; this generation was not counted."
)


def pending_abandoned_after() -> timedelta:
    """How long a generation may stay pending before it is taken for abandoned.

    Well past anything a live request can take: the provider's read timeout (plus an image
    download of up to twice that) bounds a live call, so at least 10 minutes and 3× that.
    """
    read_timeout = float(getattr(settings, "PROVIDER_READ_TIMEOUT", 120))
    return max(timedelta(minutes=10), timedelta(seconds=3 * read_timeout + 60))


def generations_sweep_pending(*, user: User | None = None, now=None) -> int:
    """Fail the generations left `pending` by a worker killed during the provider call, and
    give each one's quota slot back exactly once; returns how many were swept.

    A crash never charges the user. Each generation is claimed with a
    conditional UPDATE (still pending?) in the same transaction as its refund, so two sweeps
    at once, or a sweep racing the request's own failure path (generations.services, which
    claims the same way), refund once. The refund goes to the period the slot was reserved
    in; if that period has ended there is nothing to give back. Idempotent; `user` limits it
    to one user (`quota_reserve` at the limit). A live request that somehow outlived the
    cut-off and then succeeds still records its images: the user keeps the slot refunded.
    """
    now = now or timezone.now()
    stale = ImageGeneration.objects.filter(
        status=ImageGeneration.Status.PENDING, created_at__lt=now - pending_abandoned_after()
    )
    if user is not None:
        stale = stale.filter(user=user)
    swept = 0
    # Stored in the language active now (the user's own when their request sweeps).
    message = str(ABANDONED_MESSAGE)
    for _batch in range(1000):  # bounded; each pass claims every row it read, or they left
        rows = list(
            stale.order_by("created_at").values_list(
                "pk",
                "user_id",
                "created_at",
                "configuration_id",
                "api_token_id",
                "cost_estimate",
            )[:200]
        )
        if not rows:
            break
        for pk, user_id, created_at, configuration_id, token_id, reserved in rows:
            with transaction.atomic():
                claimed = ImageGeneration.objects.filter(
                    pk=pk, status=ImageGeneration.Status.PENDING
                ).update(
                    status=ImageGeneration.Status.FAILED,
                    error_message=message,
                    cost_estimate=None,
                    updated_at=now,
                )
                if claimed:
                    quota_refund_reserved_at(user_id=user_id, reserved_at=created_at)
                    _budgets_refund_reserved_at(
                        user_id=user_id,
                        reserved_at=created_at,
                        subjects=[(ApiConfiguration, configuration_id), (ApiToken, token_id)],
                        amount=reserved,
                    )
            swept += claimed
    if swept:
        logger.warning("Swept %d generation(s) abandoned while pending", swept)
    return swept
