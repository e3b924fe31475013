"""Shared fixtures: a Twilio emulator on loopback for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator import Emulator

# Small but multi-page for every page size the tests use.
SIZES = {
    "calls": 120,
    "messages": 150,
    "conferences": 40,
    "conference_participants": 3,
    "notifications": 60,
    "recordings": 30,
    "transcriptions": 12,
    "incoming_phone_numbers": 9,
    "outgoing_caller_ids": 4,
    "addresses": 5,
    "applications": 6,
    "keys": 3,
    "queues": 4,
    "usage_triggers": 3,
    "alerts": 25,
}


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """A read-only emulator shared by tests that do not change its data or faults."""
    with Emulator(seed=11, subaccounts=2, sizes=SIZES) as emu:
        yield emu


@pytest.fixture
def fresh_emulator() -> Iterator[Emulator]:
    """An emulator of the test's own, for tests that mutate data or inject faults."""
    with Emulator(seed=23, subaccounts=2, sizes=SIZES) as emu:
        yield emu
