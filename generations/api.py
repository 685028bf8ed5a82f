"""JSON API of the generations app: generating, the gallery, usage (docs/api.md).

Thin: GenerationForm cleans (the same rules as the generate page), `generation_run` generates,
and its refusals (PlanLimitReached, RateLimitExceeded, GenerationFailed) answer by themselves.
"""

# No `from __future__ import annotations`: ninja reads these views' annotations at import,
# through decorators (sensitive_variables) whose globals are not this module's.

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from bambi import timing
from bambi.schemas import (
    ApiError,
    Data,
    ImagesJsonBody,
    Success,
    errors,
    form_errors_sentence,
    owned,
)
from billing.plans import plan_for
from byok.models import ApiConfiguration
from generations.deletion import generation_delete
from generations.forms import GenerationForm
from generations.paging import generations_list_page
from generations.quota import usage_for
from generations.rows import GenerationOut, GenerationPage, UsageOut
from generations.schemas import GenerationCreate, ListCursor, PageNumber
from generations.selectors import generation_get
from generations.services import generation_run
from generations.spending import budgets_for, spending_for, usage_periods
from tokens.services import active_tokens

router = Router(tags=["generations"])

PAGE_SIZE = 20

# `id` in a path: one of the user's generations, fetched before anything else (else a 404).
OwnGeneration = owned(generation_get)


@router.get(
    "/generations/",
    response={200: GenerationPage, **errors(400, 404)},
    summary="The user's generations, newest first, 20 a page",
)
def generations(
    request: HttpRequest,
    page: PageNumber = Query(1, description="Page number, from 1. A page past the last is a 404."),
    before: ListCursor = Query(
        None,
        description="The page just older than this cursor (`pagination.next`). Walking "
        "every generation this way never skips or repeats one while new ones arrive.",
    ),
    after: ListCursor = Query(
        None,
        description="The page just newer than this cursor (`pagination.previous`); the "
        "first page when fewer than a page are newer.",
    ),
):
    """Pages by number (`?page=`) or by cursor (`?before=` / `?after=`, from the
    `pagination` block of a page): a numbered page moves when generations are added before
    it, a cursor's does not. Every page is as fast as the first."""
    if sum(value is not None for value in (before, after, request.GET.get("page"))) > 1:
        raise ApiError(_("Give one of “page”, “before” or “after”, not several."))
    found = generations_list_page(
        user=request.auth,
        number=page if before is None and after is None else None,
        before=before,
        after=after,
        size=PAGE_SIZE,
    )
    if found is None:
        raise ApiError(_("There is no page %(page)d.") % {"page": page}, http_status=404)
    numbered = before is None and after is None
    return {
        "data": found.generations,
        "pagination": {
            "page": page if numbered else None,
            "pages": max(1, -(-found.count // PAGE_SIZE)),
            "count": found.count,
            "page_size": PAGE_SIZE,
            "next": found.older.encode() if found.older else None,
            "previous": found.newer.encode() if found.newer else None,
        },
    }


@router.post(
    "/generations/",
    response={201: Data[GenerationOut], **errors(404, 422, 429, 502, 504)},
    summary="Generate images (or edit them) with one of the user's keys",
)
def generation_create(request: HttpRequest, payload: GenerationCreate = ImagesJsonBody(...)):
    """Synchronous: answers when the provider has answered and the images are stored. Counts
    once against the monthly quota, only when it succeeds. Over the quota, or with an API
    token limited to other models: 403. The provider's refusal: 422 with its reason; its
    failures: 429/502/504. A failed call is kept as a failed generation and not charged.

    An edit is the same call with `inputImages` (gallery images by id, or data: URLs) and, for
    models that take one, a `mask`; the body may then reach 50 MB (GENERATION_REQUEST_MAX_BYTES).
    """
    form = GenerationForm(data=payload.form_data(), user=request.auth)
    with timing.step("validate"):
        valid = form.is_valid()
    if not valid:
        # The form looks the key and the input images up through their owner: one that is not
        # the user's is a 404, as for every other object of someone else.
        found = form.errors.as_data()
        if any(e.code == "unknown" for e in found.get("configuration", ())) or any(
            e.code == "not_found" for e in found.get("input_images", ())
        ):
            raise Http404
        raise ApiError(form_errors_sentence(form))
    generation = generation_run(
        user=request.auth,
        api_token=getattr(request, "api_token", None),
        **form.run_arguments(),
    )
    # generation_run returns the generation with its model, provider and images loaded.
    return Status(201, {"data": generation})


@router.get(
    "/generations/{uuid:id}/",
    response={200: Data[GenerationOut], **errors(404)},
    summary="One generation with its images",
)
def generation(request: HttpRequest, id: OwnGeneration):
    return {"data": id}


@router.delete(
    "/generations/{uuid:id}/",
    response={200: Data[Success], **errors(404)},
    summary="Delete the generation, its images and their files",
)
def generation_remove(request: HttpRequest, id: OwnGeneration):
    generation_delete(generation=id)
    return {"data": {"success": True}}


@router.get(
    "/usage/",
    response=Data[UsageOut],
    summary="The user's plan, usage this period and limits",
)
def usage(request: HttpRequest):
    user = request.auth
    plan = plan_for(user)
    current = usage_for(user, plan=plan)
    return {
        "data": {
            "plan": plan.slug,
            "plan_name": str(plan.name),
            "usage_count": current.used,
            "usage_limit": current.limit,
            "remaining": current.remaining,
            "config_count": ApiConfiguration.objects.filter(user=user).count(),
            "config_limit": plan.configurations,
            "reset_date": current.reset_date,
            "token_count": active_tokens(user=user).count(),
            "token_limit": plan.api_tokens,
            "spend": _spend(user),
            "budgets": [
                {
                    "kind": budget.kind,
                    "id": budget.id,
                    "name": budget.name,
                    "monthly_budget_usd": budget.budget,
                    "spent_usd": budget.spent,
                    "percent": budget.percent,
                    "level": budget.level,
                }
                for budget in budgets_for(user)
            ],
        }
    }


def _spend(user) -> dict:
    period = usage_periods(user)[0]
    spending = spending_for(user, period, deleted_key_label=_("Deleted key"))

    def line(item) -> dict:
        return {
            "id": item.key_id,
            "name": item.label,
            "generations": item.generations,
            "images": item.images,
            "spent_usd": item.spent,
        }

    return {
        "period_start": period.start,
        "period_end": period.end,
        "total_usd": spending.total.spent,
        "by_key": [line(item) for item in spending.by_key],
        "by_provider": [
            {
                "slug": item.provider_slug,
                "name": item.provider,
                "generations": item.generations,
                "images": item.images,
                "spent_usd": item.spent,
            }
            for item in spending.by_provider
        ],
        "by_token": [
            {
                "id": item.token_id,
                "name": item.label,
                "generations": item.generations,
                "images": item.images,
                "spent_usd": item.spent,
            }
            for item in spending.by_token
        ],
    }
