"""Shared fixtures: a Twilio emulator on loopback for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator import Emulator
from tests.tap_runner import TapRun, run_tap

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


# The modules that run the tap most, first: scripts/test.sh hands each worker a module at a
# time in this order (pytest-xdist's --dist loadscope), so the two workers end together
# rather than one waiting for the other's last long module.
LONGEST_FIRST = ("test_reliability", "test_targets", "test_readme", "test_shards",
                 "test_many_accounts", "test_state_volume", "test_writer", "test_options",
                 "test_incremental", "test_bad_inputs", "test_extraction",
                 "test_platform_streams", "test_pipe_recipe")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: number for number, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """A read-only emulator shared by tests that do not change its data or faults."""
    with Emulator(seed=11, subaccounts=2, sizes=SIZES) as emu:
        yield emu


@pytest.fixture(scope="session")
def default_run(emulator: Emulator) -> TapRun:
    """One plain run of the tap (default streams, default page size 1000) over the shared
    emulator, for the tests that only read its output."""
    return run_tap(emulator.config())


@pytest.fixture(scope="session")
def run_at_50_a_page(emulator: Emulator) -> TapRun:
    """The plain run at 50 records a page (several pages per list), likewise shared."""
    return run_tap({**emulator.config(), "page_size": 50})


@pytest.fixture
def fresh_emulator() -> Iterator[Emulator]:
    """An emulator of the test's own, for tests that mutate data or inject faults."""
    with Emulator(seed=23, subaccounts=2, sizes=SIZES) as emu:
        yield emu
