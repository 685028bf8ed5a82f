from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import AccountDeleteForm
from accounts.services import account_delete


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
