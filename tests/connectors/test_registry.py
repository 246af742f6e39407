"""Every registered connector class declares every fact, and its rules follow its limits.

These iterate the registry, so a new platform is checked by adding it to
connectors.registry.CONNECTORS; nothing here names a platform.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import get_args

import pytest

from connectors.base import (
    Audience,
    Connector,
    Limits,
    Measure,
    MediaFile,
    PlatformConfig,
    PlatformCredentials,
    PublishRequest,
)
from connectors.registry import CONNECTORS, PLATFORMS, Platform, _by_slug
from tests.connectors.conftest import ALL_IDS

SLUGS = list(PLATFORMS)
REQUEST = PublishRequest(delivery_id="d", post_id="p", text="Bake sale on Friday", title="Bake")


def _file(content_type: str, size: int = 1000) -> MediaFile:
    return MediaFile("m", "file", content_type, size, Path("/nowhere"))


def _fitting(platform: Platform) -> PublishRequest:
    """A request meeting the platform's declared limits: one file of the first type it
    accepts when it takes files, else none."""
    types = platform.limits.media_types
    if types:
        content_type = next(iter(types))
        return replace(REQUEST, media=(_file(content_type),))
    return REQUEST


@pytest.mark.parametrize("slug", SLUGS)
def test_every_class_declares_every_fact(slug: str) -> None:
    connector = PLATFORMS[slug].connector
    assert issubclass(connector, Connector)
    assert connector.slug == slug
    assert connector.label.strip() and connector.short_label.strip()
    assert connector.audience is None or connector.audience in get_args(Audience)
    assert isinstance(connector.limits, Limits)
    assert issubclass(connector.config_model, PlatformConfig)
    assert issubclass(connector.credentials_model, PlatformCredentials)
    # validate is the class's own (abstract in Connector), measure answers a Measure.
    assert "validate" not in getattr(connector, "__abstractmethods__", frozenset())
    measure = connector.measure(REQUEST)
    assert isinstance(measure, Measure)
    assert measure.limit == connector.limits.text
    assert measure.unit.startswith(connector.limits.text_unit)


def test_slugs_and_labels_are_unique() -> None:
    assert len({c.slug for c in CONNECTORS}) == len(CONNECTORS) == len(PLATFORMS)
    assert len({c.label for c in CONNECTORS}) == len(CONNECTORS)


def test_a_second_class_with_a_taken_slug_is_refused() -> None:
    first = CONNECTORS[0]
    twin = type("Twin", (first,), {"label": "Twin"})
    with pytest.raises(ValueError, match=first.slug):
        _by_slug((first, twin))


def test_every_registered_platform_runs_the_connector_contract() -> None:
    """tests/connectors/test_contract.py runs over one harness per platform."""
    harnessed = {case.split("-", 1)[0] for case in ALL_IDS}
    assert set(PLATFORMS) <= harnessed  # variants (X with OAuth 2) may add more


@pytest.mark.parametrize("slug", SLUGS)
def test_a_request_within_the_limits_is_accepted(slug: str) -> None:
    platform = PLATFORMS[slug]
    assert platform.validate(_fitting(platform)) == []


@pytest.mark.parametrize("slug", [s for s in SLUGS if PLATFORMS[s].limits.text is not None])
def test_the_text_limit_is_the_measure_validate_refuses_beyond(slug: str) -> None:
    platform = PLATFORMS[slug]
    limit = platform.limits.text
    assert limit is not None
    request = _fitting(platform)
    at_limit = replace(request, text="a" * limit)
    beyond = replace(request, text="a" * (limit + 1))
    assert platform.measure(at_limit).used == limit and not platform.measure(at_limit).over
    assert platform.measure(beyond).over
    assert [p.field for p in platform.validate(at_limit)] == []
    [problem] = platform.validate(beyond)
    assert problem.field == "text"
    assert f"{limit + 1} of {limit}" in problem.message


@pytest.mark.parametrize("slug", SLUGS)
def test_an_empty_text_is_refused_exactly_where_text_is_required(slug: str) -> None:
    platform = PLATFORMS[slug]
    empty = replace(_fitting(platform), text="  ", media=())
    fields = [p.field for p in platform.validate(empty)]
    assert ("text" in fields) == platform.limits.text_required


@pytest.mark.parametrize("slug", [s for s in SLUGS if PLATFORMS[s].limits.title_required])
def test_a_missing_title_is_refused_where_one_is_required(slug: str) -> None:
    platform = PLATFORMS[slug]
    problems = platform.validate(replace(_fitting(platform), title=None))
    assert [p.field for p in problems] == ["title"]


@pytest.mark.parametrize("slug", [s for s in SLUGS if PLATFORMS[s].limits.title is not None])
def test_the_title_limit_is_refused_beyond(slug: str) -> None:
    platform = PLATFORMS[slug]
    limit = platform.limits.title
    assert limit is not None
    assert platform.validate(replace(_fitting(platform), title="t" * limit)) == []
    problems = platform.validate(replace(_fitting(platform), title="t" * (limit + 1)))
    assert [p.field for p in problems] == ["title"]


@pytest.mark.parametrize("slug", [s for s in SLUGS if PLATFORMS[s].limits.media_types])
def test_files_of_other_types_or_over_the_size_are_refused(slug: str) -> None:
    platform = PLATFORMS[slug]
    types = platform.limits.media_types
    assert types
    content_type, largest = next(iter(types.items()))
    for media in (
        (_file("application/x-unknown"),),
        (_file(content_type, size=largest + 1),),
    ):
        problems = platform.validate(replace(_fitting(platform), media=media))
        assert [p.field for p in problems] == ["media_ids"], media
        assert platform.connector.short_label in problems[0].message


@pytest.mark.parametrize("slug", [s for s in SLUGS if PLATFORMS[s].limits.single_file])
def test_exactly_one_file_where_the_platform_takes_one(slug: str) -> None:
    platform = PLATFORMS[slug]
    [one] = _fitting(platform).media
    for media in ((), (one, one)):
        problems = platform.validate(replace(_fitting(platform), media=media))
        assert [p.field for p in problems] == ["media_ids"]
        assert f"exactly one {platform.limits.single_file}" in problems[0].message


@pytest.mark.parametrize("slug", [s for s in SLUGS if PLATFORMS[s].limits.max_images])
def test_images_beyond_the_count_are_refused(slug: str) -> None:
    platform = PLATFORMS[slug]
    most = platform.limits.max_images
    assert most is not None
    types = platform.limits.media_types or {}
    image = _file(next(t for t in types if t.startswith("image/") and t != "image/gif"))
    assert platform.validate(replace(REQUEST, media=(image,) * most)) == []
    problems = platform.validate(replace(REQUEST, media=(image,) * (most + 1)))
    assert [p.field for p in problems] == ["media_ids"]
