"""The OpenAPI schema is served, valid, and lists every route of the API."""

import pytest
import yaml
from django.core.management import call_command

from tests.utils import assert_error


def test_the_schema_lists_every_podcast_route(anon_client, db):
    response = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = (
        response.json() if "json" in response["Content-Type"] else yaml.safe_load(response.content)
    )
    paths = schema["paths"]
    for path in [
        "/api/v1/podcasts",
        "/api/v1/podcasts/{podcast_id}",
        "/api/v1/podcasts/{podcast_id}/retry",
        "/api/v1/podcasts/{podcast_id}/status",
        "/api/v1/podcasts/{podcast_id}/transcript",
        "/api/v1/podcasts/{podcast_id}/download",
        "/api/v1/user/profile",
    ]:
        assert path in paths, path
    create = paths["/api/v1/podcasts"]["post"]
    assert "202" in create["responses"] and "400" in create["responses"]
    assert "sessionToken" in schema["components"]["securitySchemes"]


def test_the_docs_page_is_served(anon_client, db):
    assert anon_client.get("/api/docs/").status_code == 200


def test_the_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns any drf-spectacular guesswork into a failure.
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert yaml.safe_load(out.read_text())["openapi"].startswith("3.")


@pytest.mark.parametrize("path", ["/api/v1/podcasts", "/api/v1/user/profile"])
def test_api_errors_are_json_even_for_anonymous_clients(anon_client, db, path):
    assert_error(anon_client.get(path), 401, "not_authenticated")
