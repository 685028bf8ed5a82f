"""What a generation looks like on a dashboard page: its card data (URLs, words, dates) and
its rendered cards (gallery tile, result row), kept in the cache."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from bambi.templatetags.bambi_format import seconds, usd
from generations import labels
from generations.forms import OPTION_CAPABILITIES
from generations.models import Image, ImageGeneration

# The options a generation's settings are read back from (the "use these settings again" link).
FORM_OPTION_FIELDS = ["count", *OPTION_CAPABILITIES]

# --- what a generation looks like on a page ------------------------------------------------------

# What generations.cards.with_card_data reads of a generation.
CARD_FIELDS = (
    "id",
    "user_id",
    "configuration_id",
    "model_id",
    "provider_id",
    "parent_id",
    "prompt",
    "parameters",
    "status",
    "error_message",
    "cost_estimate",
    "duration_ms",
    "images_filtered",
    "created_at",
    "updated_at",
)


def generations_for_cards(*, user, pks) -> QuerySet[ImageGeneration]:
    """The user's generations `pks` with what their cards show: model,
    provider and images; not the parent row nor an edit's inputs, which no card shows."""
    return (
        ImageGeneration.objects.filter(user=user, pk__in=pks)
        .select_related("model", "provider")
        # Only the columns the cards show: not the model's capabilities (a JSON document
        # decoded per row) nor the images' paths.
        .only(*CARD_FIELDS, "model__name", "provider__name")
        .prefetch_related(
            Prefetch(
                "images",
                queryset=Image.objects.order_by("index").only(
                    "id", "generation_id", "index", "width", "height", "format"
                ),
            )
        )
    )


def rerun_url(generation: ImageGeneration, generate_url: str = "") -> str:
    """The generate form prefilled with this generation's prompt and settings
    (`generate_url`: reverse("generate"), when the caller has it)."""
    query = {"prompt": generation.prompt}
    if generation.configuration_id:
        query["config"] = str(generation.configuration_id)
    if generation.model_id:
        query["model"] = str(generation.model_id)
    for name in FORM_OPTION_FIELDS:
        value = (generation.parameters or {}).get(name)
        if value not in (None, ""):
            query[name] = str(value)
    return (generate_url or reverse("generate")) + "?" + urlencode(query)


SENTINEL_ID = uuid.UUID(int=0)
_BADGES = {"completed": "ok", "failed": "bad"}


def _url_maker(name: str):
    """reverse() once, then fill in each id: a gallery page needs ~100 of these URLs and
    reverse() per URL was a third of the page's rendering time (bench/pages.py)."""
    head, tail = reverse(name, args=[SENTINEL_ID]).split(str(SENTINEL_ID))
    return lambda pk: f"{head}{pk}{tail}"


