"""Dashboard pages of the generations app: the overview, generate, result, gallery, private
image files, and the data export. Thin: the form and the services do the work."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bambi.errors import BambiError, with_error_headers
from billing.plans import PlanLimitReached, plan_for
from byok.catalogue import estimate_cost
from byok.models import ApiConfiguration, ImageModel
from generations import storage
from generations.deletion import generations_delete
from generations.export import user_data_export
from generations.forms import OPTION_CAPABILITIES, OPTION_LABELS, GenerationForm
from generations.models import ImageGeneration
from generations.quota import usage_for
from generations.selectors import (
    generation_get,
    generations_for,
    image_get,
    input_get,
    recent_generations,
)
from generations.services import generation_run

GALLERY_PAGE_SIZE = 24
# Image URLs never change content (a new generation gets new ids), so browsers may keep them;
# "private" keeps shared caches and proxies from storing someone's pictures.
IMAGE_CACHE_SECONDS = 7 * 24 * 3600
FORM_OPTION_FIELDS = ["count", *OPTION_CAPABILITIES]


def _generate_context(request: HttpRequest, form: GenerationForm) -> dict:
    """What the generate page needs: the user's usable keys, the models they can drive, the
    capabilities JSON that generate.js reads, the selected key/model, usage and the estimate."""
    user = request.user
    configurations = list(
        ApiConfiguration.objects.filter(user=user, is_valid=True, provider__is_active=True)
        .select_related("provider")
        .order_by("-created_at")
    )
    provider_ids = {c.provider_id for c in configurations}
    models = list(
        ImageModel.objects.filter(provider_id__in=provider_ids, is_active=True)
        .select_related("provider")
        .order_by("provider__name", "name")
    )
    source = form.data if form.is_bound else form.initial
    selected_configuration = next(
        (c for c in configurations if str(c.pk) == str(source.get("configuration") or "")),
        configurations[0] if configurations else None,
    )
    usable_models = [
        m
        for m in models
        if selected_configuration and m.provider_id == selected_configuration.provider_id
    ]
    selected_model = next(
        (m for m in usable_models if str(m.pk) == str(source.get("model") or "")),
        usable_models[0] if usable_models else None,
    )
    options = []
    capabilities = selected_model.capabilities if selected_model else {}
    defaults = capabilities.get("defaults") or {}
    for field, capability in OPTION_CAPABILITIES.items():
        choices = capabilities.get(capability) or []
        options.append(
            {
                "name": field,
                "label": OPTION_LABELS[field],
                "choices": choices,
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
                "capabilities": m.capabilities,
            }
            for m in models
        },
    }
    return {
        "form": form,
        "configurations": configurations,
        "models": models,
        "selected_config": selected_configuration,  # the template's name
        "selected_model": selected_model,
        "max_images": int(capabilities.get("max_images") or 1) if selected_model else 1,
        "count": count,
        "options": options,
        "estimate": estimate,
        "catalogue": catalogue,
        "usage": usage_for(user),
        "active_nav": "generate",
    }


@login_required
@require_http_methods(["GET", "POST"])
def generate(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        # "Use these settings again" arrives as a query string.
        initial = {
            "configuration": request.GET.get("config", ""),
            "model": request.GET.get("model", ""),
            "prompt": request.GET.get("prompt", ""),
            **{name: request.GET.get(name, "") for name in FORM_OPTION_FIELDS},
        }
        form = GenerationForm(initial=initial, user=request.user)
        return render(request, "generations/generate.html", _generate_context(request, form))

    form = GenerationForm(request.POST, user=request.user)
    error = None
    if form.is_valid():
        try:
            generation = generation_run(user=request.user, **form.run_arguments())
        except BambiError as exc:
            error = exc
        else:
            return redirect("generation_detail", pk=generation.pk)
    context = _generate_context(request, form)
    context["failure"] = error and {
        "message": error.message,
        "generation": getattr(error, "generation", None),  # GenerationFailed: its row
        "plan_limit": isinstance(error, PlanLimitReached),
    }
    status = error.http_status if error else 400
    response = render(request, "generations/generate.html", context, status=status)
    return with_error_headers(response, error) if error else response


def rerun_url(generation: ImageGeneration) -> str:
    """The generate form prefilled with this generation's prompt and settings."""
    query = {"prompt": generation.prompt}
    if generation.configuration_id:
        query["config"] = str(generation.configuration_id)
    if generation.model_id:
        query["model"] = str(generation.model_id)
    for name in FORM_OPTION_FIELDS:
        value = (generation.parameters or {}).get(name)
        if value not in (None, ""):
            query[name] = str(value)
    return reverse("generate") + "?" + urlencode(query)


_SENTINEL = uuid.UUID(int=0)
_BADGES = {"completed": "ok", "failed": "bad"}


def _url_maker(name: str):
    """reverse() once, then fill in each id: a gallery page needs ~100 of these URLs and
    reverse() per URL was a third of the page's rendering time (bench/pages.py)."""
    pattern = reverse(name, args=[_SENTINEL])
    return lambda pk: pattern.replace(str(_SENTINEL), str(pk))


