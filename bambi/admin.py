"""The admin's frame: branded for Bambi's operators, without the models Bambi does not use."""

from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

admin.site.site_header = "Bambi AI"
admin.site.site_title = _("Bambi AI administration")
admin.site.index_title = _("Operations")

# OAuth apps come from the environment (settings.SOCIALACCOUNT_PROVIDERS) and tokens are not
# stored; permissions are per user (staff, superuser), not per group.
for model in (SocialApp, SocialToken, Group):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
