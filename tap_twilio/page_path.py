"""The stream's side of the page path: whether a partition's sync writes whole pages
(`output.PageOutput`) and what it hands it; records are converted by `RecordTransformer`
on both paths (the page path and the SDK's record loop, through `post_process`)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property, partial
from typing import Any

from singer_sdk import RESTStream, metrics
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_twilio import sdk_compat
from tap_twilio.output.transform import RecordTransformer
from tap_twilio.output.writer import PageOutput


class PagePathHooks(RESTStream[str]):
    """The record conversion and the page path of a stream (see client.TwilioStream)."""

    tap: Any  # the TapTwilio that made the stream
    page_arrived: dt.datetime | None = None  # when the page being handed over arrived

    @cached_property
    def transformer(self) -> RecordTransformer:
        return RecordTransformer(self.name, self.schema)

    def get_record_counter(self, **kwargs: Any) -> metrics.Counter:
        """The SDK's record counter, kept for the page path to count its pages' records."""
        self.record_counter = super().get_record_counter(**kwargs)
        return self.record_counter

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        return self.transformer(row)

    PER_PARTITION = ("writes_pages", "unmapped_alias", "syncs_children")

    @cached_property
    def writes_pages(self) -> bool:
        """Whether this partition's sync writes whole pages (`output.PageOutput`) instead of
        going through the SDK's record loop: when nothing the loop does per record could
        change a record or add a message (nothing deselected, no type conformance, no
        stream map, no child synced, no `--test` record limit, no BATCH messages)."""
        return (
            self.selected
            and all(self.mask.values())
            and self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
            and self.unmapped_alias is not None
            and not self.syncs_children
            and self.ABORT_AT_RECORD_COUNT is None
            and not self.get_batch_config(self.config)
            and type(self).post_process is PagePathHooks.post_process
        )

    @cached_property
    def unmapped_alias(self) -> str | None:
        """The stream's name when no stream map changes its records (no maps configured, no
        flattening), so records need not pass through the map; else None."""
        maps = self.stream_maps
        if len(maps) != 1 or type(maps[0]) is not SameRecordTransform:
            return None
        if maps[0].flattening_options and maps[0].flattening_enabled:
            return None
        return maps[0].stream_alias

    @cached_property
    def syncs_children(self) -> bool:
        """Whether any child stream is to be synced (else no child context is made)."""
        return any(child.selected or child.has_selected_descendents
                   for child in self.child_streams)

    def page_output(self, context: Context | None) -> PageOutput:
        """The page path for this partition, with the SDK's bookmark and STATE steps."""
        def records_written(count: int) -> None:
            self.record_counter.increment(count)
            self.state_manager.is_flushed = False

        return PageOutput(
            writer=self.tap.message_writer,
            transform=self.transformer,
            stream=self.unmapped_alias or self.name,
            version=sdk_compat.stream_version(self),
            partition_keys=sdk_compat.partition_keys(self, context) or {},
            bookmark_key=(self.replication_key or None
                          if self.replication_method == REPLICATION_INCREMENTAL else None),
            keeps_greatest=not self.is_sorted and self.check_sorted,  # the SDK's rule
            advance_bookmark=partial(sdk_compat.advance_bookmark, self, context=context),
            records_written=records_written,
            write_state=partial(sdk_compat.write_state_message, self),
            state_every=self.STATE_MSG_FREQUENCY,
        )
