"""Schemathesis against the served OpenAPI document, in process, as an admin.

Every operation is called with generated inputs, valid and invalid. No answer may be a
server error, every answer must match the schema the operation declares, and every
status must be one the operation declares. The example count is bounded so the run
stays well under two minutes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from app.clock import FrozenClock
from app.config import Settings
from app.main import create_app
from app.runtime import Runtime
from app.users.models import Role
from tests.conftest import NOW, make_token
from tests.helpers import API, objective, webhook_channel

EXAMPLES = 12


@pytest.fixture(scope="module")
def fuzz_runtime(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Runtime]:
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sqlite_template, folder / "cadence.db")
    rt = Runtime.build(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=f"sqlite:///{folder / 'cadence.db'}",
            secret_key="fuzz-secret-key-that-is-long-enough-000",
            media_dir=folder / "media",
            key_file=folder / "cadence.key",
            timezone="Europe/London",
            base_url="http://cadence.test",
            outbound_allow="127.0.0.1",  # the seeded webhook points at this machine
        ),
        clock=FrozenClock(NOW),
    )
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_runtime: Runtime) -> schemathesis.BaseSchema:
    app = create_app(fuzz_runtime)
    token = make_token(fuzz_runtime, Role.admin)
    headers = {"Authorization": f"Bearer {token}"}
    # Some real rows, so that list answers have items whose shape is checked too.
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        objective(client, headers)
        webhook_channel(client, headers)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.headers = headers
    # A body over the size limit is refused too (413), before it is even parsed.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return schema


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.response_schema_conformance,
    checks.content_type_conformance,
]


def _fuzz(api_schema: schemathesis.BaseSchema, mode: GenerationMode, checks_: list[Any]) -> None:
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=checks_)

        try:
            run()
        except Unsatisfiable:
            # No invalid input exists for this operation (e.g. one free-text path value).
            continue
        except BaseException as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.timeout(240)
def test_valid_input_gets_no_server_error_and_answers_match_the_schema(
    api_schema: schemathesis.BaseSchema,
) -> None:
    _fuzz(api_schema, GenerationMode.POSITIVE, CHECKS)


@pytest.mark.timeout(240)
def test_invalid_input_is_refused_with_a_declared_error(
    api_schema: schemathesis.BaseSchema,
) -> None:
    _fuzz(api_schema, GenerationMode.NEGATIVE, [*CHECKS, checks.negative_data_rejection])


def test_fuzz_covers_the_api(api_schema: schemathesis.BaseSchema) -> None:
    paths = {op.ok().path for op in api_schema.get_all_operations()}
    assert f"{API}/posts" in paths and f"{API}/channels/{{channel_id}}" in paths
