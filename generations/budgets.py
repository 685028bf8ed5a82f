"""Monthly budgets in US dollars: the one module that reserves a generation's estimated cost
against the budgets that apply to it (the stored key's; the API token's), settles it to the
real cost after the provider call, and gives it back when the call failed.

Why one conditional UPDATE per budget, inside the quota's transaction: "is there room for this
estimate?" and "count it" must be one database step, or two requests on two app servers can
both see $4.83 of $5.00 spent and both pass with $0.17 each. The UPDATE's WHERE says "the
estimate fits" and its SET adds it; on PostgreSQL a second UPDATE of the same row waits for
the first one's lock and re-evaluates its WHERE against the row the first one left (READ
COMMITTED's re-check), on SQLite the database serialises writers. `generation_run` runs the
quota's UPDATE and these in one transaction, so a generation refused by a budget has not taken
a quota slot either, and one refused by the quota has reserved nothing.

Periods: a budget renews with the user's usage period (generations/quota.py). Each budgeted row
keeps what it spent in the period ending at `budget_period_end`; a reservation in a later
period starts the counter again at its own estimate. A settlement or refund names the period it
reserved in, and changes nothing once that period has ended: the new period never pays back
the old one's money, nor is it charged for it.

Amounts are compared in whole ten-thousandths of a dollar (`ROUND(x * 10000)`): exact on
PostgreSQL's numeric and on SQLite, which does decimal arithmetic in binary floating point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Model
from django.utils.translation import gettext as _

from bambi.budgets import MonthlyBudget
from billing.plans import PlanLimitReached
from generations.costs import money

ZERO = Decimal("0")
UNIT = Decimal("0.0001")


class BudgetReached(PlanLimitReached):
    """A generation whose estimated cost does not fit a monthly budget (403, nothing done).

    A PlanLimitReached: every caller that answers a plan's limit answers this one the same way.
    """


@dataclass(frozen=True)
class BudgetHold:
    """An amount reserved against one budgeted row, in the period ending at `period_end`."""

    model: type[MonthlyBudget]
    pk: object
    period_end: datetime
    amount: Decimal
    # Whether the row had a budget when the amount was reserved: only those can need an
    # alert after the generation (generations.budget_alerts reads no other row).
    budgeted: bool = True


def budgets_reserve(
    *, subjects: list[MonthlyBudget | None], estimate: Decimal | None, period_end: datetime
) -> list[BudgetHold]:
    """Reserve `estimate` against each of `subjects` (rows with a budget or not: spending is
    counted on every one, so a budget set in the middle of a month knows what was spent),
    in the period ending at `period_end`. Raises BudgetReached for the first that has no room;
    the caller's transaction then undoes the reservations already made. Must run inside a
    transaction (generation_run's, with the quota's reservation).

    An unknown estimate (a model without a catalogue price) reserves nothing, and is refused
    only by a budget that is already used up: a budget of $0 lets nothing through.
    """
    amount = money(estimate or ZERO)
    holds = []
    for subject in subjects:
        if subject is None:
            continue
        row = _reserve_row(type(subject), subject.pk, amount=amount, period_end=period_end)
        if row is None:
            raise BudgetReached(_refusal_sentence(type(subject), subject.pk, amount, period_end))
        charged, budgeted = row
        holds.append(
            BudgetHold(
                model=type(subject),
                pk=subject.pk,
                period_end=charged,
                amount=amount,
                budgeted=budgeted,
            )
        )
    return holds


def _reserve_row(model: type[Model], pk, *, amount: Decimal, period_end: datetime):
    """The conditional add; returns (the period it was charged to, whether the row has a
    budget), or None when the estimate does not fit the row's budget.

    A row still on an earlier period starts this one at `amount`. A row already on a *later*
    period (another request of the user rolled it over between this one's quota reservation
    and now) is charged in that period: it is the one the money is spent in.
    """
    t = _Table(model)
    old = f"({t.period} IS NULL OR {t.period} < %s)"
    spent_now = f"(CASE WHEN {old} THEN 0 ELSE {t.spent} END)"
    sql = (
        f"UPDATE {t.table} SET "
        f"{t.spent} = CASE WHEN {old} THEN %s ELSE {t.spent} + %s END, "
        f"{t.period} = CASE WHEN {old} THEN %s ELSE {t.period} END "
        f"WHERE {t.pk} = %s AND ({t.budget} IS NULL OR ("
        f"ROUND(({spent_now} + %s) * 10000) <= ROUND({t.budget} * 10000) "
        f"AND (%s = 1 OR ROUND({spent_now} * 10000) < ROUND({t.budget} * 10000)))) "
        f"RETURNING {t.period}, {t.budget}"
    )
    period = t.to_db("budget_period_end", period_end)
    params = [
        period,
        amount,
        amount,
        period,
        period,
        t.to_db("id", pk),
        period,
        amount,
        # A flag, not the amount: SQLite compares a text parameter above any number.
        1 if amount > 0 else 0,
        period,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return t.from_db("budget_period_end", row[0]), row[1] is not None


def _refusal_sentence(model: type[MonthlyBudget], pk, amount: Decimal, period_end) -> str:
    from bambi.templatetags.bambi_format import usd

    row = model.objects.filter(pk=pk).first()
    budget = row.monthly_budget_usd if row is not None else ZERO
    spent = row.spent_in(period_end) if row is not None else ZERO
    values = {"budget": usd(budget), "spent": usd(spent), "estimate": usd(amount)}
    if model._meta.label_lower == "byok.apiconfiguration":
        return (
            _(
                "This key's monthly budget of %(budget)s is reached: %(spent)s spent, this "
                "generation is estimated at %(estimate)s. Raise it on the keys page."
            )
            % values
        )
    return (
        _(
            "This token's monthly budget of %(budget)s is reached: %(spent)s spent, this "
            "generation is estimated at %(estimate)s. Raise it on the tokens page."
        )
        % values
    )


def budgets_settle(*, holds: list[BudgetHold], cost: Decimal | None) -> None:
    """Replace each reservation by the real cost (the provider's own figure, or the catalogue
    price of the images that came back): the difference goes back, or is added when the real
    cost is higher (the money is spent either way). Only in the period it was reserved in."""
    real = money(cost if cost is not None else ZERO)
    for hold in holds:
        _adjust(hold, real - hold.amount)


def budgets_refund(*, holds: list[BudgetHold]) -> None:
    """Give back everything reserved (the provider call failed, nothing was spent)."""
    for hold in holds:
        _adjust(hold, -hold.amount)


def budgets_refund_reserved(
    *, subjects: list[tuple[type[MonthlyBudget], object]], amount: Decimal | None, period_end
) -> None:
    """Give back `amount` reserved in the period ending at `period_end` when no BudgetHold is
    at hand (a generation a dead worker left pending; see quota.generations_sweep_pending)."""
    for model, pk in subjects:
        if pk is not None:
            _adjust(
                BudgetHold(model=model, pk=pk, period_end=period_end, amount=money(amount or ZERO)),
                -money(amount or ZERO),
            )


def _adjust(hold: BudgetHold, delta: Decimal) -> None:
    if not delta:
        return
    t = _Table(hold.model)
    # Never below zero: rounding on SQLite could leave -0.00000001 after a full refund.
    sql = (
        f"UPDATE {t.table} SET {t.spent} = CASE WHEN {t.spent} + %s < 0 THEN 0 "
        f"ELSE {t.spent} + %s END WHERE {t.pk} = %s AND {t.period} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [delta, delta, t.to_db("id", hold.pk), t.to_db("budget_period_end", hold.period_end)],
        )


class _Table:
    """Quoted names of a budgeted model's table and columns, and the ORM's conversions for
    raw SQL (see generations/quota.py: SQLite stores datetimes and UUIDs its own way)."""

    def __init__(self, model: type[Model]):
        qn = connection.ops.quote_name
        self.model = model
        self.table = qn(model._meta.db_table)
        self.pk = qn(model._meta.pk.column)
        self.budget = qn(model._meta.get_field("monthly_budget_usd").column)
        self.spent = qn(model._meta.get_field("budget_spent_usd").column)
        self.period = qn(model._meta.get_field("budget_period_end").column)

    def to_db(self, name: str, value):
        field = self.model._meta.pk if name == "id" else self.model._meta.get_field(name)
        return field.get_db_prep_value(value, connection)

    def from_db(self, name: str, value):
        field = self.model._meta.get_field(name)
        column = field.get_col(self.model._meta.db_table)
        for converter in connection.ops.get_db_converters(column) + field.get_db_converters(
            connection
        ):
            value = converter(value, column, connection)
        return value
