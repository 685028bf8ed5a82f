"""The generate page: what it shows next to the form (keys, models newest first, options in
words, the estimate, the latest results) and what generate.js reads (capabilities, words,
sentences, API URLs)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from byok.catalogue import estimate_cost
from byok.models import ApiConfiguration, ImageModel
from generations import labels
from generations.cards import SENTINEL_ID, rendered_generations
from generations.forms import EDIT_ONLY, GENERATION_ONLY, OPTION_CAPABILITIES, GenerationForm
from generations.quota import usage_for
from generations.references import edit_script_data, references_for, takes_inputs
from generations.selectors import (
    generate_defaults,
    latest_generations,
    models_newest_first,
)

GENERATE_HISTORY_SIZE = 6


def _script_strings() -> dict:
    """Sentences generate.js and gallery.js show, in the page's language."""
    return {
        "elapsed": _("%(seconds)s s"),
        "generating": ngettext("Generating %(count)s image…", "Generating %(count)s images…", 1),
        "generatingMany": ngettext(
            "Generating %(count)s image…", "Generating %(count)s images…", 2
        ),
        "readyOne": ngettext("%(count)s image is ready.", "%(count)s images are ready.", 1),
        "readyMany": ngettext("%(count)s image is ready.", "%(count)s images are ready.", 2),
        "notMade": _("Not made"),
        "blocked": _("Blocked by the provider’s safety filter (not charged)."),
        "network": _(
            "Bambi could not be reached. Check your connection; nothing was charged if the "
            "request did not arrive."
        ),
        "unexpected": _("Something went wrong on our side (error %(status)s)."),
        "confirmDelete": _("Delete this image? This cannot be undone."),
        "confirmDeleteMany": _(
            "Delete this generation and its %(count)s images? This cannot be undone."
        ),
        "deleted": _("Deleted."),
        "reused": _("The settings of this image are in the form. Change the prompt and generate."),
        "seePlans": _("See the Premium plan"),
        "duration": _("Duration"),
        "estimate": _("Estimated cost"),
        "sameAsImage": _("Same as the first image"),
    }


def _option_choices(name: str, values: list) -> list[dict]:
    return [{"value": value, "label": labels.choice_label(name, value)} for value in values]


def generate_context(request: HttpRequest, form: GenerationForm) -> dict:
    """What the generate page needs: the user's usable keys, the models they can drive
    (newest first), the capabilities and words that generate.js reads, the selected key and
    model, usage, the estimate and the latest results."""
    user = request.user
    configurations = list(
        ApiConfiguration.objects.filter(user=user, is_valid=True, provider__is_active=True)
        .select_related("provider")
        .order_by("-created_at")
    )
    provider_ids = {c.provider_id for c in configurations}
    models = list(
        ImageModel.objects.filter(provider_id__in=provider_ids, is_active=True).select_related(
            "provider"
        )
    )
    models = sorted(models_newest_first(models), key=lambda m: m.provider.name)
    source = form.data if form.is_bound else form.initial
    latest = latest_generations(user=user, limit=GENERATE_HISTORY_SIZE)
    default_config, default_model = generate_defaults(
        user=user,
        configurations=configurations,
        models=models,
        last=(
            {"configuration_id": latest[0].configuration_id, "model_id": latest[0].model_id}
            if latest
            else {}
        ),
    )
    selected_config = next(
        (c for c in configurations if str(c.pk) == str(source.get("configuration") or "")),
        default_config,
    )
    # An edit ("Edit" on an image): only the models that take that many input images.
    references = references_for(user=user, source=source)
    if references:
        models_shown = [m for m in models if takes_inputs(m, len(references))]
        if selected_config and not any(
            m.provider_id == selected_config.provider_id for m in models_shown
        ):
            selected_config = next(
                (
                    c
                    for c in configurations
                    if any(m.provider_id == c.provider_id for m in models_shown)
                ),
                selected_config,
            )
    else:
        models_shown = models
    usable_models = [
        m for m in models_shown if selected_config and m.provider_id == selected_config.provider_id
    ]
    selected_model = next(
        (m for m in usable_models if str(m.pk) == str(source.get("model") or "")),
        default_model if default_model in usable_models else None,
    ) or (usable_models[0] if usable_models else None)
    capabilities = selected_model.capabilities if selected_model else {}
    defaults = capabilities.get("defaults") or {}
    options = []
    for field, capability in OPTION_CAPABILITIES.items():
        choices = capabilities.get(capability) or []
        # Options of one kind of call only (input fidelity on edits, moderation on new images).
        if field in (GENERATION_ONLY if references else EDIT_ONLY):
            choices = []
        options.append(
            {
                "name": field,
                "label": labels.SETTING_NAMES.get(field, field),
                "choices": _option_choices(field, choices),
                "value": source.get(field) or defaults.get(field) or "",
                "errors": form.errors.get(field) if form.is_bound else None,
            }
        )
    count = source.get("count") or 1
    try:
        count = max(int(count), 1)
    except (TypeError, ValueError):
        count = 1
    estimate = (
        estimate_cost(capabilities, {"count": count, "quality": source.get("quality")})
        if selected_model
        else None
    )
    catalogue = {
        "configurations": {str(c.pk): str(c.provider_id) for c in configurations},
        "models": {
            str(m.pk): {
                "provider": str(m.provider_id),
                "name": m.name,
                "model_id": m.model_id,
                "shutdown_notice": shutdown_notice(m.capabilities or {}),
                "capabilities": m.capabilities,
            }
            for m in models
        },
        "labels": labels.labels_for_script(),
        "strings": _script_strings(),
        "urls": {
            "generations": reverse("api:generations"),
            "generation": reverse("api:generation", args=[SENTINEL_ID]),
            "sentinel": str(SENTINEL_ID),
            "billing": reverse("billing") if _billing_on() else "",
        },
    }
    history = rendered_generations(latest, user=user, kind="run")
    return {
        "form": form,
        "configurations": configurations,
        "models": models,
        "selected_config": selected_config,
        "selected_model": selected_model,
        "max_images": int(capabilities.get("max_images") or 1) if selected_model else 1,
        # gpt-image's compression (0-100) of JPEG and WebP output; generate.js shows it only
        # for those formats.
        "compression": {
            "shown": capabilities.get("output_compression") is True,
            "value": source.get("output_compression") or "",
            "errors": form.errors.get("output_compression") if form.is_bound else None,
        },
        "count": count,
        "options": options,
        "estimate": estimate,
        "catalogue": catalogue,
        "usage": usage_for(user),
        "history": history,
        "references": references,
        "shutdown_notice": shutdown_notice(capabilities),
        "models_shown": {m.pk for m in models_shown},
        "edit_data": edit_script_data(references),
        "active_nav": "generate",
    }


def shutdown_notice(capabilities: dict) -> str:
    """The shutdown the provider announced for a model (capabilities `shutdown_date`, ISO), in
    a sentence; "" when none. Said on the page, never acted on: operators switch a model off
    in the admin."""
    try:
        when = date.fromisoformat(str(capabilities.get("shutdown_date") or ""))
    except ValueError:
        return ""
    return _("The provider announced this model’s shutdown for %(date)s.") % {
        "date": date_format(when, "DATE_FORMAT")
    }


def _billing_on() -> bool:
    from billing.services import billing_configured

    return billing_configured()
