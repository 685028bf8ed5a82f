"""What a finished provider call cost, and the tokens it used, as generations.services records
them on the generation and its usage row and settles against the budgets."""

from __future__ import annotations

from decimal import Decimal

from byok.catalogue import cost_from_usage, estimate_cost


def call_cost(model, options, output, returned: int, inputs: int) -> tuple[Decimal | None, str]:
    """The cost of a call and where it comes from: the provider's own figure (xAI), else the
    tokens its answer reports at the model's token prices (gpt-image, Gemini), else the
    catalogue's prices for the images that came back and the inputs sent (both estimates)."""
    if output.cost_usd is not None:
        return output.cost_usd, "reported"
    capabilities = model.capabilities or {}
    from_tokens = cost_from_usage(capabilities, output.usage)
    if from_tokens is not None:
        return from_tokens, "tokens"
    estimate = estimate_cost(capabilities, {**options, "count": returned}, inputs=inputs)
    return estimate, "catalogue" if estimate is not None else ""


def money(value) -> Decimal | None:
    """An amount as 4-decimal dollars (None stays None), whatever it came as: a Decimal, or
    a float when SQLite summed it (through str, so 0.1 stays 0.1)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def tokens_used(usage: dict) -> int | None:
    if not isinstance(usage, dict):
        return None
    total = usage.get("total_tokens") or usage.get("totalTokenCount")
    return int(total) if isinstance(total, int) and total >= 0 else None
