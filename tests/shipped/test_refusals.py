"""Settings that would fail later, quietly, stop the start instead with a message that
names the variable; and the demo account (staff, published password) never reaches
production."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "PODNEX_ENV": "production",
    "SECRET_KEY": "kD9#vQ2!mZ7@pL4$wR8^tY1&uI6*oP3(aS5)dF0-gH2+jK7=lX9%cV4",
    "ALLOWED_HOSTS": "api.podnex.example",
    "EMAIL_URL": "smtp://mailer:secret@smtp.podnex.example:587/?tls=True",
}


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_URL") and k not in ("PODNEX_ENV", "DJANGO_SETTINGS_MODULE")
    }
    environ.update(PODNEX_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_email_url_refuses_to_start(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "EMAIL_URL"}
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Production needs EMAIL_URL" in result.stderr


def test_production_with_a_working_email_url_starts(tmp_path):
    result = manage("check", env=PRODUCTION, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize(
    "name, value",
    [
        ("EMAIL_URL", "consolemail://"),
        ("EMAIL_URL", "smtp+tls://user:pass@smtp.example.com:587"),
        ("DATABASE_URL", "postgress://postgres@127.0.0.1/podnex"),
        ("REDIS_URL", "reddis://127.0.0.1:6379/0"),
        ("CELERY_BROKER_URL", "rabbit://guest@127.0.0.1//"),
        ("OPENAI_BASE_URL", "ftp://llm.example.com/v1"),
        ("AWS_S3_ENDPOINT_URL", "s3.example.com"),
    ],
)
@pytest.mark.parametrize("environment", ["development", "production"])
def test_an_unknown_url_scheme_refuses_to_start(tmp_path, name, value, environment):
    env = {**PRODUCTION, "PODNEX_ENV": environment, name: value}
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert f"{name} has an unknown scheme" in result.stderr


def test_the_demo_user_refuses_to_run_in_production(tmp_path):
    result = manage("demo_user", env=PRODUCTION, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "refuses to run in production" in result.stderr
    assert "createsuperuser" in result.stderr


def test_development_mails_go_to_the_console(tmp_path):
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    result = manage("shell", "-c", code, env={}, tmp_path=tmp_path)
    assert result.stdout.strip().endswith("django.core.mail.backends.console.EmailBackend")


URL_SETTINGS = sorted(
    set(
        re.findall(r'env_str\(\s*"([A-Z0-9_]+_URL)"', (ROOT / "podnex" / "settings.py").read_text())
    )
)


@pytest.mark.parametrize("name", URL_SETTINGS)
def test_every_url_setting_refuses_a_scheme_nobody_knows(tmp_path, name):
    result = manage("check", env={name: "bogus://example.com/x"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert f"{name} has an unknown scheme 'bogus'" in result.stderr


def test_the_url_settings_are_found():
    assert {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "CELERY_BROKER_URL"} <= set(URL_SETTINGS)
