"""schemathesis against the live /api/schema/ of a running server: every operation, with a
session token and with an API key, a bounded and deterministic number of examples each.
It must find no 5xx, no answer the schema does not describe, and no route it leaves out.

A second pass sends hostile values where the schema only says "string": path parameters of
any text (NUL, thousands of characters, non-UTF-8 percent-escapes) and the headers the API
reads (Range, Idempotency-Key, X-Request-ID). Run on PostgreSQL (CI) to meet its refusals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
import schemathesis
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.transport.serialization import EncodedPath

from apikeys import scopes
from apikeys.services import api_key_create
from tests.billing.conftest import dodo_api  # noqa: F401 - payments configured, on loopback
from tests.factories import UserFactory
from tests.media_samples import image, tone

PASSWORD = "correct-horse-battery-staple"
MAX_EXAMPLES = 6


SCHEMA_ACCEPT = {"Accept": "application/vnd.oai.openapi+json"}


def session_token(base_url: str, email: str) -> str:
    response = requests.post(
        f"{base_url}/api/auth/app/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["meta"]["session_token"]


def _expiry_in_the_future(context, body):
    """A key's expiresAt must lie ahead, a rule JSON Schema cannot state (the field's
    description does): move generated past dates a year ahead, keep everything else."""
    if isinstance(body, dict) and isinstance(body.get("expiresAt"), str):
        try:
            moment = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
        except ValueError:
            return body
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # naive times are read as UTC
        if moment <= datetime.now(UTC) + timedelta(days=1):
            body = {**body, "expiresAt": (datetime.now(UTC) + timedelta(days=365)).isoformat()}
    return body


# Real prose: a source must hold enough readable text, and an upload's bytes must be a
# document type (both told from the content, which JSON Schema cannot state).
PROSE = (
    "Honey bees perform a waggle dance to tell their sisters where flowers are. The angle "
    "of the dance shows the direction relative to the sun, and its length the distance. "
) * 3


def _uploads_that_decode(context, body):
    """An upload route reads what its file holds (an image, audio, a document), which JSON
    Schema cannot state either: give a generated upload a real file of that kind, and
    generated pasted text real prose before it (the generated part is still parsed)."""
    path = context.operation.path if context.operation else ""
    if isinstance(body, dict) and "file" in body:
        if path.endswith(("/feed/image", "/artwork")):
            body = {**body, "file": image(1400, fmt="JPEG")}
        elif "/feed/clips/" in path:
            body = {**body, "file": tone(1.0, "wav")}
        elif path.endswith("/sources"):
            body = {**body, "file": PROSE.encode()}
    if isinstance(body, dict) and body.get("type") == "text" and isinstance(body.get("text"), str):
        body = {**body, "text": PROSE + body["text"]}
    return body


# Any text (schemathesis percent-encodes it), plus raw escapes sent as they are.
HOSTILE_PATH_VALUE = st.one_of(
    st.sampled_from(["abc\x00def", "\x00", "x" * 3000, "9" * 5000, "..", "ü" * 200]),
    st.sampled_from(["%FF%FE", "%C0%AF", "%ED%A0%80", "a%00b", "%E2%82"]).map(EncodedPath),
    st.text(min_size=1, max_size=200),
)
# What requests lets through as a header value: no CR/LF, no leading white space.
_HEADER_TEXT = st.text(
    st.characters(min_codepoint=0, max_codepoint=0xFF, exclude_characters="\r\n"),
    max_size=300,
).map(lambda text: re.sub(r"^\s+", "", text))
HOSTILE_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Range": st.one_of(
            _HEADER_TEXT,
            st.sampled_from(
                ["bytes=" + "9" * 5000 + "-", "bytes=0-" + "9" * 5000, "bytes=-" + "9" * 5000]
            ),
        ),
        "Idempotency-Key": st.one_of(_HEADER_TEXT, st.just("k" * 5000)),
        "X-Request-ID": st.one_of(_HEADER_TEXT, st.just("r" * 5000)),
    },
)


def _hostile_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries({name: HOSTILE_PATH_VALUE for name in path_parameters})


def _hostile_headers(context, headers):
    return HOSTILE_HEADERS.map(lambda extra: {**(headers or {}), **extra})


def fuzz(base_url: str, headers: dict[str, str], *, hostile: bool = False) -> None:
    """Every operation of the live schema, MAX_EXAMPLES generated cases each (valid and
    invalid data, fixed seed), every schemathesis check; all failures reported at once.
    `hostile`: path parameters and the Range/Idempotency-Key/X-Request-ID headers take
    hostile values instead."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/", headers=SCHEMA_ACCEPT)
    schema.hook("map_body")(_expiry_in_the_future)
    schema.hook("map_body")(_uploads_that_decode)
    if hostile:
        schema.hook("flatmap_path_parameters")(_hostile_path_parameters)
        schema.hook("flatmap_headers")(_hostile_headers)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.explicit, Phase.generate],
        )
        def run(case):
            # Hostile values are outside what "type: string" can say is invalid, so a 4xx
            # for them is right: only the "valid data is accepted" check does not apply.
            excluded = [positive_data_acceptance] if hostile else None
            case.call_and_validate(base_url=base_url, headers=headers, excluded_checks=excluded)

        try:
            run()
        except BaseException as exc:  # noqa: BLE001 - collected, reported together below
            failures.append(f"{operation.label}: {exc!s:.3000}")
    assert operations >= 30
    assert not failures, "\n\n".join(failures)


@pytest.fixture
def fuzz_user(live_server, dodo_api):  # noqa: F811 - payments configured, on loopback
    return UserFactory(email="fuzz@example.com")


def test_every_operation_holds_its_contract_with_a_session_token(live_server, fuzz_user):
    fuzz(live_server.url, {"X-Session-Token": session_token(live_server.url, fuzz_user.email)})


def test_every_operation_holds_its_contract_with_an_api_key(live_server, fuzz_user):
    _, key = api_key_create(user=fuzz_user, name="fuzz", scopes=list(scopes.SCOPES))
    fuzz(live_server.url, {"X-API-Key": key})


def test_hostile_path_parameters_and_headers_never_make_a_5xx(live_server, fuzz_user):
    fuzz(
        live_server.url,
        {"X-Session-Token": session_token(live_server.url, fuzz_user.email)},
        hostile=True,
    )


def _api_v1_routes(resolver=None, prefix: str = "") -> set[str]:
    resolver = resolver or get_resolver()
    routes = set()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes |= _api_v1_routes(entry, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
            routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return routes


def test_every_api_v1_route_is_in_the_schema(live_server):
    documented = set(
        requests.get(f"{live_server.url}/api/schema/", headers=SCHEMA_ACCEPT, timeout=10).json()[
            "paths"
        ]
    )
    missing = _api_v1_routes() - documented
    assert not missing, f"routes the schema leaves out: {sorted(missing)}"
