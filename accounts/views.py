"""/api/v1/user/profile, and allauth's password reset by key counted as a login."""

import json

from allauth.account.utils import url_str_to_user_pk
from allauth.headless.account.views import ResetPasswordView
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from accounts import lockout
from accounts.serializers import ProfileSerializer, ProfileUpdateSerializer
from accounts.services import user_profile_update
from billing.selectors import user_subscription_summary
from billing.serializers import SubscriptionSerializer
from podnex.api.responses import ErrorSerializer, envelope, ok


class ProfileView(APIView):
    @extend_schema(
        operation_id="user_profile_retrieve",
        responses={
            200: envelope(
                "ProfileResponse", user=ProfileSerializer(), subscription=SubscriptionSerializer()
            ),
            401: ErrorSerializer,
        },
    )
    def get(self, request):
        return ok(
            user=ProfileSerializer(request.user).data,
            subscription=user_subscription_summary(user=request.user),
        )

    @extend_schema(
        operation_id="user_profile_update",
        request=ProfileUpdateSerializer,
        responses={
            200: envelope("ProfileUpdatedResponse", user=ProfileSerializer()),
            400: ErrorSerializer,
            401: ErrorSerializer,
        },
    )
    def patch(self, request):
        serializer = ProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_profile_update(user=request.user, **serializer.validated_data)
        return ok(user=ProfileSerializer(user).data)


class LockedResetPasswordView(ResetPasswordView):
    """allauth's password-reset-by-key endpoint (GET checks a key, POST sets the password
    and logs in), counted like a login: a refused key is a failed login of the account it
    names (and of the address), and a locked account or address is refused (429)."""

    def handle(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        credentials = {"username": _account_named_by(_reset_key_of(request))}
        if AxesProxyHandler.is_locked(request, credentials):
            return lockout.locked_out(request, None, credentials)
        response = super().handle(request, *args, **kwargs)
        if response.status_code == 400 and _key_refused(response):
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        return response


def _reset_key_of(request: HttpRequest) -> str:
    if request.method == "GET":
        return request.headers.get("X-Password-Reset-Key", "")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        return ""  # allauth answers the malformed body itself
    key = body.get("key") if isinstance(body, dict) else None
    return key if isinstance(key, str) else ""


def _account_named_by(key: str) -> str:
    """The e-mail of the account a reset key names ("<uidb36>-<token>"), or ""."""
    try:
        pk = url_str_to_user_pk(key.partition("-")[0])
    except (ValueError, TypeError, OverflowError):
        return ""
    email = get_user_model().objects.filter(pk=pk).values_list("email", flat=True).first()
    return (email or "").lower()


def _key_refused(response: HttpResponseBase) -> bool:
    try:
        errors = json.loads(response.content).get("errors", [])
    except (ValueError, AttributeError):
        return False
    return any(error.get("param") == "key" for error in errors if isinstance(error, dict))