def with_card_data(generations):
    """Attach what the tiles and result rows show (`_gallery_tile.html`, `_run.html`),
    computed here once rather than with {% url %} and filters per tile and per image.
    Returns the same list."""
    detail_url = _url_maker("generation_detail")
    generate_url = reverse("generate")
    edit_url = generate_url + "?edit="
    file_url = _url_maker("image_file")
    thumbnail_url = _url_maker("image_thumbnail")
    status_labels = {value: str(label) for value, label in ImageGeneration.Status.choices}
    for generation in generations:
        parameters = generation.parameters or {}
        generation.rerun_url = rerun_url(generation, generate_url)
        generation.detail_url = detail_url(generation.pk)
        generation.prompt_short = _shorten(generation.prompt, 120)
        generation.prompt_alt = _shorten(generation.prompt, 80)
        generation.badge = _BADGES.get(generation.status, "warn")
        generation.status_label = status_labels.get(generation.status, generation.status)
        local = timezone.localtime(generation.created_at)
        generation.created_iso = local.isoformat()
        generation.created_display = date_format(local, "DATETIME_FORMAT")
        generation.model_name = generation.model.name if generation.model else ""
        generation.settings_words = labels.settings_summary(parameters)
        generation.duration_display = (
            labels.setting_line_text(_("Duration"), seconds(generation.duration_ms))
            if generation.duration_ms
            else ""
        )
        generation.cost_display = (
            labels.setting_line_text(_("Estimated cost"), usd(generation.cost_estimate))
            if generation.cost_estimate is not None
            else ""
        )
        generation.error_short = _shorten(generation.error_message or "", 140)
        images = list(generation.images.all())
        generation.notice = generation.filtered_notice(len(images))
        generation.blocked_slots = range(generation.images_filtered or 0)
        generation.card_images = [
            {
                "id": image_id,
                "file_url": file_url(image_id),
                "download_url": file_url(image_id) + "?download=1",
                "thumbnail_url": thumbnail_url(image_id),
                "edit_url": edit_url + image_id,
                "width": image.width,
                "height": image.height,
                "format": (image.format or "").upper(),
            }
            for image, image_id in ((image, str(image.pk)) for image in images)
        ]
        meta = [m for m in (generation.model_name, generation.created_display) if m]
        generation.lightbox_json = json.dumps(
            {
                "id": str(generation.pk),
                "prompt": generation.prompt,
                "meta": " · ".join(meta),
                "settings": " · ".join(generation.settings_words),
                "detail": generation.detail_url,
                "rerun": generation.rerun_url,
                # An edit: the version it was made from (the gallery's version chain).
                "parent": detail_url(generation.parent_id) if generation.parent_id else "",
                "images": [
                    {
                        "src": image["file_url"],
                        "download": image["download_url"],
                        "edit": image["edit_url"],
                        "width": image["width"],
                        "height": image["height"],
                    }
                    for image in generation.card_images
                ],
            },
            ensure_ascii=False,
        )
        generation.reuse_json = json.dumps(
            {
                "configuration": str(generation.configuration_id or ""),
                "model": str(generation.model_id or ""),
                "prompt": generation.prompt,
                "options": {
                    name: str(parameters[name])
                    for name in FORM_OPTION_FIELDS
                    if parameters.get(name) not in (None, "")
                },
            },
            ensure_ascii=False,
        )
    return generations


def _shorten(text: str, length: int) -> str:
    """Like the `truncatechars` filter; most prompts are short enough to skip its work."""
    return text if len(text) <= length else Truncator(text).chars(length)


# Rendered tiles and result rows are kept in the cache per (generation, last change,
# language): a gallery page is 24 tiles and rendering them was most of its time
# (bench/pages.py). Every status change moves `updated_at`, so a stale tile is never served; a
# renamed model shows its new name within CARD_CACHE_SECONDS. Nothing personal to a session
# (no CSRF token) is in them. Bump CARD_VERSION when their markup changes.
CARD_VERSION = 7
CARD_CACHE_SECONDS = 24 * 3600
CARD_TEMPLATES = {
    "tile": ("generations/_gallery_tile.html", {"selectable": True}),
    "plain-tile": ("generations/_gallery_tile.html", {"selectable": False}),
    "run": ("generations/_run.html", {}),
}


def rendered_generations(rows: list[ImageGeneration], *, user, kind: str) -> list[SafeString]:
    """The rendered card (`kind`: a CARD_TEMPLATES entry) of each of `rows`, which need only
    selectors.CARD_KEY_FIELDS. One cache round trip finds the cards rendered before; only the
    generations missing from it are read whole (model, provider, images) and rendered. A
    generation deleted in between is left out."""
    language = get_language() or ""
    keys = {
        row.pk: f"card:{CARD_VERSION}:{kind}:{language}:{row.pk}:{row.updated_at.timestamp()}"
        for row in rows
    }
    found = cache.get_many(list(keys.values())) if keys else {}
    missing = [row.pk for row in rows if keys[row.pk] not in found]
    if missing:
        template_name, extra = CARD_TEMPLATES[kind]
        template = get_template(template_name)
        whole = with_card_data(list(generations_for_cards(user=user, pks=missing)))
        fresh = {
            keys[generation.pk]: template.render({"generation": generation, **extra})
            for generation in whole
        }
        cache.set_many(fresh, CARD_CACHE_SECONDS)
        found.update(fresh)
    # Rendered by our own templates from escaped values.
    return [mark_safe(found[keys[row.pk]]) for row in rows if keys[row.pk] in found]  # noqa: S308
