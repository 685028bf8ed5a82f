"""The usage page (/dashboard/usage/): spending per key, provider, model and day in one usage
period, the budgets, and the CSV export of every usage row. The reads are in spending.py."""

from __future__ import annotations

import csv
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from generations.spending import (
    Period,
    budgets_for,
    spending_for,
    usage_period,
    usage_periods,
    usage_rows,
)

CHART_HEIGHT = 160  # the bars' area, in the SVG's own units
BAR_STEP = 20
BAR_WIDTH = 14


def period_label(period: Period) -> str:
    return _("%(start)s to %(end)s") % {
        "start": date_format(period.start, "DATE_FORMAT"),
        "end": date_format(period.end, "DATE_FORMAT"),
    }


def spend_chart(per_day: list) -> dict:
    """The bars of the spend-per-day chart, computed here so the template only places them:
    each day's bar height is its spend over the period's highest day."""
    highest = max((spent for _day, spent in per_day), default=Decimal("0"))
    bars = []
    for index, (day, spent) in enumerate(per_day):
        height = 0 if not highest else round(float(spent / highest) * CHART_HEIGHT, 1)
        bars.append(
            {
                "day": day,
                "spent": spent,
                "x": index * BAR_STEP + (BAR_STEP - BAR_WIDTH) // 2,
                "y": round(CHART_HEIGHT - height, 1),
                "height": height,
                # Day numbers under every 5th bar and the first: legible at phone width.
                "label": index == 0 or (index + 1) % 5 == 0,
                "label_x": index * BAR_STEP + BAR_STEP // 2,
            }
        )
    return {
        "bars": bars,
        "width": max(len(per_day), 1) * BAR_STEP,
        "height": CHART_HEIGHT,
        "label_y": CHART_HEIGHT + 16,
        "view_height": CHART_HEIGHT + 22,
        "highest": highest,
        "bar_width": BAR_WIDTH,
    }


@login_required
@require_GET
def usage(request: HttpRequest) -> HttpResponse:
    user = request.user
    periods = usage_periods(user)
    period = usage_period(user, request.GET.get("month"))
    if period is None:
        raise Http404
    spending = spending_for(user, period, deleted_key_label=_("Deleted key"))
    current = period == periods[0]
    return render(
        request,
        "generations/usage.html",
        {
            "active_nav": "usage",
            "periods": [
                {"slug": p.slug, "label": period_label(p), "selected": p == period} for p in periods
            ],
            "period": period,
            "period_name": period_label(period),
            "current": current,
            "spending": spending,
            "chart": spend_chart(spending.per_day),
            "budgets": budgets_for(user) if current else [],
        },
    )


class _Echo:
    """csv.writer's file: each row written is handed back as the text to stream."""

    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    """A spreadsheet must not run a name as a formula (CSV injection): text starting with
    = + - @ or a control character is prefixed with an apostrophe."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


@login_required
@require_GET
def usage_export(request: HttpRequest) -> StreamingHttpResponse:
    """Every completed generation of the chosen period (`?month=YYYY-MM`; `all` for every
    period) as CSV, streamed: an export of any size holds one chunk of rows in memory."""
    user = request.user
    month = request.GET.get("month") or ""
    period = None if month == "all" else usage_period(user, month)
    if period is None and month != "all":
        raise Http404
    writer = csv.writer(_Echo())
    header = ["date", "key_name", "provider", "model", "images", "cost_usd", "generation_id"]

    def lines():
        yield writer.writerow(header)
        for row in usage_rows(user, period):
            yield writer.writerow(
                [
                    row.created_at.isoformat(),
                    _cell(row.key_name),
                    _cell(row.provider),
                    _cell(row.model),
                    row.images,
                    "" if row.cost is None else f"{row.cost:.4f}",
                    str(row.generation_id),
                ]
            )

    name = f"bambi-usage-{period.slug if period else 'all'}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
