"""The garbage collector's pause around a bulk import: shared, and given back as found."""

from __future__ import annotations

import gc

import pytest

from app.exchange.bulk import collector_paused


def test_the_collector_comes_back_when_the_last_pause_ends() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a second import at the same time
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first one is still building
    assert gc.isenabled()


def test_an_error_gives_the_collector_back() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a bad row")
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
