from django.apps import AppConfig


class WebhooksAppConfig(AppConfig):
    name = "webhooks_app"
    default_auto_field = "django.db.models.BigAutoField"
