"""The columns a monthly budget needs, shared by every row that can carry one (a stored key;
an API token): an abstract model, so each app's table holds its own budget and no join is
needed when a generation reserves against it (generations/budgets.py does the reserving).

Money is in US dollars, the providers' currency, kept to 4 decimal places (image prices go
below a cent). `budget_spent_usd` belongs to the usage period that ends at
`budget_period_end` (the user's `reset_date` when it was charged): a row whose period has
ended reads as nothing spent, and the next reservation starts the new period at its own
estimate. Nothing sweeps these rows at the turn of a month.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _


class MonthlyBudget(models.Model):
    monthly_budget_usd = models.DecimalField(
        _("monthly budget (USD)"),
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Empty: no budget. Generations that would go past it are refused."),
    )
    budget_spent_usd = models.DecimalField(
        _("spent this period (USD)"),
        max_digits=12,
        decimal_places=4,
        default=Decimal("0"),
        help_text=_("Reserved and settled costs of the period ending at the date below."),
    )
    budget_period_end = models.DateTimeField(_("budget period ends"), null=True, blank=True)
    # The highest alert (80 or 100 %) already sent for the period ending at
    # `budget_alerted_period`: one e-mail per budget, level and period.
    budget_alerted_percent = models.PositiveSmallIntegerField(default=0, editable=False)
    budget_alerted_period = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def spent_in(self, period_end) -> Decimal:
        """What this row has spent in the period ending at `period_end` (the user's current
        `reset_date`): nothing when its counter belongs to an earlier period."""
        if self.budget_period_end is None or self.budget_period_end != period_end:
            return Decimal("0")
        return self.budget_spent_usd


# --- the form field the key and token forms share ------------------------------------------------

BUDGET_MAX = Decimal("999999.9999")  # what the column holds (10 digits, 4 of them decimals)
BUDGET_PLACES = 4


class BudgetField(forms.CharField):
    """A monthly budget in US dollars: empty = no budget; otherwise an amount ≥ 0 with at most
    4 decimal places (image prices go below a cent). Cleans to a Decimal or None. Accepts the
    comma French readers type (12,50)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Monthly budget (USD)"))
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            _(
                "Generations that would take this key past it in a month are refused before "
                "the provider is called. Leave empty for no budget."
            ),
        )
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "5.00"})
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        text = text.strip().lstrip("$").strip().replace(",", ".")
        try:
            amount = Decimal(text) if len(text) <= 32 else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            raise forms.ValidationError(
                _("Enter the budget as an amount in US dollars, e.g. 5 or 12.50."),
                code="invalid",
            )
        if amount < 0:
            raise forms.ValidationError(
                _("A budget cannot be negative; leave it empty for no budget."), code="negative"
            )
        if -amount.as_tuple().exponent > BUDGET_PLACES and amount != amount.quantize(
            Decimal(1).scaleb(-BUDGET_PLACES)
        ):
            raise forms.ValidationError(
                _("Give the budget with at most %(places)s decimal places.")
                % {"places": BUDGET_PLACES},
                code="places",
            )
        if amount > BUDGET_MAX:
            from bambi.templatetags.bambi_format import usd

            raise forms.ValidationError(
                _("A budget cannot be more than %(max)s.") % {"max": usd(Decimal("999999.99"))},
                code="too_large",
            )
        return amount.quantize(Decimal(1).scaleb(-BUDGET_PLACES))
