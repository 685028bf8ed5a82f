from allauth.account import views as allauth_views
from allauth.account.internal.flows.email_verification import verify_email_and_resume
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts.forms import AccountDeleteForm
from accounts.services import account_delete

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
    from byok.selectors import api_configurations_for
    from generations.selectors import key_invalid_reasons, latest_images
    from generations.views import plan_context, rendered_generations

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
