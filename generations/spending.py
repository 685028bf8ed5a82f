"""Reads about money: what a user spent per key, provider, model and day in one usage period,
how much of each budget is used, and every usage row for the CSV export. Reads only.

The source is the user's completed generations: each holds its real cost once it is settled
(`cost_estimate`: the provider's own figure, or the catalogue price of the images that came
back), and a failed one costs nothing. Periods are the user's usage periods (a month from
`reset_date`, generations/quota.py), the ones budgets renew with; a period is named by the
calendar month it starts in (`2026-11`), which is unique since periods are a month long.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from bambi.dates import add_months, period_end
from byok.models import ApiConfiguration
from generations.costs import money
from generations.models import ImageGeneration
from tokens.models import ApiToken

ZERO = Decimal("0.0000")
MAX_PERIODS = 24  # how far back the month picker goes


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @property
    def slug(self) -> str:
        return self.start.strftime("%Y-%m")

    def days(self) -> list[date]:
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def usage_periods(user, *, now: datetime | None = None) -> list[Period]:
    """The user's usage periods, the running one first, back to the one they joined in
    (`created_at`), at most MAX_PERIODS."""
    now = now or timezone.now()
    end = period_end(user.reset_date, now)
    periods = []
    for back in range(MAX_PERIODS):
        period = Period(start=add_months(end, -back - 1), end=add_months(end, -back))
        periods.append(period)
        if period.start <= user.created_at:
            break
    return periods


def usage_period(user, slug: str | None) -> Period | None:
    """The period named `slug` (`YYYY-MM`), the running one when `slug` is empty; None when
    there is no such period for this user."""
    periods = usage_periods(user)
    if not slug:
        return periods[0]
    return next((p for p in periods if p.slug == slug), None)


@dataclass
class SpendLine:
    """Generations, images and spend of one group (a key, a provider, a model...)."""

    label: str
    provider: str = ""
    provider_slug: str = ""
    model: str = ""
    key_id: object = None
    token_id: object = None
    token_name: str = ""
    generations: int = 0
    images: int = 0
    spent: Decimal = ZERO

    def add(self, other: SpendLine) -> None:
        self.generations += other.generations
        self.images += other.images
        self.spent += other.spent


@dataclass
class Spending:
    period: Period
    lines: list[SpendLine]  # per key, provider and model
    by_key: list[SpendLine]
    by_provider: list[SpendLine]
    by_token: list[SpendLine]
    per_day: list[tuple[date, Decimal]]
    total: SpendLine = field(default_factory=lambda: SpendLine(label=""))


def _completed(user, period: Period):
    return ImageGeneration.objects.filter(
        user=user,
        status=ImageGeneration.Status.COMPLETED,
        created_at__gte=period.start,
        created_at__lt=period.end,
    )


def spending_for(user, period: Period, *, deleted_key_label: str = "") -> Spending:
    """The period's spending, grouped four ways (key, provider and model; key; provider; API
    token), and per day. Three queries, each one aggregate over the user's generations of the
    period (the keyset index's range)."""
    groups = (
        "configuration_id",
        "configuration__name",
        "provider__slug",
        "provider__name",
        "model__name",
        "api_token_id",
        "api_token__name",
    )
    rows = (
        _completed(user, period)
        .values(*groups)
        .annotate(generations=Count("id"), spent=Sum("cost_estimate"))
        .order_by()
    )
    images = {
        tuple(row[g] for g in groups): row["images"]
        for row in _completed(user, period)
        .filter(images__isnull=False)
        .values(*groups)
        .annotate(images=Count("images"))
        .order_by()
    }
    # One line per key, provider, model and token: merged below for each way of looking.
    detailed = [
        SpendLine(
            label=row["configuration__name"] or deleted_key_label,
            provider=row["provider__name"] or "",
            provider_slug=row["provider__slug"] or "",
            model=row["model__name"] or "",
            key_id=row["configuration_id"],
            token_id=row["api_token_id"],
            token_name=row["api_token__name"] or "",
            generations=row["generations"],
            images=images.get(tuple(row[g] for g in groups), 0),
            spent=money(row["spent"] or 0),
        )
        for row in rows
    ]
    merged: dict[tuple, SpendLine] = {}
    by_key: dict[object, SpendLine] = {}
    by_provider: dict[str, SpendLine] = {}
    by_token: dict[object, SpendLine] = {}
    total = SpendLine(label="")
    for line in detailed:
        merged.setdefault(
            (line.key_id, line.label, line.provider_slug, line.model),
            SpendLine(
                label=line.label,
                provider=line.provider,
                provider_slug=line.provider_slug,
                model=line.model,
                key_id=line.key_id,
            ),
        ).add(line)
        if line.token_id is not None:
            by_token.setdefault(
                line.token_id,
                SpendLine(label=line.token_name, token_id=line.token_id),
            ).add(line)
    lines = sorted(
        merged.values(), key=lambda line: (-line.spent, line.label, line.provider, line.model)
    )
    for line in lines:
        by_key.setdefault(line.key_id, SpendLine(label=line.label, key_id=line.key_id)).add(line)
        by_provider.setdefault(
            line.provider_slug,
            SpendLine(
                label=line.provider, provider=line.provider, provider_slug=line.provider_slug
            ),
        ).add(line)
        total.add(line)

    days: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for row in (
        _completed(user, period)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(spent=Sum("cost_estimate"))
        .order_by()
    ):
        days[row["day"]] += money(row["spent"] or 0)
    return Spending(
        period=period,
        lines=lines,
        by_key=sorted(by_key.values(), key=lambda line: (-line.spent, line.label)),
        by_provider=sorted(by_provider.values(), key=lambda line: (-line.spent, line.label)),
        by_token=sorted(by_token.values(), key=lambda line: (-line.spent, line.label)),
        per_day=[(day, days.get(day, ZERO)) for day in period.days()],
        total=total,
    )


@dataclass(frozen=True)
class BudgetUse:
    """One budget and how much of it the running period has used."""

    kind: str  # "key" or "token"
    id: object
    name: str
    budget: Decimal
    spent: Decimal

    @property
    def percent(self) -> int:
        if self.budget <= 0:
            return 100
        return min(100, int(self.spent * 100 / self.budget))

    @property
    def level(self) -> str:
        """ "ok", "warn" (80 % or more) or "full" (100 %)."""
        if self.spent >= self.budget:
            return "full"
        if self.spent * 100 >= self.budget * 80:
            return "warn"
        return "ok"


def budgets_for(user, *, configurations: list | None = None) -> list[BudgetUse]:
    """Every budget the user has set (keys, then working API tokens), with what the running
    period has used of it (the budgets' own counters: reservations of calls in flight count
    too). `configurations`: the user's keys when the caller has them (a query spared)."""
    end = period_end(user.reset_date, timezone.now())
    if configurations is None:
        configurations = list(
            ApiConfiguration.objects.filter(user=user, monthly_budget_usd__isnull=False)
        )
    tokens = ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, monthly_budget_usd__isnull=False
    )
    return [
        BudgetUse(
            kind="key",
            id=c.pk,
            name=c.name,
            budget=c.monthly_budget_usd,
            spent=c.spent_in(end),
        )
        for c in configurations
        if c.monthly_budget_usd is not None
    ] + [
        BudgetUse(
            kind="token",
            id=t.pk,
            name=t.name,
            budget=t.monthly_budget_usd,
            spent=t.spent_in(end),
        )
        for t in tokens
    ]


