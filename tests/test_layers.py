"""The layer contracts (pyproject.toml, checked by `lint-imports` in `make test`) cover every
app of the project: an app missing from root_packages would go unchecked."""

from __future__ import annotations

import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
NOT_APPS = {"tests", "bench"}


def importlinter_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def project_apps() -> set[str]:
    """Our apps, installed or not yet (a package at the top of the project is one)."""
    installed = {
        config.name.split(".")[0]
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(ROOT)
        # the venv may live inside the project (make's .venv): installed apps are not ours
        and "site-packages" not in Path(config.path).parts
    }
    packages = {
        path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name not in NOT_APPS
    }
    return installed | packages


def test_every_project_app_is_a_root_package_of_the_contracts():
    assert project_apps() - set(importlinter_config()["root_packages"]) == set()


def test_every_project_app_sits_in_a_layer():
    layers = next(c for c in importlinter_config()["contracts"] if c["type"] == "layers")
    named = {
        name.strip().strip("()")
        for layer in layers["layers"]
        for name in layer.replace(":", "|").split("|")
    }
    assert project_apps() - named == set()


def test_ops_is_the_top_floor_and_podnex_the_ground():
    layers = next(c for c in importlinter_config()["contracts"] if c["type"] == "layers")
    assert layers["layers"][0] == "ops"
    assert layers["layers"][-1] == "podnex"
