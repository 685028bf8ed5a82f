"""What the Keys page tells a newcomer about each provider: where to get a key, what one looks
like, and what images cost (from the catalogue's prices, so an operator's price change shows
here too). Providers added by operators without an entry here get the cost line only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bambi.templatetags.bambi_format import usd
from byok.models import Provider


@dataclass(frozen=True)
class KeySource:
    url: str
    where: str | Promise  # the link's text
    looks_like: str | Promise
    note: str | Promise = ""


SOURCES = {
    "openai": KeySource(
        url="https://platform.openai.com/api-keys",
        where=gettext_lazy("Create a key on the OpenAI platform (API keys)"),
        looks_like=gettext_lazy(
            "An OpenAI key starts with “sk-” (project keys with “sk-proj-”) and is long."
        ),
        note=gettext_lazy("OpenAI bills the images to the credit of the key’s organization."),
    ),
    "google": KeySource(
        url="https://aistudio.google.com/apikey",
        where=gettext_lazy("Create a key in Google AI Studio"),
        looks_like=gettext_lazy("A Google key starts with “AIza” and is 39 characters long."),
        note=gettext_lazy(
            "Imagen needs a Google Cloud project with billing turned on (the paid tier)."
        ),
    ),
    "xai": KeySource(
        url="https://console.x.ai",
        where=gettext_lazy("Create a key in the xAI console"),
        looks_like=gettext_lazy("An xAI key starts with “xai-”."),
        note=gettext_lazy("xAI takes the cost from the credits of the key’s team."),
    ),
}


def _prices(capabilities: dict) -> list[Decimal]:
    price = capabilities.get("price_per_image")
    values = price.values() if isinstance(price, dict) else [price]
    found = []
    for value in values:
        try:
            found.append(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            continue
    return found


def cost_sentence(provider: Provider, models) -> str:
    """ "Images cost from $0.005 to $0.133 each, billed by OpenAI on your key." """
    prices = [p for model in models for p in _prices(model.capabilities or {})]
    if not prices:
        return _("%(provider)s bills the images on your key.") % {"provider": provider.name}
    low, high = min(prices), max(prices)
    if low == high:
        return _("Images cost %(price)s each, billed by %(provider)s on your key.") % {
            "price": usd(low),
            "provider": provider.name,
        }
    return _("Images cost from %(low)s to %(high)s each, billed by %(provider)s on your key.") % {
        "low": usd(low),
        "high": usd(high),
        "provider": provider.name,
    }


def key_guides(providers) -> list[dict]:
    """One guide per provider (each with `active_models` prefetched, see
    byok.selectors.active_providers)."""
    guides = []
    for provider in providers:
        source = SOURCES.get(provider.slug)
        guides.append(
            {
                "provider": provider,
                "url": source.url if source else provider.website_url,
                "where": source.where if source else provider.website_url,
                "looks_like": source.looks_like if source else "",
                "note": source.note if source else "",
                "cost": cost_sentence(provider, getattr(provider, "active_models", [])),
                "busy_label": _("Checking the key with %(provider)s…")
                % {"provider": provider.name},
            }
        )
    return guides
