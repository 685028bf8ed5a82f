"""JSON API of the generations app (DESIGN.md, "JSON API"): generations and usage."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from bambi.api import ApiError, api_view, fail, ok, read_json
from billing.plans import plan_for
from byok.models import ApiConfiguration
from generations import services
from generations.models import ImageGeneration
from generations.quota import usage_for
from generations.selectors import generation_get, generations_for

PAGE_SIZE = 20


def image_row(image) -> dict:
    return {
        "id": str(image.id),
        "url": reverse("image_file", args=[image.id]),
        "thumbnail_url": reverse("image_thumbnail", args=[image.id]),
        "download_url": reverse("image_file", args=[image.id]) + "?download=1",
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "bytes": image.bytes,
        "revised_prompt": image.revised_prompt or None,
    }


def generation_row(generation: ImageGeneration) -> dict:
    model = generation.model
    provider = generation.provider
    images = list(generation.images.all())
    return {
        "id": str(generation.id),
        "status": generation.status,
        "prompt": generation.prompt,
        "parameters": generation.parameters,
        "model": (
            {"id": str(model.id), "name": model.name, "model_id": model.model_id} if model else None
        ),
        "provider": (
            {"id": str(provider.id), "name": provider.name, "slug": provider.slug}
            if provider
            else None
        ),
        "configuration_id": str(generation.configuration_id)
        if generation.configuration_id
        else None,
        "error_message": generation.error_message or None,
        "cost_estimate": str(generation.cost_estimate)
        if generation.cost_estimate is not None
        else None,
        "duration_ms": generation.duration_ms,
        "created_at": generation.created_at,
        "images_filtered": generation.images_filtered,
        "notice": generation.filtered_notice(len(images)),
        "images": [image_row(image) for image in images],
    }


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(_("“page” must be a whole number from 1."))
    return int(raw)


@api_view(["GET", "POST"])
def generations(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        paginator = Paginator(generations_for(user=request.user), PAGE_SIZE)
        number = _page_number(request)
        if number > paginator.num_pages:
            raise ApiError(_("There is no page %(page)d.") % {"page": number}, 404)
        page = paginator.page(number)
        return JsonResponse(
            {
                "data": [generation_row(g) for g in page.object_list],
                "pagination": {
                    "page": number,
                    "pages": paginator.num_pages,
                    "count": paginator.count,
                    "page_size": PAGE_SIZE,
                },
            }
        )
    body = read_json(request)
    try:
        generation = services.generation_run(
            user=request.user,
            configuration_id=body.get("configId"),
            prompt=body.get("prompt"),
            parameters=body.get("parameters"),
        )
    except services.GenerationFailed as exc:
        return fail(exc.message, exc.http_status)
    # generation_run returns the generation with its model, provider and images loaded.
    return ok(generation_row(generation), status=201)


@api_view(["GET", "DELETE"])
def generation(request: HttpRequest, pk) -> JsonResponse:
    item = generation_get(user=request.user, pk=pk)
    if request.method == "DELETE":
        services.generation_delete(generation=item)
        return ok({"success": True})
    return ok(generation_row(item))


@api_view(["GET"])
def usage(request: HttpRequest) -> JsonResponse:
    user = request.user
    plan = plan_for(user)
    current = usage_for(user, plan=plan)
    return ok(
        {
            "plan": plan.slug,
            "plan_name": str(plan.name),
            "usage_count": current.used,
            "usage_limit": current.limit,
            "remaining": current.remaining,
            "config_count": ApiConfiguration.objects.filter(user=user).count(),
            "config_limit": plan.configurations,
            "reset_date": current.reset_date,
        }
    )
