"""Dashboard pages of the generations app: generate (results in place), result, gallery,
private image files, and the data export. The form and the services do the work; what is
here is what the pages show."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.services import onboarding_gallery_seen
from bambi.ratelimit import RateLimitExceeded, with_retry_after
from bambi.templatetags.bambi_format import seconds, usd
from billing.plans import PlanLimitReached, plan_for
from byok.models import ApiConfiguration, ImageModel
from generations import labels, services, storage
from generations.forms import OPTION_CAPABILITIES, GenerationForm, estimate_cost
from generations.models import ImageGeneration
from generations.quota import usage_for
from generations.selectors import (
    Cursor,
    GalleryFilters,
    ModelChoice,
    gallery_count,
    gallery_count_forget,
    gallery_filter_choices,
    gallery_page,
    generate_defaults,
    generation_get,
    generations_for,
    image_get,
    latest_generations,
    models_newest_first,
)

GALLERY_PAGE_SIZE = 24
GENERATE_HISTORY_SIZE = 6
# Image URLs never change content (a new generation gets new ids), so browsers may keep them;
# "private" keeps shared caches and proxies from storing someone's pictures.
IMAGE_CACHE_SECONDS = 7 * 24 * 3600
FORM_OPTION_FIELDS = ["count", *OPTION_CAPABILITIES]


# --- what a generation looks like on a page ------------------------------------------------------


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
    """Attach what the tiles and result rows show (`_gallery_tile.html`, `_run.html`),
    computed here once rather than with {% url %} and filters per tile and per image.
    Returns the same list."""
    detail_url = _url_maker("generation_detail")
    file_url = _url_maker("image_file")
    thumbnail_url = _url_maker("image_thumbnail")
    status_labels = {value: str(label) for value, label in ImageGeneration.Status.choices}
    for generation in generations:
        parameters = generation.parameters or {}
        generation.rerun_url = rerun_url(generation)
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
                "id": str(image.pk),
                "file_url": file_url(image.pk),
                "download_url": file_url(image.pk) + "?download=1",
                "thumbnail_url": thumbnail_url(image.pk),
                "width": image.width,
                "height": image.height,
                "format": (image.format or "").upper(),
            }
            for image in images
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
                "images": [
                    {
                        "src": image["file_url"],
                        "download": image["download_url"],
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
CARD_VERSION = 6
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
        whole = with_card_data(list(generations_for(user=user).filter(pk__in=missing)))
        fresh = {
            keys[generation.pk]: template.render({"generation": generation, **extra})
            for generation in whole
        }
        cache.set_many(fresh, CARD_CACHE_SECONDS)
        found.update(fresh)
    # Rendered by our own templates from escaped values.
    return [mark_safe(found[keys[row.pk]]) for row in rows if keys[row.pk] in found]  # noqa: S308


# --- generate -------------------------------------------------------------------------------------


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
    }


def _option_choices(name: str, values: list) -> list[dict]:
    return [{"value": value, "label": labels.choice_label(name, value)} for value in values]


def _generate_context(request: HttpRequest, form: GenerationForm) -> dict:
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
    usable_models = [
        m for m in models if selected_config and m.provider_id == selected_config.provider_id
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
                "capabilities": m.capabilities,
            }
            for m in models
        },
        "labels": labels.labels_for_script(),
        "strings": _script_strings(),
        "urls": {
            "generations": reverse("api_generations"),
            "generation": reverse("api_generation", args=[_SENTINEL]),
            "sentinel": str(_SENTINEL),
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
        "count": count,
        "options": options,
        "estimate": estimate,
        "catalogue": catalogue,
        "usage": usage_for(user),
        "history": history,
        "active_nav": "generate",
    }


def _billing_on() -> bool:
    from billing.services import billing_configured

    return billing_configured()


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

    # Without JavaScript the form posts here and lands on the result page; with it,
    # generate.js calls POST /api/generations/ and shows the results in place.
    form = GenerationForm(request.POST, user=request.user)
    failure = None
    status = 400
    retry_after = None
    if form.is_valid():
        parameters = {name: request.POST.get(name) or None for name in FORM_OPTION_FIELDS}
        parameters["model"] = request.POST.get("model")
        try:
            generation = services.generation_run(
                user=request.user,
                configuration_id=request.POST.get("configuration"),
                prompt=request.POST.get("prompt", ""),
                parameters=parameters,
            )
        except services.GenerationFailed as exc:
            failure = {"message": exc.message, "generation": exc.generation}
            status = exc.http_status
        except PlanLimitReached as exc:
            failure = {"message": str(exc), "plan_limit": True}
            status = 403
        except RateLimitExceeded as exc:
            failure = {"message": exc.message}
            status = 429
            retry_after = exc
        except ValidationError as exc:
            failure = {"message": " ".join(exc.messages)}
        else:
            return redirect("generation_detail", pk=generation.pk)
    context = _generate_context(request, form)
    context["failure"] = failure
    response = render(request, "generations/generate.html", context, status=status)
    return with_retry_after(response, retry_after) if retry_after else response


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


# --- gallery --------------------------------------------------------------------------------------


class GalleryFilterForm(forms.Form):
    """The gallery's filters, from the query string (every link keeps them)."""

    q = forms.CharField(label=gettext_lazy("Search in prompts"), required=False, max_length=200)
    provider = forms.ChoiceField(label=gettext_lazy("Provider"), required=False)
    model = forms.ChoiceField(label=gettext_lazy("Model"), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *ImageGeneration.Status.choices],
    )
    hide_failed = forms.BooleanField(label=gettext_lazy("Hide failed"), required=False)
    since = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("“From” is not a date (YYYY-MM-DD).")},
    )
    until = forms.DateField(
        label=gettext_lazy("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("“Until” is not a date (YYYY-MM-DD).")},
    )

    def __init__(self, *args, models: list[ModelChoice], **kwargs):
        super().__init__(*args, **kwargs)
        providers = {m.provider_slug: m.provider_name for m in models}
        self.fields["provider"].choices = [
            ("", _("Any provider")),
            *sorted(providers.items(), key=lambda item: item[1]),
        ]
        self.fields["model"].choices = [
            ("", _("Any model")),
            *((m.pk, f"{m.name} ({m.provider_name})") for m in models),
        ]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("“From” must be on or before “Until”."))
        return cleaned

    def controls(self) -> tuple[list[dict], list[dict]]:
        """The filter lists and date fields as the template writes them (by hand: Django's
        widget templates were a third of the gallery page's rendering time)."""
        value = {name: str(self.data.get(name) or "") for name in self.fields}
        selects = [
            {
                "name": name,
                "label": self.fields[name].label,
                "choices": self.fields[name].choices,
                "value": value[name],
            }
            for name in ("provider", "model", "status")
        ]
        dates = [
            {"name": name, "label": self.fields[name].label, "value": value[name]}
            for name in ("since", "until")
        ]
        return selects, dates

    def filters(self) -> GalleryFilters:
        data = self.cleaned_data
        return GalleryFilters(
            query=data.get("q") or "",
            provider=data.get("provider") or "",
            model=uuid.UUID(data["model"]) if data.get("model") else None,
            status=data.get("status") or "",
            hide_failed=bool(data.get("hide_failed")),
            since=data.get("since"),
            until=data.get("until"),
        )


