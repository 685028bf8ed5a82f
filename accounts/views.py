from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import AccountDeleteForm
from accounts.services import account_delete


@login_required
def dashboard(request):
    from generations.selectors import recent_generations
    from generations.views import plan_context, with_rerun_urls

    context = {"active_nav": "overview", **plan_context(request.user)}
    context["recent_generations"] = with_rerun_urls(recent_generations(user=request.user))
    return render(request, "accounts/dashboard.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        account_delete(user=user, request=request)
        messages.success(request, _("Your account and everything in it have been deleted."))
        return redirect("landing")
    return render(
        request,
        "accounts/account.html",
        {"delete_form": form, "active_nav": "account"},
        status=400 if form.is_bound else 200,
    )
