"""A setting the tap does not know is said, on every command, in one warning naming the one
likely meant: a misspelt `last_n_days` would otherwise read the whole history unannounced."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.tap_runner import catalog_selecting, run_tap

TYPO = "unknown setting last_n_day; did you mean last_n_days?"
# A value for each of the SDK's own settings (--about lists them beside the tap's).
SDK_SETTINGS = {
    "stream_maps": {},
    "stream_map_config": {},
    "faker_config": {},
    "flattening_enabled": False,
    "flattening_max_depth": 1,
    "flattening_max_key_length": 60,
    "flattening_separator": "__",
    "batch_config": None,
}


def tap_settings() -> set[str]:
    """The tap's own settings, read in a process of their own: a tap made in this one (the
    SDK's standard tests) adds the SDK's to the same schema."""
    listed = subprocess.run([sys.executable, "-c", "import json; from tap_twilio.settings "
                             "import CONFIG_SCHEMA; print(json.dumps(list(CONFIG_SCHEMA["
                             "'properties'])))"], capture_output=True, text=True, check=True)
    return set(json.loads(listed.stdout))


def warnings_of(stderr: str) -> list[str]:
    return [line.split(" | ")[-1] for line in stderr.splitlines() if "| WARNING " in line]


@pytest.mark.parametrize("command", ["run", "--discover", "--test"])
def test_a_misspelt_setting_is_said_once_on_every_command(emulator, command: str) -> None:
    config = {**emulator.config(), "last_n_day": 30}
    if command == "run":
        run = run_tap(config, catalog=catalog_selecting(config, {"accounts"}))
    else:
        run = run_tap(config, args=(command,))
    assert run.returncode == 0, run.stderr[-2000:]
    assert warnings_of(run.stderr).count(TYPO) == 1, run.stderr[-3000:]
    assert sum("last_n_day" in line for line in run.stderr.splitlines()) == 1


def test_several_unknown_settings_are_one_warning(emulator) -> None:
    config = {**emulator.config(), "last_n_day": 30, "flatening_enabled": True,
              "colour": "blue"}
    run = run_tap(config, args=("--discover",))
    assert run.returncode == 0, run.stderr[-2000:]
    assert warnings_of(run.stderr) == [
        "unknown settings, ignored: colour, flatening_enabled (did you mean "
        "flattening_enabled?), last_n_day (did you mean last_n_days?)"]


def test_the_sdk_s_own_settings_are_known(emulator) -> None:
    about = run_tap({}, args=("--about", "--format=json"))
    assert about.returncode == 0, about.stderr
    sdk_settings = set(json.loads(about.stdout)["settings"]["properties"]) - tap_settings()
    assert sdk_settings == set(SDK_SETTINGS)
    config = {**emulator.config(), **SDK_SETTINGS}
    run = run_tap(config, catalog=catalog_selecting(config, {"accounts"}))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records["accounts"]
    assert not any("unknown setting" in line for line in run.stderr.splitlines()), run.stderr


def test_settings_from_the_environment_warn_of_no_other_variable(emulator) -> None:
    """With --config=ENV the tap reads only the TAP_TWILIO_* variables of its settings;
    other variables with that prefix (the log level, a user's own) are no setting."""
    env = {"TAP_TWILIO_ACCOUNT_SID": emulator.account_sid,
           "TAP_TWILIO_AUTH_TOKEN": emulator.auth_token, "TAP_TWILIO_BASE_URL": emulator.url,
           "TAP_TWILIO_LOG_LEVEL": "info", "TAP_TWILIO_LAST_N_DAY": "30",
           "TAP_TWILIO_SOMETHING_ELSE": "1"}
    run = run_tap({}, args=("--config=ENV", "--discover"), env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout)["streams"]
    assert warnings_of(run.stderr) == []
