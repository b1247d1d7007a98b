"""Schema-driven fuzzing: every operation in /api/schema/, signed in as alice over the demo.

Schemathesis sends each operation its boundary cases (coverage phase) and a bounded,
derandomized set of generated requests, valid and invalid (fuzzing phase). No answer
may be a 5xx, and its status code, content type, headers and body must be the ones
the schema declares. Each request runs in a savepoint that is rolled back, so every
one meets the untouched demo data.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sensorgrid.accounts.models import ApiToken
from sensorgrid.inventory import demo
from sensorgrid.tenancy.models import User

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Fixed, so that the header configured at collection matches each test's new token.
ALICE_TOKEN = "a11ce" * 8


def load_schema() -> schemathesis.BaseSchema:
    # Serving the schema touches no database, so it loads at collection time.
    # (schemathesis.pytest.from_fixture would defer it, but fails on pytest 9.2.)
    config = schemathesis.Config(seed=20260101)
    config.projects.default.update(headers={"Authorization": f"Token {ALICE_TOKEN}"})
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)


schema = load_schema()


@pytest.fixture
def demo_data(db) -> Iterator[None]:
    demo.load()
    ApiToken.objects.issue(User.objects.get(username="alice"), "schemathesis", key=ALICE_TOKEN)
    # Like Django's test client: the real WSGI handler would otherwise close the
    # connection after each request, and with it the test's transaction (PostgreSQL).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    # The demo data is shared by all examples on purpose (each one rolls back), and
    # slow or heavily filtered generation says nothing about the API.
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, demo_data):
    if case.meta.phase.name == TestPhase.COVERAGE and case.media_type not in (
        None,
        "application/json",
    ):
        # The coverage phase repeats every body case once per request media type;
        # form and multipart bodies reach the same serializers, and the fuzzing phase
        # still sends them. Skipping the copies halves the run time.
        return
    with transaction.atomic():
        response = case.call()
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS)
