"""Dashboard pages of the generations app: the overview, generate (results in place), the
result page, private image files and the data export. The gallery is in gallery.py, the
generate page's context in studio.py, what a generation looks like in cards.py."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from bambi.errors import BambiError, with_error_headers
from billing.plans import PlanLimitReached, plan_for
from byok.selectors import api_configurations_for, key_invalid_reasons
from generations import storage
from generations.cards import FORM_OPTION_FIELDS, rendered_generations, with_card_data
from generations.export import user_data_export
from generations.forms import GenerationForm
from generations.quota import usage_for
from generations.selectors import (
    generation_get,
    image_get,
    latest_images,
)
from generations.services import generation_run
from generations.studio import generate_context
from tokens.auth import token_or_login_required

# Image URLs never change content (a new generation gets new ids), so browsers may keep them;
# "private" keeps shared caches and proxies from storing someone's pictures.
IMAGE_CACHE_SECONDS = 7 * 24 * 3600

ONBOARDING_STEPS = [
    (
        "keys",
        gettext_lazy("Add a provider key"),
        gettext_lazy("Bambi checks it with the provider and stores it encrypted."),
    ),
    (
        "generate",
        gettext_lazy("Generate your first image"),
        gettext_lazy("Write a prompt, pick a model, see the images appear."),
    ),
    (
        "gallery",
        gettext_lazy("Find it in your gallery"),
        gettext_lazy("Every image you make is kept there, privately."),
    ),
]
OVERVIEW_IMAGES = 8


@login_required
@require_GET
def dashboard(request):
    """The overview: "get started" until the user is, the state of each key, usage this
    month and the latest images."""
    user = request.user
    configurations = list(api_configurations_for(user=user))
    reasons = key_invalid_reasons(user=user, configurations=configurations)
    for configuration in configurations:
        configuration.invalid_reason = reasons.get(str(configuration.pk))
    latest = latest_images(user=user, limit=OVERVIEW_IMAGES)
    done = {
        "keys": bool(configurations),
        "generate": bool(latest),
        "gallery": user.gallery_seen_at is not None,
    }
    onboarding = [
        {"url": reverse(name), "title": title, "help": help_text, "done": done[name]}
        for name, title, help_text in ONBOARDING_STEPS
    ]
    context = {
        "active_nav": "overview",
        **plan_context(user),
        "configurations": configurations,
        "onboarding": onboarding if not all(done.values()) else [],
        "onboarding_done": sum(done.values()),
        "latest_tiles": rendered_generations(latest, user=user, kind="plain-tile"),
    }
    return render(request, "accounts/dashboard.html", context)


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
        return render(request, "generations/generate.html", generate_context(request, form))

    # Without JavaScript the form posts here and lands on the result page; with it,
    # generate.js calls POST /api/generations/ and shows the results in place.
    form = GenerationForm(request.POST, user=request.user)
    error = None
    if form.is_valid():
        try:
            generation = generation_run(user=request.user, **form.run_arguments())
        except BambiError as exc:
            error = exc
        else:
            return redirect("generation_detail", pk=generation.pk)
    context = generate_context(request, form)
    context["failure"] = error and {
        "message": error.message,
        "generation": getattr(error, "generation", None),  # GenerationFailed: its row
        "plan_limit": isinstance(error, PlanLimitReached),
    }
    status = error.http_status if error else 400
    response = render(request, "generations/generate.html", context, status=status)
    return with_error_headers(response, error) if error else response


@login_required
@require_GET
def generation_detail(request: HttpRequest, pk) -> HttpResponse:
    generation = with_card_data([generation_get(user=request.user, pk=pk)])[0]
    return render(
        request,
        "generations/detail.html",
        {
            "generation": generation,
            "notice": generation.notice,
            "rerun_url": generation.rerun_url,
            "usage": usage_for(request.user),
            "active_nav": "generate",
        },
    )


# --- files ----------------------------------------------------------------------------------------


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


@token_or_login_required  # the URLs /v1/ answers with are fetched with the API token
@require_GET
def image_file(request: HttpRequest, pk) -> FileResponse:
    image = image_get(user=request.user, pk=pk)
    name = None
    if request.GET.get("download"):
        ext = image.storage_path.rsplit(".", 1)[-1]
        name = f"bambi-{str(image.generation_id)[:8]}-{image.index + 1}.{ext}"
    return _stream(image.storage_path, storage.content_type_for(image.format), download_name=name)


@token_or_login_required
@require_GET
def image_thumbnail(request: HttpRequest, pk) -> FileResponse:
    image = image_get(user=request.user, pk=pk)
    storage.image_thumbnail_ensure(image=image)  # made on first request, then kept
    return _stream(image.thumbnail_path, "image/webp")


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


def plan_context(user) -> dict:
    """Usage meter data for the overview page (dashboard above)."""
    plan = plan_for(user)
    return {"usage": usage_for(user, plan=plan), "plan": plan}