FILTER_PARAMS = ("q", "provider", "model", "status", "hide_failed", "since", "until")


def _gallery_url(params: dict, **cursor) -> str:
    query = {**params, **cursor}
    return reverse("gallery") + ("?" + urlencode(query) if query else "")


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    models = gallery_filter_choices()
    params = {k: request.GET[k] for k in FILTER_PARAMS if request.GET.get(k)}
    form = GalleryFilterForm(params, models=models)
    selects, dates = form.controls()
    errors: list[str] = []
    filters = GalleryFilters()
    if form.is_valid():
        filters = form.filters()
    else:
        errors += [str(e) for field_errors in form.errors.values() for e in field_errors]
    cursors = {}
    for name in ("before", "after"):
        raw = request.GET.get(name)
        if raw:
            try:
                cursors[name] = Cursor.decode(raw)
            except ValueError:
                errors.append(
                    _("This gallery link is damaged; start again from your newest images.")
                )
    if errors:
        return render(
            request,
            "generations/gallery.html",
            {
                "active_nav": "gallery",
                "form": form,
                "filter_selects": selects,
                "filter_dates": dates,
                "errors": errors,
                "filters_active": True,
                "tiles": [],
                "count": 0,
            },
            status=400,
        )

    page = gallery_page(
        user=request.user,
        filters=filters,
        before=cursors.get("before"),
        after=cursors.get("after"),
        size=GALLERY_PAGE_SIZE,
    )
    count = gallery_count(user=request.user, filters=filters) if page.generations else 0
    onboarding_gallery_seen(user=request.user)
    delete_label = {
        "one": ngettext("Delete %(count)s selected", "Delete %(count)s selected", 1),
        "other": ngettext("Delete %(count)s selected", "Delete %(count)s selected", 2),
    }
    return render(
        request,
        "generations/gallery.html",
        {
            "active_nav": "gallery",
            "form": form,
            "filter_selects": selects,
            "filter_dates": dates,
            "filters_active": filters.active,
            "more_filters_active": any(
                params.get(k) for k in ("provider", "model", "status", "since", "until")
            ),
            "tiles": rendered_generations(page.generations, user=request.user, kind="tile"),
            "count": count,
            "page": page,
            "newest_url": _gallery_url(params) if not page.is_newest else "",
            "newer_url": _gallery_url(params, after=page.newer.encode()) if page.newer else "",
            "older_url": _gallery_url(params, before=page.older.encode()) if page.older else "",
            "delete_label": delete_label,
            "api_generation_url": reverse("api_generation", args=[_SENTINEL]),
            "sentinel": str(_SENTINEL),
        },
    )


def _back_to(request: HttpRequest, default: str) -> str:
    """The dashboard page a form came from (`next`), never another site."""
    next_url = request.POST.get("next") or ""
    allowed = (reverse("gallery"), reverse("generate"), reverse("dashboard"))
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}
    ) and next_url.startswith(allowed):
        return next_url
    return default


@login_required
@require_POST
def gallery_delete(request: HttpRequest) -> HttpResponse:
    ids = request.POST.getlist("ids")
    if not ids:
        messages.warning(request, _("Select the images to delete first."))
    else:
        deleted = services.generations_delete(user=request.user, generation_ids=ids)
        gallery_count_forget(user=request.user)
        messages.success(
            request,
            ngettext(
                "Deleted %(count)d generation and its images.",
                "Deleted %(count)d generations and their images.",
                deleted,
            )
            % {"count": deleted},
        )
    # Back to the page the user was on; a deleted generation's own page is gone.
    return redirect(_back_to(request, reverse("gallery")))


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
    services.image_thumbnail_ensure(image=image)  # made on first request, then kept
    return _stream(image.thumbnail_path, "image/webp")


@login_required
@require_GET
def export(request: HttpRequest) -> FileResponse:
    """Everything the user made, as a ZIP (GDPR access/portability)."""
    handle = services.user_data_export(user=request.user)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"bambi-export-{timezone.now():%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def plan_context(user) -> dict:
    """Usage meter data for the overview page (accounts.views.dashboard)."""
    plan = plan_for(user)
    return {"usage": usage_for(user, plan=plan), "plan": plan}
