import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bambi.settings")
application = get_wsgi_application()

# App servers do not run Django's system checks (runserver, migrate and check do): refuse to
# serve with a configuration that cannot work (bambi/checks.py) rather than fail on first use.
from bambi.checks import refuse_bad_configuration  # noqa: E402

refuse_bad_configuration()
