"""The gallery page: filters, search, keyset pages (newest, older, newer, oldest; old `?page=N`
links too), the counted selection's delete."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.services import onboarding_gallery_seen
from generations.cards import SENTINEL_ID, rendered_generations
from generations.deletion import generations_delete
from generations.models import ImageGeneration
from generations.paging import gallery_page_number
from generations.selectors import (
    Cursor,
    GalleryFilters,
    ModelChoice,
    gallery_count,
    gallery_filter_choices,
    gallery_page,
)

GALLERY_PAGE_SIZE = 24


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

    number = request.GET.get("page", "")
    if cursors or not number:
        page = gallery_page(
            user=request.user,
            filters=filters,
            before=cursors.get("before"),
            after=cursors.get("after"),
            oldest=bool(request.GET.get("oldest")) and not cursors,
            size=GALLERY_PAGE_SIZE,
        )
    else:
        # A link from when the gallery was paged by number (`?page=N`): that page, found
        # without reading the rows before it; its own links are cursors.
        page = gallery_page_number(
            user=request.user,
            filters=filters,
            number=int(number) if number.isascii() and number.isdigit() else 1,
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
            "oldest_url": _gallery_url(params, oldest=1) if page.older else "",
            "delete_label": delete_label,
            "api_generation_url": reverse("api:generation", args=[SENTINEL_ID]),
            "sentinel": str(SENTINEL_ID),
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
    # Back to the page the user was on; a deleted generation's own page is gone.
    return redirect(_back_to(request, reverse("gallery")))
