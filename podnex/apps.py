from django.apps import AppConfig


class PodnexConfig(AppConfig):
    """The ground floor as an app: the admin's titles (podnex.admin). It imports no app."""

    name = "podnex"
    verbose_name = "PodNex"
