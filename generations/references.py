"""The generate page's edit studio: the images a request starts from (references), which models
take them, and what static/js/edit.js reads (caps, sentences, URLs).

"Edit" on an image (detail page, lightbox, result tile) links to the generate page with
`?edit=<image id>`; the page then shows that image as the first reference, as a hidden
`input_images` field too, so the form posts it without JavaScript. With JavaScript, edit.js
adds files and gallery images, paints the mask and sends them to POST /api/generations/ as
`inputImages` and `mask`. Either way GenerationForm checks them again (generations/inputs.py).
"""

from __future__ import annotations

from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _

from bambi.ids import parse_uuid
from byok.models import ImageModel
from generations.cards import SENTINEL_ID
from generations.inputs import MASK_MAX_BYTES, max_bytes, max_pixels
from generations.selectors import image_get

# More references than any model takes (gpt-image: 16) are not shown.
MAX_REFERENCES = 16


def takes_inputs(model: ImageModel, count: int, *, mask: bool = False) -> bool:
    """Whether `model` accepts `count` input images (and a mask): capabilities
    `max_input_images` (0 = text only) and `mask`."""
    capabilities = model.capabilities or {}
    limit = capabilities.get("max_input_images")
    limit = limit if isinstance(limit, int) and not isinstance(limit, bool) else 0
    return count <= limit and (not mask or capabilities.get("mask") is True)


def reference_ids(source) -> list[str]:
    """The gallery image ids a request starts from: `?edit=` links (GET) or the form's
    `input_images` fields that are ids (a POST shown again). Data URLs and files are not
    shown again."""
    if isinstance(source, QueryDict):
        values = source.getlist("edit") + source.getlist("input_images")
    else:
        values = source.get("edit") or []
        values = values if isinstance(values, list) else [values]
    ids = []
    for value in values:
        if isinstance(value, str) and parse_uuid(value) is not None and value not in ids:
            ids.append(value)
    return ids[:MAX_REFERENCES]


def references_for(*, user, source) -> list[dict]:
    """The user's images named by `source` (reference_ids), as the page shows them. Http404
    for one that is not theirs, as for any other object of someone else."""
    references = []
    for pk in reference_ids(source):
        image = image_get(user=user, pk=pk)
        references.append(
            {
                "id": str(image.pk),
                "url": reverse("image_file", args=[image.pk]),
                "thumbnail_url": reverse("image_thumbnail", args=[image.pk]),
                "width": image.width,
                "height": image.height,
                "generation": str(image.generation_id),
            }
        )
    return references


def edit_url(image_id) -> str:
    """The generate page starting from one of the user's images."""
    return reverse("generate") + f"?edit={image_id}"


def edit_script_data(references: list[dict]) -> dict:
    """What edit.js reads: the references the page starts with, the caps it checks before
    sending (the server checks them again), its sentences and the API's URL."""
    return {
        "references": references,
        "maxBytes": max_bytes(),
        "maxPixels": max_pixels(),
        "maskMaxBytes": MASK_MAX_BYTES,
        "urls": {
            "generations": reverse("api:generations"),
            "edit": reverse("generate") + "?edit=" + str(SENTINEL_ID),
            "sentinel": str(SENTINEL_ID),
        },
        "strings": {
            "referenceAlt": _("Reference image %(number)s"),
            "remove": _("Remove"),
            "removeLabel": _("Remove reference image %(number)s"),
            "removed": _("Reference image %(number)s removed."),
            "added": _("Reference images: %(count)s."),
            "notAnImage": _("“%(name)s” is not a PNG, JPEG or WebP image."),
            "tooLarge": _("“%(name)s” is too large to send."),
            "tooManyPixels": _("“%(name)s” has too many pixels to send."),
            "noImages": _("No images in your gallery yet."),
            "maskImageAlt": _("The first reference image, under the mask"),
            "maskCleared": _("Mask cleared."),
            "noModel": _(
                "No model of your keys takes %(count)s input images. Remove some to go on."
            ),
            "noModelMask": _(
                "No model of your keys takes %(count)s input images with a mask. Clear the "
                "mask or remove some images to go on."
            ),
            "noRecord": _(
                "This file carries no Bambi settings (only images made by Bambi do, and some "
                "apps remove them)."
            ),
            "imported": _("Prompt, model and settings imported from the image."),
            "importedNoModel": _(
                "Prompt and settings imported; the model “%(model)s” is not available to you, "
                "so the current one stays."
            ),
        },
    }
