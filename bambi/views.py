from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from bambi.api import CSRF_SENTENCE
from bambi.schemas import not_found_sentence, too_big_sentence
from openai_compat.errors import error_answer, not_found_answer, server_error_answer


def landing(request):
    if request.user.is_authenticated and request.GET.get("stay") is None:
        return redirect("dashboard")
    return render(request, "landing.html")


# Load balancers give up on a health check after a few seconds; answer well before.
HEALTH_TIMEOUT_SECONDS = 2


def healthz(request):
    """200 when the database answers, 503 otherwise (for load balancers), within ~2 s."""
    try:
        _database_answers()
    except Exception:  # any database failure means "not healthy", never a 500
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def _database_answers() -> None:
    """SELECT 1, or an exception. On PostgreSQL over a connection of its own, with connect
    and statement timeouts: the pool's wait (DATABASE_POOL_TIMEOUT, 30 s) is sized for bursts
    of traffic, and a pool busy with a burst must not make the instance look dead either."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return
    import psycopg

    params = connection.get_connection_params()
    timeout_ms = HEALTH_TIMEOUT_SECONDS * 1000
    params["options"] = f"{params.get('options', '')} -c statement_timeout={timeout_ms}".strip()
    with psycopg.connect(**params, connect_timeout=HEALTH_TIMEOUT_SECONDS) as health:
        health.execute("SELECT 1").fetchone()


def _wants_json(request) -> bool:
    return request.path.startswith(("/api/", "/v1/"))


def _openai(request) -> bool:
    """/v1/ answers in OpenAI's error shape (openai_compat/errors.py)."""
    return request.path.startswith("/v1/")


def bad_request(request, exception=None):
    """Django's 400 (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a suspicious
    request): JSON under /api/, a page elsewhere."""
    from django.core.exceptions import RequestDataTooBig

    if isinstance(exception, RequestDataTooBig):
        message, status = too_big_sentence(), 413
    else:
        message, status = _("The request could not be understood."), 400
    if _openai(request):
        return error_answer(message, status, type="invalid_request_error")
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    try:
        return render(request, "400.html", {"message": message}, status=status)
    except Exception:  # the request itself is unusable (a Host not in ALLOWED_HOSTS, say)
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def permission_denied(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"error": _("You are not allowed to do this.")}, status=403)
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    if _openai(request):
        return not_found_answer(request.method, request.path)
    if _wants_json(request):
        return JsonResponse({"error": not_found_sentence()}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _openai(request):
        return server_error_answer()
    if _wants_json(request):
        return JsonResponse({"error": _("Something went wrong on our side.")}, status=500)
    return render(request, "500.html", status=500)


def csrf_failure(request, reason=""):
    if _wants_json(request):
        return JsonResponse({"error": str(CSRF_SENTENCE)}, status=403)
    return render(request, "403_csrf.html", status=403)