@dataclass(frozen=True)
class UsageRow:
    created_at: datetime
    key_name: str
    provider: str
    model: str
    images: int
    cost: Decimal | None
    generation_id: object


def usage_rows(user, period: Period | None, *, chunk: int = 1000) -> Iterator[UsageRow]:
    """Every completed generation of `period` (None: of all time), oldest first, read in
    keyset chunks so an export of any size holds `chunk` rows in memory at a time."""
    queryset = ImageGeneration.objects.filter(user=user, status=ImageGeneration.Status.COMPLETED)
    if period is not None:
        queryset = queryset.filter(created_at__gte=period.start, created_at__lt=period.end)
    queryset = (
        queryset.values(
            "id",
            "created_at",
            "configuration__name",
            "provider__name",
            "model__name",
            "cost_estimate",
        )
        .annotate(images=Count("images"))
        .order_by("created_at", "id")
    )
    after = None
    while True:
        page = queryset
        if after is not None:
            page = page.filter(Q(created_at__gt=after[0]) | Q(created_at=after[0], id__gt=after[1]))
        rows = list(page[:chunk])
        for row in rows:
            yield UsageRow(
                created_at=row["created_at"],
                key_name=row["configuration__name"] or "",
                provider=row["provider__name"] or "",
                model=row["model__name"] or "",
                images=row["images"],
                cost=row["cost_estimate"],
                generation_id=row["id"],
            )
        if len(rows) < chunk:
            return
        after = (rows[-1]["created_at"], rows[-1]["id"])
