"""Settings: every `last_n_days` form, the date window, and bad values rejected in one line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tap_twilio.settings import SettingError, configured_end, configured_start, parse_last_n_days
from tap_twilio.validation import settings_warnings, validate_settings
from tests.tap_runner import catalog_selecting, run_tap

GOOD = {"account_sid": "AC" + "ab" * 16, "auth_token": "token"}
TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("value", "days"),
    [("30", 30), ("30Day", 30), ("30Days", 30), ("30days", 30), ("30DAYS", 30), ("7day", 7),
     ("1", 1), (30, 30), ("365Days", 365)],
)
def test_last_n_days_accepts_every_documented_form(value: str, days: int) -> None:
    assert parse_last_n_days(value) == days


@pytest.mark.parametrize("value", ["30 weeks", "0", "-5", "abc", "", "30Dayz", "Days", "3.5"])
def test_last_n_days_rejects_anything_else(value: str) -> None:
    with pytest.raises(SettingError, match=r"^last_n_days: .*expected a positive number"):
        parse_last_n_days(value)


def test_window_starts_n_days_back_or_at_start_date_whichever_is_later() -> None:
    assert configured_start({"last_n_days": "30Days"}, TODAY) == dt.date(2026, 10, 26)
    later = {"last_n_days": "30", "start_date": "2026-11-20T00:00:00Z"}
    assert configured_start(later, TODAY) == dt.date(2026, 11, 20)
    earlier = {"last_n_days": "30", "start_date": "2026-01-01"}
    assert configured_start(earlier, TODAY) == dt.date(2026, 10, 26)
    assert configured_start({}, TODAY) is None
    assert configured_end({"end_date": "2026-02-03T10:00:00+00:00"}) == dt.date(2026, 2, 3)


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"account_sid": "AC123"}, "account_sid"),
        ({"account_sid": "SK" + "ab" * 16}, "account_sid"),
        ({"auth_token": None}, "auth_token"),
        ({"api_key_sid": "SK" + "ab" * 16}, "api_key_sid / api_key_secret"),
        ({"api_key_sid": "KEY", "api_key_secret": "s"}, "api_key_sid"),
        ({"to": "5558675310"}, "to"),
        ({"from": "+1 555 867"}, "from"),
        ({"status": "done"}, "status"),
        ({"log": "debug"}, "log"),
        ({"last_n_days": "30 weeks"}, "last_n_days"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2020-13-01"}, "end_date"),
        ({"start_date": "2024-02-01", "end_date": "2024-01-01"}, "end_date"),
        ({"page_size": 5000}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"account_sids": ["AC1"]}, "account_sids"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"region": "IE 1"}, "region"),
        ({"usage_records_granularity": "hourly"}, "usage_records_granularity"),
    ],
)
def test_invalid_setting_names_itself_in_one_line(changes: dict, setting: str) -> None:
    with pytest.raises(SettingError) as caught:
        validate_settings({**GOOD, **changes})
    message = str(caught.value)
    assert message.startswith(f"{setting}: ")
    assert "\n" not in message


def test_valid_settings_pass() -> None:
    validate_settings(
        {**GOOD, "to": "+15558675310", "from": "+815012345678", "status": "completed",
         "log": "warning", "last_n_days": "30Days", "category": "sms", "page_size": 1}
    )
    validate_settings({"account_sid": GOOD["account_sid"], "api_key_sid": "SK" + "cd" * 16,
                       "api_key_secret": "secret"})


def test_secrets_are_masked_in_messages_but_placeholders_leave_text_alone() -> None:
    from tap_twilio.inputs import redact

    token = "0123456789abcdef0123456789abcdef"
    assert redact(f"failed with {token}!", {"auth_token": token}) == "failed with ***!"
    text = "page_size: got 2.5, expected a whole number"
    assert redact(text, {"auth_token": "x"}) == text


def test_a_fractional_number_is_shown_as_written() -> None:
    with pytest.raises(SettingError, match=r"^page_size: got 2\.5, expected a whole number"):
        validate_settings({**GOOD, "page_size": Decimal("2.5")})


def test_flattening_enabled_alone_flattens_with_the_default_depth(emulator) -> None:
    catalog = catalog_selecting(emulator.config(), {"accounts", "incoming_phone_numbers"})
    run = run_tap({**emulator.config(), "flattening_enabled": True}, catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    numbers = run.records["incoming_phone_numbers"]
    assert numbers
    assert all("capabilities" not in record for record in numbers)
    assert {"capabilities__voice", "capabilities__sms"} <= set(numbers[0])
    schema = run.schemas["incoming_phone_numbers"]["schema"]["properties"]
    assert "capabilities__voice" in schema


def test_numbers_and_strings_from_the_environment_are_both_accepted(emulator) -> None:
    catalog = catalog_selecting(emulator.config(), {"accounts", "notifications"})
    env = {"TAP_TWILIO_LAST_N_DAYS": "30Days", "TAP_TWILIO_LOG": "0"}
    run = run_tap(emulator.config(), catalog=catalog, args=("--config=ENV",), env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records["notifications"], "no notification read: the filter is not checked"
    assert {record["log"] for record in run.records["notifications"]} == {0}
    assert "Parsing 'last_n_days' config from env variable" in run.stderr


@pytest.mark.parametrize(("category", "message"), [
    ("SMS", "category: got 'SMS', expected Twilio's usage category in lower case: 'sms'"),
    ("Calls-Inbound", "category: got 'Calls-Inbound', expected Twilio's usage category in "
     "lower case: 'calls-inbound'"),
    ("cals", "category: got 'cals', not a Twilio usage category; did you mean 'calls'?"),
    ("sms-inbound-longcodes", "category: got 'sms-inbound-longcodes', not a Twilio usage "
     "category; did you mean 'sms-inbound-longcode'?"),
])
def test_a_category_in_another_case_or_misspelt_is_an_error(category: str, message: str) -> None:
    with pytest.raises(SettingError) as caught:
        validate_settings({**GOOD, "category": category})
    assert str(caught.value) == message


def test_a_category_unknown_but_possibly_new_is_a_warning() -> None:
    for known in ("sms", "calls-inbound", "totalprice", "wireless-usage-data"):
        assert settings_warnings({**GOOD, "category": known}) == []
    validate_settings({**GOOD, "category": "conversations-api-requests-v2"})
    [warning] = settings_warnings({**GOOD, "category": "conversations-api-requests-v2"})
    assert warning.startswith("category: 'conversations-api-requests-v2' is not among the 643")


def test_a_start_date_after_today_is_an_error_and_today_is_not() -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    validate_settings({**GOOD, "start_date": today.isoformat()})
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    with pytest.raises(SettingError, match=rf"^start_date: got '{tomorrow}', a day after today"):
        validate_settings({**GOOD, "start_date": tomorrow})
