"""Django's error reports (the DEBUG technical 500 page, error mails) without users' keys.

Django filters `sensitive_variables` and `sensitive_post_parameters` only when DEBUG is off:
with DEBUG on (scripts/run) its technical 500 page shows every local variable and the POST
data as they are, and a user's provider key would be on it. A key is the user's money whoever
looks at the page, so the filter here is always on. The views and services that hold a key in
clear name it with those decorators; everything else on the page stays as Django shows it.
"""

from django.views.debug import SafeExceptionReporterFilter


class KeySafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request) -> bool:
        return True
