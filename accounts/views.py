from allauth.account import views as allauth_views
from allauth.account.internal.flows.email_verification import verify_email_and_resume
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404
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
        {
            "delete_form": form,
            "active_nav": "account",
            # The connected-accounts page only means something with an OAuth provider set up.
            "social_login_configured": bool(settings.SOCIALACCOUNT_PROVIDERS),
        },
        status=400 if form.is_bound else 200,
    )


class ConfirmEmailView(allauth_views.ConfirmEmailView):
    """allauth's confirmation page, plus: the link logs the user in, the first time.

    allauth logs in on confirmation only in the browser session that signed up; a link opened
    from a mail app (another browser, a phone) confirmed the address and then asked to log in
    again. Here the confirmation that verifies the address (it happens once: a second use of
    the link finds the address verified and does nothing) logs its owner in as well. The
    link is a signed token sent to that address and expires with
    ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS, the same trust as a password reset link.
    """

    def post(self, *args, **kwargs):
        self.object = verification = self.get_object()
        email_address, response = verify_email_and_resume(self.request, verification)
        if response:
            return response  # allauth logged the signing-up session in
        if not email_address:
            return self.respond(False)
        self.logout_other_user(self.object)
        user = email_address.user
        if not self.request.user.is_authenticated and user.is_active:
            login(self.request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
            messages.success(
                self.request,
                _("Your email address is confirmed and you are logged in. Welcome to Bambi AI!"),
            )
            return redirect(settings.LOGIN_REDIRECT_URL)
        return self.respond(True)


def social_connections(request, *args, **kwargs):
    """allauth's connected-accounts page, which exists only when an OAuth provider (Google,
    GitHub) is configured."""
    if not settings.SOCIALACCOUNT_PROVIDERS:
        raise Http404
    from allauth.socialaccount.views import connections

    return connections(request, *args, **kwargs)
