"""Read queries of /api/v1/webhooks."""

from __future__ import annotations

from podnex.api.pagination import Page, paginate
from webhooks_app.models import DeliveryState, Webhook, WebhookDelivery, WebhookKind


def webhook_list(*, user, kind: str = "endpoint", page: int = 1, limit: int = 20) -> Page:
    kind_value = {k.label: k.value for k in WebhookKind}[kind]
    queryset = Webhook.objects.filter(user=user, kind=kind_value).order_by("-created_at", "id")
    return paginate(queryset, page=page, limit=limit)


def delivery_list(
    *, webhook: Webhook, state: str | None = None, page: int = 1, limit: int = 20
) -> Page:
    queryset = WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-id")
    if state:
        queryset = queryset.filter(state={s.label: s.value for s in DeliveryState}[state])
    return paginate(queryset, page=page, limit=limit)
