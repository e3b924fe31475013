"""What one run of the tap shares, made by the tap and handed to each stream."""

from __future__ import annotations

from dataclasses import dataclass

from tap_twilio.output.writer import RecordBufferingWriter
from tap_twilio.twilio.run import TwilioRun


@dataclass(frozen=True)
class Run:
    """Reading Twilio's shared parts (limiter, read-ahead, accounts, hosts that answered,
    warnings said once) and the writer every stream's records go through."""

    twilio: TwilioRun
    writer: RecordBufferingWriter
