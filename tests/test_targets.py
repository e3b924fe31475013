"""End to end through Meltano and real targets, against the emulator.

* `meltano.yml` declares every setting the tap has (`tap-twilio --about`), with the right kind.
* `meltano run tap-twilio target-jsonl`, settings given only as `TAP_TWILIO_*` env vars.
* `meltano run tap-twilio target-postgres` into a real PostgreSQL server started here
  (Debian's package; `scripts/ensure_postgres.sh` installs it): every stream's row count and
  column types, then an incremental second run that upserts new and changed messages.
* `meltano run tap-twilio target-postgres-pipelinewise` (pipelinewise-target-postgres, a
  loader that loads a stream's rows at each SCHEMA message of it) into the same server: every
  stream's rows, each table loaded once (one SCHEMA per stream), every record validated.

Meltano runs as `uv tool run meltano==4.4.1` (cached by uv); the plugins are installed into
this repo's gitignored `.meltano/tests/`, and each test keeps its state in a system DB of its
own.
Skip these tests locally with TAP_TWILIO_SKIP_E2E=1; `scripts/test.sh` and CI run them.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tap_twilio.streams import DEFAULT_STREAM_NAMES
from tests.conftest import SIZES
from tests.emulator import Emulator
from tests.emulator.deletions import delete
from tests.tap_runner import PRIMARY_KEYS, REPO, discovered_catalog, run_tap, truth

e2e = pytest.mark.skipif(
    os.environ.get("TAP_TWILIO_SKIP_E2E") == "1",
    reason="end-to-end Meltano/PostgreSQL tests skipped (TAP_TWILIO_SKIP_E2E=1)",
)

MELTANO_VERSION = "4.4.1"
MELTANO_SYS_DIR = REPO / ".meltano" / "tests"  # plugin venvs and run files of these tests
# Young accounts keep the daily usage records (one per category and day) to a few thousand.
AGES = [45, 30, 10]


def record_key(stream: str, record: dict) -> tuple:
    if stream == "usage_records":
        return (record["account_sid"], record["category"], str(record["start_date"])[:10],
                str(record["end_date"])[:10])
    return tuple(record.get(key) for key in PRIMARY_KEYS[stream])


# --- meltano ------------------------------------------------------------------------------


def meltano_command() -> list[str]:
    uv = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    return [uv, "tool", "run", "--quiet", f"meltano=={MELTANO_VERSION}"]


def meltano_env(workdir: Path, emu: Emulator | None = None, **extra: str) -> dict[str, str]:
    """Environment of a meltano command: own system DB (state), no tracking, tap settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TAP_TWILIO_", "TARGET_", "MELTANO_"))
           and key not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    env.update({
        "MELTANO_PROJECT_ROOT": str(REPO),
        "MELTANO_SYS_DIR_ROOT": str(MELTANO_SYS_DIR),
        "MELTANO_DATABASE_URI": f"sqlite:///{workdir}/meltano.db",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DISABLE_TRACKING": "true",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        "MELTANO_CLI_LOG_FORMAT": "uncolored",
        # Meltano installs the plugins with uv rather than virtualenv and pip: the same
        # packages, in a quarter of the time on a fresh clone (README's blocks keep the default).
        "MELTANO_VENV_BACKEND": "uv",
        "NO_COLOR": "1",
    })
    if emu is not None:
        env.update({
            "TAP_TWILIO_ACCOUNT_SID": emu.account_sid,
            "TAP_TWILIO_AUTH_TOKEN": emu.auth_token,
            "TAP_TWILIO_BASE_URL": emu.url,
        })
    env.update(extra)
    return env


def meltano(args: list[str], env: dict[str, str], log: Path,
            timeout: float = 600) -> subprocess.CompletedProcess:
    started = time.monotonic()
    with log.open("w") as out:
        completed = subprocess.run([*meltano_command(), *args], cwd=REPO, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                                   check=False)
    text = log.read_text()
    assert completed.returncode == 0, f"meltano {' '.join(args)} failed:\n{text[-4000:]}"
    print(f"meltano {' '.join(args)}: {time.monotonic() - started:.1f}s")
    return completed


