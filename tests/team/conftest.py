from __future__ import annotations

import pytest

from app.runtime import Runtime
from app.users.models import Role
from tests.conftest import make_token


@pytest.fixture
def contributor(runtime: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(runtime, Role.contributor)}"}


@pytest.fixture
def editor2(runtime: Runtime) -> dict[str, str]:
    """A second editor: approves the first editor's posts."""
    return {"Authorization": f"Bearer {make_token(runtime, Role.editor, 'editor2@example.org')}"}
