"""One failure counter per account and per IP address for every way to log in: the auth
API (browser and app), /admin/login/ and password-reset keys. django-axes keeps the counters
(its authentication backend refuses a locked account or address before any password is
checked; Django's `user_login_failed` signal counts each failure); this module tells axes
who is trying and answers a lockout in the API's error shape."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from podnex.api.errors import error_body


def client_username(request: HttpRequest, credentials: dict | None) -> str:
    """AXES_USERNAME_CALLABLE: allauth authenticates with `email`, the admin with
    `username` (our username field is the e-mail); one account, one counter."""
    credentials = credentials or {}
    name = credentials.get("email") or credentials.get("username") or ""
    return str(name).strip().lower()


def client_ip(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: the address uvicorn resolved from trusted proxies only
    (FORWARDED_ALLOW_IPS), never a client's own X-Forwarded-For."""
    return request.META.get("REMOTE_ADDR", "")


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After; the error shape under /api/."""
    retry_after = str(math.ceil(settings.AXES_COOLOFF_TIME.total_seconds()))
    message = "Too many failed login attempts; try again later"
    if request.path.startswith("/api/"):
        response = JsonResponse(
            error_body(message, "too_many_login_failures", retryAfter=int(retry_after)),
            status=429,
        )
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = retry_after
    return response
