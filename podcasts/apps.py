from django.apps import AppConfig


class PodcastsConfig(AppConfig):
    name = "podcasts"
    default_auto_field = "django.db.models.BigAutoField"
