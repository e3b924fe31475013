"""What a person watching stderr sees: a few lines per stream by default, the SDK's own
per-stream and per-partition lines at debug level, and a failure's cause as the last line."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from tap_twilio.streams import DEFAULT_STREAM_NAMES
from tests.emulator import Emulator
from tests.tap_runner import REPO, TapRun, catalog_selecting, run_acting_after, run_tap

README = REPO / "README.md"
# The SDK's lines repeated per stream or per partition.
SDK_CHATTER = ("Skipping deselected stream", "Beginning sync of", "Starting incremental sync of",
               "An unhandled error occurred")
FEW_STREAMS = {"accounts", "messages", "message_media"}


def messages(stderr: str) -> list[str]:
    """Each stderr line without the log prefix (time, level, logger)."""
    return [line.split(" | ")[-1] for line in stderr.strip().splitlines()]


def readme_block(language: str, containing: str) -> str:
    (block,) = [block for block in re.findall(rf"^```{language}\n(.*?)^```", README.read_text(),
                                              re.MULTILINE | re.DOTALL) if containing in block]
    return block


def structured_logging_config(folder: Path, level: str) -> Path:
    """README's `SINGER_SDK_LOG_CONFIG` file (the SDK's structured formatter), at `level`."""
    path = folder / "logging.yml"
    config = yaml.safe_load(readme_block("yaml", "StructuredFormatter"))
    config["root"]["level"] = level
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_plain_run_prints_about_two_lines_per_stream(default_run: TapRun) -> None:
    assert default_run.returncode == 0, default_run.stderr[-2000:]
    lines = messages(default_run.stderr)
    streams = len(DEFAULT_STREAM_NAMES)
    assert len(lines) <= 2 * streams, "\n".join(lines)
    for stream in DEFAULT_STREAM_NAMES:
        assert sum(line.startswith(f"{stream}: done, ") for line in lines) == 1, stream
    assert lines[-1].startswith(f"sync finished: {sum(map(len, default_run.records.values())):,}")
    assert [line for line in lines if line.startswith(SDK_CHATTER)] == []


def test_the_sdk_s_lines_show_at_debug_level(emulator) -> None:
    config = emulator.config()
    catalog = catalog_selecting(config, FEW_STREAMS)
    for variable in ("TAP_TWILIO_LOG_LEVEL", "TAP_TWILIO_LOGLEVEL"):  # ours, and the SDK's
        run = run_tap(config, catalog=catalog, env={variable: "debug"})
        assert run.returncode == 0, run.stderr[-2000:]
        chatter = [line for line in run.stderr.splitlines()
                   if "Beginning sync of 'message_media'" in line]
        assert len(chatter) > 1, variable  # one per message read
        assert all("| DEBUG " in line for line in chatter), chatter[0]
        assert any("Skipping deselected stream 'calls'" in line for line in run.stderr.splitlines())
    quiet = run_tap(config, catalog=catalog, env={"TAP_TWILIO_LOG_LEVEL": "info"})
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert "Beginning sync" not in quiet.stderr and "DEBUG" not in quiet.stderr


def test_an_unknown_log_level_is_one_line(emulator) -> None:
    run = run_tap(emulator.config(), env={"TAP_TWILIO_LOG_LEVEL": "loud"})
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "tap-twilio: error: TAP_TWILIO_LOG_LEVEL: expected one of debug, info, warning, error, "
        "critical, got 'loud'"]


def test_structured_logging_is_quiet_too_and_shows_the_sdk_s_lines_at_debug(
        emulator, tmp_path: Path) -> None:
    config = emulator.config()
    catalog = catalog_selecting(config, FEW_STREAMS)
    logged = {}
    for level in ("INFO", "DEBUG"):
        env = {"SINGER_SDK_LOG_CONFIG": str(structured_logging_config(tmp_path, level))}
        run = run_tap(config, catalog=catalog, env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        logged[level] = [json.loads(line) for line in run.stderr.splitlines()]
    info = [entry["message"] for entry in logged["INFO"]]
    assert {f"{stream}: done" for stream in FEW_STREAMS} <= {m.split(",")[0] for m in info}
    assert info[-1].startswith("sync finished: ")
    assert [m for m in info if m.startswith(SDK_CHATTER)] == []
    assert len(info) <= 2 * len(FEW_STREAMS) + 2
    chatter = [entry for entry in logged["DEBUG"]
               if entry["message"].startswith("Beginning sync of 'message_media'")]
    assert len(chatter) > 1 and {entry["level"] for entry in chatter} == {"debug"}


def test_a_rejected_auth_token_ends_with_its_cause_after_a_few_lines(emulator) -> None:
    run = run_tap(emulator.config(auth_token="0" * 32))
    assert run.returncode == 1
    lines = messages(run.stderr)
    assert lines[-1].startswith("tap-twilio: error: Twilio rejected the credentials (HTTP 401"), (
        lines[-1])
    assert len(lines) <= 3, "\n".join(lines)
    assert not any(", 0 records, 0 pages" in line or line.startswith(SDK_CHATTER)
                   for line in lines), "\n".join(lines)
    assert lines[-2].startswith("sync stopped: 0 records")



def test_a_run_failing_midway_ends_with_its_cause_after_a_few_lines(fresh_emulator) -> None:
    """Every request fails once records are out, with no retry: the requests in flight at
    once (read ahead, in parallel) all give up; one line says so, then the run's end and its
    cause."""
    fresh_emulator.latency = 0.02  # the run still reading when its first records are out
    def fail_every_request(process: subprocess.Popen[str]) -> bool:
        fresh_emulator.faults.fail_from(0, "503")
        return False  # read on to the run's end

    config = {**fresh_emulator.config(), "max_retries": 0, "page_size": 50}
    run = run_acting_after(config, None, 1, fail_every_request)
    assert run.returncode == 1
    assert '"type":"RECORD"' in run.stdout  # failed midway, after records were written
    lines = messages(run.stderr)
    assert lines[-1] == ("tap-twilio: error: gave up retrying: HTTP 503, Twilio code 20503: "
                         "Service Unavailable; Twilio kept failing, run again later")
    assert len(lines) <= 4, "\n".join(lines)
    assert lines[-2].startswith("sync stopped: ")
    assert sum("giving up after 1 tries" in line for line in lines) == 1


def test_readme_shows_what_the_connection_test_prints_against_the_emulator() -> None:
    """README's `--test` lines are those of the emulator README starts (its defaults)."""
    shown = readme_block("text", "connection test passed").strip().splitlines()
    with Emulator(seed=7, subaccounts=2, sizes={}) as emu:
        run = run_tap(emu.config(), args=("--test",))
    assert run.returncode == 0, run.stderr[-2000:]
    lines = messages(run.stderr)
    assert shown[-1] == lines[-1]
    assert len(lines[-1]) <= 300
    details = lines[lines.index(shown[0]):-1]
    assert all(line.startswith("not read, ") for line in details), details
    assert [line for line in shown[:-1] if line != "..."] == [details[0], details[1],
                                                                details[-1]]
