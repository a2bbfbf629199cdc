import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")
application = get_wsgi_application()

from podnex.warmup import warm_up  # noqa: E402 - needs the settings above

warm_up()
