from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render


def home(request: HttpRequest, key: str | None = None):
    """The studio page. It also answers the links of account e-mails
    (/account/verify-email/<key>, /account/password/reset/key/<key>): its script reads the
    key from the path and finishes the step through allauth's API."""
    context = {}
    if not settings.IS_PRODUCTION:
        context["demo"] = {
            "email": settings.DEMO_USER_EMAIL,
            "password": settings.DEMO_USER_PASSWORD,
        }
    return render(request, "home.html", context)