@pytest.fixture(scope="module")
def meltano_installed(tmp_path_factory) -> Iterator[Path]:
    """`meltano install`: the tap (editable, this checkout) and both loaders.

    They go to .meltano/tests/ (gitignored, kept between runs, apart from a developer's own
    .meltano/), under a lock: Meltano writes each run's config and catalog to fixed paths
    there, so two test sessions in one checkout must not run pipelines at the same time.
    """
    workdir = tmp_path_factory.mktemp("meltano-install")
    MELTANO_SYS_DIR.mkdir(parents=True, exist_ok=True)
    with (MELTANO_SYS_DIR / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            meltano(["install"], meltano_env(workdir), workdir / "install.log", timeout=900)
            yield workdir
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --- postgres -----------------------------------------------------------------------------


def postgres_bindir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()],
                        reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    pytest.fail("PostgreSQL is not installed: run scripts/ensure_postgres.sh "
                "(or set TAP_TWILIO_SKIP_E2E=1)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Postgres:
    bindir: Path
    host: str
    port: int
    user: str
    password: str
    database: str

    def target_env(self, schema: str) -> dict[str, str]:
        return {
            "TARGET_POSTGRES_HOST": self.host,
            "TARGET_POSTGRES_PORT": str(self.port),
            "TARGET_POSTGRES_USER": self.user,
            "TARGET_POSTGRES_PASSWORD": self.password,
            "TARGET_POSTGRES_DATABASE": self.database,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
        }

    def pipelinewise_env(self, schema: str) -> dict[str, str]:
        prefix = "TARGET_POSTGRES_PIPELINEWISE_"
        return {
            prefix + "HOST": self.host,
            prefix + "PORT": str(self.port),
            prefix + "USER": self.user,
            prefix + "PASSWORD": self.password,
            prefix + "DBNAME": self.database,
            prefix + "DEFAULT_TARGET_SCHEMA": schema,
            prefix + "VALIDATE_RECORDS": "true",
        }

    def query(self, sql: str) -> list[list[str]]:
        """Rows of a query via psql, each a list of column texts."""
        completed = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-F", "\t", "-v",
             "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port), "-U", self.user,
             "-d", self.database, "-c", sql],
            capture_output=True, text=True, env={**os.environ, "PGPASSWORD": self.password},
            timeout=60, check=False,
        )
        assert completed.returncode == 0, f"{sql}: {completed.stderr}"
        return [line.split("\t") for line in completed.stdout.splitlines() if line]

    def scalar(self, sql: str) -> str:
        return self.query(sql)[0][0]


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on a free port of 127.0.0.1, stopped afterwards.

    Postgres refuses to run as root, so as root the cluster belongs to the `postgres` user
    that Debian's package creates.
    """
    bindir = postgres_bindir()
    root = tempfile.mkdtemp(prefix="tap-twilio-pg-")
    as_owner: list[str] = []
    if os.geteuid() == 0:
        owner = "postgres"
        if subprocess.run(["id", "-u", owner], capture_output=True, check=False).returncode:
            subprocess.run(["useradd", "--system", "--no-create-home", owner], check=True)
        shutil.chown(root, owner, owner)
        as_owner = ["runuser", "-u", owner, "--"]
    data, log = Path(root, "data"), Path(root, "server.log")
    password = "tap-twilio-test"
    pwfile = Path(root, "pw")
    pwfile.write_text(password + "\n")
    if as_owner:
        shutil.chown(pwfile, "postgres", "postgres")
    port = free_port()
    subprocess.run([*as_owner, str(bindir / "initdb"), "-D", str(data), "-U", "tap",
                    f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=trust",
                    "-E", "UTF8", "--locale=C", "--no-sync"],
                   check=True, capture_output=True, text=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -F -c fsync=off"
    started = subprocess.run(
        [*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
         "-o", options, "start"], capture_output=True, text=True, check=False)
    server = Postgres(bindir, "127.0.0.1", port, "tap", password, "postgres")
    try:
        assert started.returncode == 0, started.stderr + (log.read_text() if log.exists() else "")
        server.query("CREATE DATABASE twilio")
        server.database = "twilio"
        yield server
    finally:
        subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


# --- tests --------------------------------------------------------------------------------


def test_meltano_yml_declares_every_setting_with_its_kind() -> None:
    about = run_tap({}, args=("--about", "--format=json"))
    assert about.returncode == 0, about.stderr
    properties = json.loads(about.stdout)["settings"]["properties"]
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    (extractor,) = project["plugins"]["extractors"]
    assert extractor["name"] == "tap-twilio"
    assert extractor["namespace"] == "tap_twilio"
    assert extractor["executable"] == "tap-twilio"
    assert extractor["pip_url"] == "-e ."
    assert {"catalog", "discover", "state", "about", "stream-maps"} <= set(
        extractor["capabilities"])
    # Meltano selects every stream unless told: it is told the tap's default selection
    assert sorted(extractor["select"]) == sorted(f"{name}.*" for name in DEFAULT_STREAM_NAMES)
    declared = {setting["name"]: setting for setting in extractor["settings"]}
    assert set(declared) == set(properties)
    for name, schema in properties.items():
        setting = declared[name]
        types = set(schema.get("type", [])) - {"null"}
        if "enum" in schema:
            kind = "options"
            assert [o["value"] for o in setting["options"]] == schema["enum"], name
        elif schema.get("format") == "date-time":
            kind = "date_iso8601"
        elif types == {"string", "number"}:
            kind = "string"  # the tap takes `30` and "30Days" alike; Meltano passes either on
        else:
            (json_type,) = types
            kind = {"string": "string", "boolean": "boolean", "integer": "integer",
                    "number": "decimal", "array": "array", "object": "object"}[json_type]
        assert setting.get("kind") == kind, f"{name}: kind {setting.get('kind')}, want {kind}"
        assert setting.get("description"), f"{name}: no description"
        assert bool(setting.get("sensitive")) == bool(schema.get("secret")), name
        if "default" in schema:
            assert setting.get("value") == schema["default"], f"{name}: default"
    names = {loader["name"]: loader for loader in project["plugins"]["loaders"]}
    assert {"target-jsonl", "target-postgres", "target-postgres-pipelinewise"} <= set(names)
    assert all(loader.get("pip_url") for loader in names.values())


@e2e
def test_meltano_run_target_jsonl(meltano_installed, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with Emulator(seed=41, subaccounts=2, sizes=SIZES, account_ages_days=AGES) as emu:
        env = meltano_env(tmp_path, emu, TARGET_JSONL_DESTINATION_PATH=str(out),
                          TAP_TWILIO_PAGE_SIZE="50")
        meltano(["run", "tap-twilio", "target-jsonl"], env, tmp_path / "run.log")
        log = (tmp_path / "run.log").read_text()
        for stream in DEFAULT_STREAM_NAMES:
            path = out / f"{stream}.jsonl"
            assert path.exists(), f"{stream}: no file written"
            rows = [json.loads(line) for line in path.read_text().splitlines() if line]
            keys = [record_key(stream, row) for row in rows]
            expected = {record_key(stream, row) for row in truth(emu, stream)}
            assert expected, stream
            assert len(keys) == len(set(keys)), f"{stream}: duplicate rows"
            assert set(keys) == expected, stream
        # The settings came from the env vars: the page size is visible in the requests
        # (a full history is read from several places: two-record date probes find them).
        messages = [r for r in emu.requests if r.resource == "messages"]
        probes = [r for r in messages if "DateSent<" in r.query]
        assert {r.query.get("PageSize") for r in messages if r not in probes} == {"50"}
        assert {r.query.get("PageSize") for r in probes} <= {"2"}
    # A person can follow the run: a readable summary line per stream.
    for stream in DEFAULT_STREAM_NAMES:
        assert f"{stream}: done" in log, f"no summary line for {stream}"


def test_tap_reads_settings_from_env_vars(tmp_path) -> None:
    """`tap-twilio --config ENV` (what Meltano-less runs use) takes TAP_TWILIO_* env vars."""
    with Emulator(seed=43, subaccounts=1, sizes={"keys": 3}, account_ages_days=[5, 5]) as emu:
        env = {"TAP_TWILIO_ACCOUNT_SID": emu.account_sid,
               "TAP_TWILIO_AUTH_TOKEN": emu.auth_token,
               "TAP_TWILIO_BASE_URL": emu.url,
               "TAP_TWILIO_PAGE_SIZE": "2"}
        catalog_run = run_tap({}, args=("--config", "ENV", "--discover"), env=env)
        assert catalog_run.returncode == 0, catalog_run.stderr[-2000:]
        catalog = json.loads(catalog_run.stdout)
        for entry in catalog["streams"]:
            for metadata in entry["metadata"]:
                if metadata["breadcrumb"] == []:
                    metadata["metadata"]["selected"] = entry["tap_stream_id"] in (
                        "accounts", "keys")
        run = run_tap({}, catalog=catalog, args=("--config", "ENV"), env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        assert sorted(run.keys("keys")) == sorted(r["sid"] for r in emu.truth("keys"))
        assert {r.query.get("PageSize") for r in emu.requests if r.resource == "keys"} == {"2"}


def rfc2822(value: str) -> dt.datetime:
    return email.utils.parsedate_to_datetime(value)


def column_types(pg: Postgres, schema: str, table: str) -> dict[str, str]:
    rows = pg.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = '{table}'")
    return dict((name, kind) for name, kind in rows)


@e2e
def test_meltano_run_target_postgres_full_then_incremental(meltano_installed, postgres,
                                                           tmp_path) -> None:
    schema = "twilio"
    with Emulator(seed=47, subaccounts=2, sizes=SIZES, account_ages_days=AGES) as emu:
        env = meltano_env(tmp_path, emu, **postgres.target_env(schema))
        meltano(["run", "tap-twilio", "target-postgres"], env, tmp_path / "run1.log")
        tap_schemas = {entry["tap_stream_id"]: entry["schema"]
                       for entry in discovered_catalog(emu.config())["streams"]}

        # Every stream is a table with exactly the emulator's records.
        tables = {row[0] for row in postgres.query(
            f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'")}
        assert set(DEFAULT_STREAM_NAMES) <= tables
        for stream in DEFAULT_STREAM_NAMES:
            count = int(postgres.scalar(f'SELECT count(*) FROM {schema}."{stream}"'))
            assert count == len(truth(emu, stream)) > 0, stream

        # Typed columns: timestamps for date-times, numeric for prices, integers for counts.
        typed = 0
        for stream in DEFAULT_STREAM_NAMES:
            stream_schema = tap_schemas[stream]
            columns = column_types(postgres, schema, stream)
            for name, prop in stream_schema["properties"].items():
                types = set(prop.get("type", [])) - {"null"}
                assert name in columns, f"{stream}.{name}: no column"
                kind = columns[name]
                typed += 1
                if prop.get("format") == "date-time":
                    assert kind.startswith("timestamp"), (stream, name, kind)
                elif types == {"integer"}:
                    assert kind in ("bigint", "integer", "smallint"), (stream, name, kind)
                elif types == {"number"}:
                    assert kind in ("numeric", "double precision", "decimal"), (
                        stream, name, kind)
                elif types == {"boolean"}:
                    assert kind == "boolean", (stream, name, kind)
                elif types == {"object"}:
                    assert kind == "jsonb", (stream, name, kind)
                elif types == {"array"}:  # a Postgres array where the items have one type
                    assert kind in ("jsonb", "ARRAY"), (stream, name, kind)
                else:
                    typed -= 1
        assert typed > 60  # the typed columns were found and checked
        messages = column_types(postgres, schema, "messages")
        assert messages["date_sent"].startswith("timestamp")
        assert messages["price"] == "numeric"
        assert messages["num_media"] in ("bigint", "integer")
        assert column_types(postgres, schema, "calls")["duration"] in ("bigint", "integer")
        assert column_types(postgres, schema, "account_balance")["balance"] == "numeric"

        # New messages and a late change to a recent one; the second run is incremental.
        main, sub = emu.account_sid, emu.subaccount_sids[0]
        added = [*emu.data.add("messages", sub, 4), *emu.data.add("messages", main, 2)]
        recent = [m for m in emu.truth("messages", main) if m.get("date_sent")
                  and rfc2822(m["date_sent"]) > emu.now - dt.timedelta(days=1)]
        assert recent, "no message sent in the last day to update"
        changed = recent[-1]["sid"]
        emu.data.update("messages", main, changed, body="changed after the first load",
                        price="-0.04200", status="delivered")
        emu.clear_requests()
        meltano(["run", "tap-twilio", "target-postgres"], env, tmp_path / "run2.log")

        # The bookmarks' window, not the whole list (each list here is one page, so the
        # window is taken from the null-date sweep's page rather than asked for dated).
        expected = truth(emu, "messages")
        read = re.findall(r"messages: done, ([\d,]+) records", (tmp_path / "run2.log").read_text())
        assert read, "no summary line for messages in the second run's log"
        assert len(added) <= int(read[-1].replace(",", "")) < len(expected) // 2, read
        assert int(postgres.scalar(f"SELECT count(*) FROM {schema}.messages")) == len(expected)
        assert int(postgres.scalar(
            f"SELECT count(DISTINCT sid) FROM {schema}.messages")) == len(expected)
        assert int(postgres.scalar(
            f"SELECT count(*) FROM {schema}.messages WHERE sid IN "
            f"({', '.join(repr(m['sid']) for m in added)})")) == len(added)
        body, price, status = postgres.query(
            f"SELECT body, price, status FROM {schema}.messages WHERE sid = '{changed}'")[0]
        assert (body, float(price), status) == ("changed after the first load", -0.042,
                                                "delivered")
        for stream in DEFAULT_STREAM_NAMES:  # nothing else was duplicated by the second run
            count = int(postgres.scalar(f'SELECT count(*) FROM {schema}."{stream}"'))
            assert count == len(truth(emu, stream)), stream


@e2e
def test_meltano_run_pipelinewise_target_postgres_loads_each_table_once(
        meltano_installed, postgres, tmp_path) -> None:
    """pipelinewise-target-postgres loads the rows it holds of a stream at every SCHEMA
    message of that stream: with one SCHEMA per stream, each table is loaded once, although
    per-account streams are read per account and message_media per message."""
    schema = "twilio_pipelinewise"
    with Emulator(seed=53, subaccounts=2, sizes=SIZES, account_ages_days=AGES) as emu:
        env = meltano_env(tmp_path, emu, **postgres.pipelinewise_env(schema))
        log = tmp_path / "run.log"
        meltano(["run", "tap-twilio", "target-postgres-pipelinewise"], env, log)
        loads = re.findall(rf"Loading (\d+) rows into '{schema}\.\"(\w+)\"'", log.read_text())
        loaded_tables = [table for _, table in loads]
        assert sorted(loaded_tables) == sorted(DEFAULT_STREAM_NAMES), loaded_tables
        assert len({r["parent_sid"] for r in truth(emu, "message_media")}) > 1
        for stream in DEFAULT_STREAM_NAMES:
            expected = len(truth(emu, stream))
            assert int(postgres.scalar(f'SELECT count(*) FROM {schema}."{stream}"')) == expected
            assert dict((t, int(n)) for n, t in loads)[stream] == expected, stream


@e2e
@pytest.mark.parametrize("hard_delete", [False, True], ids=["soft", "hard"])
def test_meltano_run_target_postgres_drops_what_twilio_deleted(meltano_installed, postgres,
                                                               tmp_path, hard_delete) -> None:
    """Between two runs a number is released and a Studio flow deleted: after the second run
    (ACTIVATE_VERSION) they are gone, or marked in `_sdc_deleted_at`, while the media of
    messages the second, incremental, run did not re-read are still there."""
    schema = f"twilio_deletions_{'hard' if hard_delete else 'soft'}"
    streams = ["accounts", "incoming_phone_numbers", "studio_flows", "messages",
               "message_media"]
    sizes = {"messages": 40, "incoming_phone_numbers": 4}
    with Emulator(seed=61, subaccounts=1, sizes=sizes, account_ages_days=[30, 30],
                  platform_sizes={"studio_flows": 3}) as emu:
        env = meltano_env(tmp_path, emu, **postgres.target_env(schema),
                          TAP_TWILIO_EMIT_ACTIVATE_VERSION_MESSAGES="true",
                          TARGET_POSTGRES_HARD_DELETE=str(hard_delete).lower(),
                          TAP_TWILIO__SELECT=json.dumps([f"{s}.*" for s in streams]))
        meltano(["run", "tap-twilio", "target-postgres"], env, tmp_path / "run1.log")
        media = {r["sid"] for r in truth(emu, "message_media")}
        old_media = {r["sid"] for r in truth(emu, "message_media")
                     if rfc2822(r["date_created"]) < emu.now - dt.timedelta(days=5)}
        assert old_media, "no media older than the second run's window"
        assert rows(postgres, schema, "message_media") == media

        main, sub = emu.account_sid, emu.subaccount_sids[0]
        released = truth(emu, "incoming_phone_numbers", account_sid=sub)[0]["sid"]
        flow = emu.platform_truth("studio_flows", main)[0]["sid"]
        delete(emu, "incoming_phone_numbers", sub, released)
        delete(emu, "studio_flows", main, flow)
        meltano(["run", "tap-twilio", "target-postgres"], env, tmp_path / "run2.log")

        numbers = rows(postgres, schema, "incoming_phone_numbers")
        flows = rows(postgres, schema, "studio_flows")
        assert numbers == {r["sid"] for r in truth(emu, "incoming_phone_numbers")}
        assert released not in numbers
        assert flows == {r["sid"] for r in emu.platform_truth("studio_flows")}
        assert flow not in flows
        assert rows(postgres, schema, "message_media") == media
        run2 = (tmp_path / "run2.log").read_text()
        read = re.findall(r"message_media: done, ([\d,]+) records", run2)
        assert read and int(read[-1].replace(",", "")) < len(media) - len(old_media) + 1, read
        if not hard_delete:  # the deleted rows are kept, marked
            marked = {sid for (sid,) in postgres.query(
                f'SELECT sid FROM {schema}."incoming_phone_numbers" '
                "WHERE _sdc_deleted_at IS NOT NULL UNION ALL SELECT sid FROM "
                f'{schema}."studio_flows" WHERE _sdc_deleted_at IS NOT NULL')}
            assert marked == {released, flow}


def rows(pg: Postgres, schema: str, table: str) -> set[str]:
    """The sids of a table's rows that are not marked deleted."""
    deleted_column = "_sdc_deleted_at" in column_types(pg, schema, table)
    where = " WHERE _sdc_deleted_at IS NULL" if deleted_column else ""
    return {sid for (sid,) in pg.query(f'SELECT sid FROM {schema}."{table}"{where}')}
