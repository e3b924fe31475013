"""What one run of the tap shares, made by the tap and handed to each stream."""

from __future__ import annotations

from dataclasses import dataclass

from tap_twilio.output.writer import EncodedStateWriter, RecordBufferingWriter
from tap_twilio.twilio.run import TwilioRun


@dataclass(frozen=True)
class Run:
    """Reading Twilio's shared parts (limiter, read-ahead, accounts, hosts that answered,
    warnings said once), the writer every stream's records go through, and the writer of
    STATE messages (how many RECORD bytes went out since the last)."""

    twilio: TwilioRun
    writer: RecordBufferingWriter
    state_writer: EncodedStateWriter
