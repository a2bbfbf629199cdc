"""Strict parsing of environment variables: a bad value fails at start-up, not at 3 a.m."""

from __future__ import annotations

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


def env_float_item(name: str, raw: str) -> float:
    """One non-negative number of a comma-separated list variable."""
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must list numbers, got {raw!r}") from None
    if value < 0:
        raise ImproperlyConfigured(f"{name} must list non-negative numbers, got {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_addresses(name: str) -> list[str]:
    """A comma-separated list of IP addresses and CIDR networks (or "*"), checked strictly:
    a typo must fail at start-up, not silently trust or distrust a proxy."""
    items = env_list(name, [])
    if items == ["*"]:
        return items
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or CIDR networks (or be *), got {item!r}"
            ) from None
    return items


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def check_url_schemes(urls: dict[str, tuple[str, set[str]]]) -> None:
    """Refuse to start when a *_URL setting names a scheme nothing here understands: such a
    URL would otherwise be ignored quietly (an unknown EMAIL_URL scheme made Django fall back
    to SMTP on localhost) and fail only when first used. `urls` maps each variable's name to
    (its value, the schemes it accepts); empty values are the feature switched off."""
    for name, (value, schemes) in urls.items():
        if not value:
            continue
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in schemes:
            raise ImproperlyConfigured(
                f"{name} has an unknown scheme {scheme or value!r}: "
                f"use one of {', '.join(sorted(schemes))}://"
            )
