"""The Singer SDK's own standard tap tests, run against the emulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_twilio.tap import TapTwilio
from tests.emulator import Emulator

# The SDK builds its test list at import time from a config, so the emulator (a daemon
# thread on loopback) starts at import too; the class fixture stops it afterwards.
EMULATOR = Emulator(seed=5, subaccounts=1).start()
CONFIG = EMULATOR.config()


def every_stream_selected() -> dict:
    """The discovered catalog with every stream selected, not only the default ones, so
    the suite reads all of Twilio's lists."""
    catalog = TapTwilio(config=CONFIG, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = True
    return catalog


_StandardTests = get_tap_test_class(
    TapTwilio,
    config=CONFIG,
    parse_env_config=False,
    catalog=every_stream_selected(),
    suite_config=SuiteConfig(max_records_limit=40),
)


class TestTapTwilioStandard(_StandardTests):
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _twilio_emulator(cls) -> Iterator[Emulator]:
        yield EMULATOR
        EMULATOR.stop()
