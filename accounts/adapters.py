from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied

from bambi.client_ip import client_ip

SITE_NAME = "Bambi AI"


@dataclass(frozen=True)
class Site:
    """What mails call the site: its name and public address (APP_URL), not the host the
    request happened to reach (allauth's default, "127.0.0.1:8000" behind a proxy)."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        return super().get_login_redirect_url(request) or settings.LOGIN_REDIRECT_URL

    def get_client_ip(self, request) -> str:
        """allauth's rate limits (failed logins, signups, resets) key on this: the same
        proxy-aware address as the audit log and Bambi's own limits (bambi.client_ip)."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Every account mail is signed with Bambi's name and public URL."""
        site = Site(name=SITE_NAME, domain=urlsplit(settings.APP_URL).netloc or settings.APP_URL)
        super().send_mail(
            template_prefix, email, {**context, "current_site": site, "site_url": settings.APP_URL}
        )
