"""Numbers the way the reader's language writes them: prices in US dollars (what providers
bill) and durations. `{% load bambi_format %}` then `{{ cost|usd }}`, `{{ ms|seconds }}`."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


def usd(value) -> str:
    """`$0.07` in English, `0,07 $` in French; two decimals, a third when the price needs it
    (image prices go below a cent: $0.005). Empty for no value."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return ""
    places = 2 if amount == amount.quantize(Decimal("0.01")) else 3
    digits = number_format(amount, decimal_pos=places, use_l10n=True, force_grouping=True)
    # French writes "0,07 $": the translation places the sign.
    return _("$%(amount)s") % {"amount": digits}


def seconds(milliseconds) -> str:
    """A duration in milliseconds as seconds with one decimal: `7.0 s` / `7,0 s`."""
    if milliseconds is None or milliseconds == "":
        return ""
    value = Decimal(int(milliseconds)) / 1000
    return _("%(seconds)s s") % {"seconds": number_format(value, decimal_pos=1, use_l10n=True)}


register.filter("usd", usd)
register.filter("seconds", seconds)
