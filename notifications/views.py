"""/api/v1/user/notifications (the switches) and the one-click unsubscribe page."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from notifications import services
from notifications.serializers import (
    NotificationPreferencesSerializer,
    NotificationPreferencesUpdateSerializer,
)
from podnex.api.errors import NotFound
from podnex.api.responses import ErrorSerializer, envelope, ok

LABELS = {
    "episode_completed": "“episode ready” e-mails",
    "episode_failed": "“episode failed” e-mails",
    "payment_receipts": "payment receipts",
    "payment_failed": "“payment failed” e-mails",
    "usage_warnings": "plan usage warnings",
}


class NotificationPreferencesView(APIView):
    @extend_schema(
        operation_id="user_notifications_retrieve",
        responses={
            200: envelope(
                "NotificationPreferencesResponse", notifications=NotificationPreferencesSerializer()
            ),
            401: ErrorSerializer,
        },
    )
    def get(self, request):
        preference = services.preferences_of(request.user)
        return ok(notifications=NotificationPreferencesSerializer(preference).data)

    @extend_schema(
        operation_id="user_notifications_update",
        request=NotificationPreferencesUpdateSerializer,
        responses={
            200: envelope(
                "NotificationPreferencesUpdatedResponse",
                notifications=NotificationPreferencesSerializer(),
            ),
            400: ErrorSerializer,
            401: ErrorSerializer,
        },
    )
    def patch(self, request):
        serializer = NotificationPreferencesUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = services.preferences_update(user=request.user, **serializer.validated_data)
        return ok(notifications=NotificationPreferencesSerializer(preference).data)


@csrf_exempt  # the signed token is the credential; mail clients POST without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a one-button page (link scanners that prefetch GET change nothing); POST,
    from that button or a mail client's RFC 8058 one-click, switches the kind off."""
    try:
        if request.method == "POST":
            user, switch = services.unsubscribe(token=token)
        else:
            user, switch = services.unsubscribe_target(token=token)
    except NotFound:
        raise Http404("Unknown unsubscribe link") from None
    done = request.method == "POST"
    context = {"email": user.email, "label": LABELS[switch], "done": done}
    return render(request, "notifications/unsubscribe.html", context)