def with_card_data(generations):
    """Attach what a card (`_generation_card.html`) shows, computed here rather than with
    {% url %} and filters in the template, per card and per image: the gallery renders 24
    cards and the template work was most of its time. Returns the same list."""
    detail_url = _url_maker("generation_detail")
    file_url = _url_maker("image_file")
    thumbnail_url = _url_maker("image_thumbnail")
    status_labels = {value: str(label) for value, label in ImageGeneration.Status.choices}
    for generation in generations:
        generation.rerun_url = rerun_url(generation)
        generation.detail_url = detail_url(generation.pk)
        generation.prompt_short = _shorten(generation.prompt, 120)
        generation.prompt_alt = _shorten(generation.prompt, 80)
        generation.badge = _BADGES.get(generation.status, "warn")
        generation.status_label = status_labels.get(generation.status, generation.status)
        local = timezone.localtime(generation.created_at)
        generation.created_iso = local.isoformat()
        generation.created_display = date_format(local, "j M Y H:i")
        generation.card_images = [
            {
                "file_url": file_url(image.pk),
                "download_url": file_url(image.pk) + "?download=1",
                "thumbnail_url": thumbnail_url(image.pk),
                "width": image.width,
                "height": image.height,
            }
            for image in generation.images.all()
        ]
    return generations


def _shorten(text: str, length: int) -> str:
    """Like the `truncatechars` filter; most prompts are short enough to skip its work."""
    return text if len(text) <= length else Truncator(text).chars(length)


@login_required
@require_GET
def generation_detail(request: HttpRequest, pk) -> HttpResponse:
    generation = generation_get(user=request.user, pk=pk)
    return render(
        request,
        "generations/detail.html",
        {
            "generation": generation,
            "notice": generation.filtered_notice(len(generation.images.all())),
            "rerun_url": rerun_url(generation),
            "usage": usage_for(request.user),
            "active_nav": "generate",
        },
    )


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(generations_for(user=request.user), GALLERY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    with_card_data(page.object_list)
    return render(
        request,
        "generations/gallery.html",
        {"page": page, "paginator": paginator, "active_nav": "gallery"},
    )


@login_required
@require_POST
def gallery_delete(request: HttpRequest) -> HttpResponse:
    ids = request.POST.getlist("ids")
    if not ids:
        messages.warning(request, _("Select the images to delete first."))
    else:
        deleted = generations_delete(user=request.user, generation_ids=ids)
        messages.success(
            request,
            ngettext(
                "Deleted %(count)d generation and its images.",
                "Deleted %(count)d generations and their images.",
                deleted,
            )
            % {"count": deleted},
        )
    # Back to the gallery page the user was on; a deleted generation's own page is gone.
    next_url = request.POST.get("next") or ""
    if not (
        url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()})
        and next_url.startswith(reverse("gallery"))
    ):
        next_url = reverse("gallery")
    return redirect(next_url)


def _stream(path: str, content_type: str, *, download_name: str | None = None) -> FileResponse:
    try:
        handle = default_storage.open(path, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=download_name is not None,
        filename=download_name or "",
    )
    response["Cache-Control"] = f"private, max-age={IMAGE_CACHE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def image_file(request: HttpRequest, pk) -> FileResponse:
    image = image_get(user=request.user, pk=pk)
    name = None
    if request.GET.get("download"):
        ext = image.storage_path.rsplit(".", 1)[-1]
        name = f"bambi-{str(image.generation_id)[:8]}-{image.index + 1}.{ext}"
    return _stream(image.storage_path, storage.content_type_for(image.format), download_name=name)


@login_required
@require_GET
def image_thumbnail(request: HttpRequest, pk) -> FileResponse:
    image = image_get(user=request.user, pk=pk)
    storage.image_thumbnail_ensure(image=image)  # made on first request, then kept
    return _stream(image.thumbnail_path, "image/webp")


@login_required
@require_GET
def input_file(request: HttpRequest, pk) -> FileResponse:
    """An input image of one of the user's edits (or its mask), as the provider received it."""
    item = input_get(user=request.user, pk=pk)
    return _stream(item.storage_path, storage.content_type_for(item.format))


@login_required
@require_GET
def input_thumbnail(request: HttpRequest, pk) -> FileResponse:
    item = input_get(user=request.user, pk=pk)
    storage.image_thumbnail_ensure(image=item)
    return _stream(item.thumbnail_path, "image/webp")


@login_required
@require_GET
def export(request: HttpRequest) -> FileResponse:
    """Everything the user made, as a ZIP (GDPR access/portability)."""
    handle = user_data_export(user=request.user)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"bambi-export-{timezone.now():%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The overview: the usage meter and the latest generations. Here rather than in accounts:
    it shows the generations app's data, and accounts sits below every other app."""
    plan = plan_for(request.user)
    context = {
        "active_nav": "overview",
        "usage": usage_for(request.user, plan=plan),
        "plan": plan,
        "recent_generations": with_card_data(recent_generations(user=request.user)),
    }
    return render(request, "accounts/dashboard.html", context)
