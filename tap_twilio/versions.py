"""ACTIVATE_VERSION: how a run that read a stream whole tells the target what Twilio deleted.

With `emit_activate_version_messages`, each selected stream that this run reads whole gets a
version: its RECORDs carry it, and once the run has finished, one ACTIVATE_VERSION per stream
tells the target that rows of older versions are gone from Twilio (a released number, a
deleted flow). MeltanoLabs target-postgres then deletes them (`hard_delete: true`) or marks
them in `_sdc_deleted_at`.

A stream is read whole when neither it nor any stream above it is incremental (an
incremental parent re-reads only recent records, so its children are read only for those:
`message_media` of the messages in the window), no setting filters it, and the run reads
every account. Unlike the SDK, which writes the message before a stream's first record, the
tap writes it after the run: a run that fails, or a list Twilio refused for an account,
deletes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from singer_sdk.mapper import RemoveRecordTransform
from singer_sdk.singerlib import ActivateVersionMessage

from tap_twilio import sdk_compat

if TYPE_CHECKING:
    from tap_twilio.stream import TwilioStream
    from tap_twilio.tap import TapTwilio

SETTING = "emit_activate_version_messages"
def some_accounts_only(config: Mapping[str, Any]) -> str | None:
    """The setting by which this run reads only part of the account tree, if one does."""
    for setting in ("account_sids", "account_name", "account_shard"):
        if config.get(setting):
            return f"`{setting}` is set"
    if config.get("include_subaccounts", True) is False:
        return "`include_subaccounts` is false"
    return None


def reads_whole(stream: TwilioStream) -> bool:
    """Whether this run lists every record of the stream (the accounts aside)."""
    options = stream.list_spec.options
    if stream.replication_key or any(stream.config.get(s) is not None for s in options):
        return False
    parent = stream.parent
    while parent is not None:
        if parent.replication_key:
            return False
        parent = parent.parent
    return True


def give_versions(config: Mapping[str, Any], logger: logging.Logger,
                  streams: list[TwilioStream]) -> None:
    """At the start of a sync: a version for each selected stream read whole."""
    if not config.get(SETTING):
        return
    reason = some_accounts_only(config)
    if reason:
        logger.info("ACTIVATE_VERSION is not written: %s, so this run reads only some "
                        "accounts, and a version would delete the other accounts' rows", reason)
        return
    version = int(time.time())
    for stream in streams:
        if stream.selected and reads_whole(stream):
            sdk_compat.set_stream_version(stream, version)


def activate_versions(tap: TapTwilio) -> None:
    """After a finished sync: ACTIVATE_VERSION for each stream given a version, unless a list
    of it was skipped (Twilio refused it for an account, whose rows must stay)."""
    for stream in tap.twilio_streams:
        version = sdk_compat.stream_version(stream)
        if version is None:
            continue
        if stream.skipped_accounts:
            tap.logger.info("%s: ACTIVATE_VERSION is not written: its list was skipped for "
                            "%d account(s)", stream.name, stream.skipped_accounts)
            continue
        for stream_map in stream.stream_maps:
            if not isinstance(stream_map, RemoveRecordTransform):
                tap.write_message(ActivateVersionMessage(stream=stream_map.stream_alias,
                                                         version=version))
