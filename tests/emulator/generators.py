"""Lazy, deterministic record generators.

Record i is a pure function of (seed, account, resource, i).

A generator never materialises its list.  ``sort_ts(i)`` is non-increasing in i (index 0 is the
newest record), so date windows can be found by binary search, and ``record(i)`` builds one
record from a few hashes.  Every property of the resource's spec schema is present.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from .values import (
    CUSTOMER_NAMES,
    DAY,
    EDGE_BODIES,
    LONG_BODY,
    MESSAGE_BODIES,
    SidCodec,
    hex32,
    iso8601,
    iso_date,
    key_of,
    phone,
    phone_formatted,
    rfc2822,
    rnd,
    unit,
)

API = "/2010-04-01"
TIE_BLOCK = 6  # runs of records sharing one timestamp are aligned on blocks of this size
FORCED_TIE_BLOCKS = frozenset({8, 166})  # blocks spanning indices 50 and 1000 (page edges)


class Generator:
    """Base: a newest-first list of ``n`` records spread over [start_ts, end_ts]."""

    resource: ClassVar[str] = ""
    prefix: ClassVar[str] = "XX"
    collection: ClassVar[str] = ""  # URL segment under /Accounts/{sid}/
    # record fields that, when not null, lie in [sort_ts, sort_ts + lag]: usable for bisection
    ts_fields: ClassVar[dict[str, int]] = {"date_created": 0}
    # fields giving the list order (first non-null one), used for added/updated records
    sort_fields: ClassVar[tuple[str, ...]] = ("date_created",)

    def __init__(
        self, ctx: Any, account: Any, n: int, start_ts: int, end_ts: int, parent: str | None = None
    ) -> None:
        self.ctx = ctx
        self.account = account
        self.n = max(0, int(n))
        self.parent = parent
        self.key = key_of(ctx.seed, account.sid, self.resource, parent or "")
        self.codec = SidCodec(self.key)
        end_ts = max(end_ts, start_ts)
        self.t0 = end_ts - int(unit(self.key, 0, 1) * min(600, (end_ts - start_ts) / 4 + 1))
        self.step = (self.t0 - start_ts) / self.n if self.n else 0.0
        self.base = f"{API}/Accounts/{account.sid}"
        self.props = ctx.spec["resources"][self.resource]["properties"]
        self._missing: list[str] | None = None

    # --- ordering --------------------------------------------------------------------------
    def sort_ts(self, i: int) -> int:
        block = i // TIE_BLOCK
        if block in FORCED_TIE_BLOCKS or unit(self.key, block, 2) < 0.08:
            eff = block * TIE_BLOCK
        else:
            eff = i
        return self.t0 - int((eff + 0.9 * unit(self.key, eff, 3)) * self.step)

    # --- identity --------------------------------------------------------------------------
    def sid(self, i: int) -> str:
        return self.prefix + self.codec.encode(i)

    def index_of(self, sid: str) -> int | None:
        i = self.codec.decode(sid[2:]) if isinstance(sid, str) and len(sid) == 34 else None
        return i if i is not None and i < self.n else None

    def virtual_sid(self, seq: int) -> str:
        """SID for an added record (beyond the generated range, still decodable)."""
        return self.prefix + self.codec.encode(self.n + (1 << 40) + seq)

    def r(self, i: int, salt: int) -> float:
        return unit(self.key, i, salt)

    def ri(self, i: int, salt: int, n: int) -> int:
        return rnd(self.key, i, salt) % n

    def uri(self, sid: str) -> str:
        return f"{self.base}/{self.collection}/{sid}.json"

    # --- records ---------------------------------------------------------------------------
    def record(self, i: int) -> dict:
        return self.complete(self.build(i, self.sort_ts(i), self.sid(i)), i)

    def build(self, i: int, ts: int, sid: str) -> dict:
        raise NotImplementedError

    def complete(self, rec: dict, i: int) -> dict:
        """Fill any spec property the explicit builder does not know with a spec-typed value."""
        if self._missing is None:
            self._missing = [p for p in self.props if p not in rec]
        for name in self._missing:
            rec[name] = generic_value(self, name, self.props[name], i, None)
        return rec


def generic_value(gen: Generator, name: str, prop: dict, i: int, ts: int | None) -> Any:
    """A plausible value for a property from its spec type/format/enum/pattern."""
    salt = hash_name(name)
    h = gen.ri(i, salt, 1 << 30)
    typ, fmt = prop.get("type"), prop.get("format")
    if prop.get("enum"):
        return prop["enum"][h % len(prop["enum"])]
    pattern = prop.get("pattern") or ""
    if pattern.startswith("^") and pattern[1:3].isalpha() and pattern[1:3].isupper():
        return pattern[1:3] + hex32(gen.key, i, salt)
    if pattern.startswith("^(") and "|" in pattern:
        return pattern[2:4] + hex32(gen.key, i, salt)
    if typ == "boolean":
        return bool(h & 1)
    if typ == "integer":
        return h % 100
    if typ == "number":
        return f"{(h % 100000) / 100000:.5f}"  # Twilio sends decimals as strings on the wire
    if typ == "array":
        items = prop.get("items") or {}
        return list(items.get("enum") or [])[:1]
    if typ == "object":
        if fmt == "phone-number-capabilities":
            return {"voice": True, "sms": bool(h & 1), "mms": bool(h & 2), "fax": False}
        return {}
    if typ is None:
        return None
    if ts is None:
        ts = gen.sort_ts(i) if i < gen.n else gen.ctx.now_ts
    if fmt == "date-time-rfc-2822":
        return rfc2822(ts + (h % 3600 if name == "date_updated" else 0))
    if fmt == "date-time":
        return iso8601(ts)
    if fmt == "date":
        return iso_date(ts // DAY)
    if fmt == "uri":
        return f"https://demo.twilio.example/{gen.resource}/{name}/{h % 1000}"
    if fmt == "http-method":
        return "POST" if h & 1 else "GET"
    if fmt == "phone-number":
        return phone(h % 997)
    if fmt == "currency":
        return "USD"
    if fmt == "iso-country-code":
        return ("US", "GB", "DE", "JP", "BR")[h % 5]
    if name in ("price",):
        return f"-{(h % 5000) / 100000:.5f}"
    if name in ("duration", "queue_time", "current_value", "trigger_value"):
        return str(h % 600)
    if name == "api_version":
        return "2010-04-01"
    if name == "account_sid":
        return gen.account.sid
    if name == "uri":
        return gen.uri(gen.sid(i)) if i < gen.n else None
    return f"{name.replace('_', ' ')} {h % 1000}"


_NAME_HASH: dict[str, int] = {}


def hash_name(name: str) -> int:
    v = _NAME_HASH.get(name)
    if v is None:
        v = _NAME_HASH[name] = key_of(name) & 0xFFFFFF
    return v


# ------------------------------------------------------------------------------------------
# Messages
# ------------------------------------------------------------------------------------------

UNSENT_MESSAGE_STATUSES = ("queued", "accepted", "scheduled", "canceled")


class MessagesGenerator(Generator):
    resource = "messages"
    prefix = "SM"
    collection = "Messages"
    ts_fields: ClassVar[dict[str, int]] = {"date_sent": 0}
    sort_fields = ("date_sent", "date_created")

    def sid(self, i: int) -> str:
        return ("MM" if self.num_media(i) else "SM") + self.codec.encode(i)

    def num_media(self, i: int) -> int:
        if i == 7:
            return 2
        x = self.r(i, 10)
        return 0 if x < 0.85 else 1 + int((x - 0.85) / 0.05)

    def build(self, i: int, ts: int, sid: str) -> dict:
        acct = self.account
        inbound_x = self.r(i, 11) if i != 1 else 0.5
        if inbound_x < 0.3:
            direction = "inbound"
        elif inbound_x < 0.9:
            direction = "outbound-api"
        elif inbound_x < 0.97:
            direction = "outbound-reply"
        else:
            direction = "outbound-call"
        own = acct.numbers[self.ri(i, 12, len(acct.numbers))]
        other = phone(self.ri(i, 13, 200) + 100)
        # body: deterministic edge cases first, then hashed
        if i == 2:
            body = LONG_BODY
        elif 3 <= i <= 6:
            body = EDGE_BODIES[i - 3]
        else:
            x = self.ri(i, 14, 1000)
            body = (
                EDGE_BODIES[x % len(EDGE_BODIES)]
                if x < 30
                else MESSAGE_BODIES[x % len(MESSAGE_BODIES)]
            )
        n_media = self.num_media(i)
        sx = self.r(i, 15)
        if i == 1:
            status = "queued"
        elif direction == "inbound":
            status = "received" if sx < 0.98 else "receiving"
        elif sx < 0.70:
            status = "delivered"
        elif sx < 0.82:
            status = "sent"
        elif sx < 0.88:
            status = "undelivered"
        elif sx < 0.92:
            status = "failed"
        elif sx < 0.95:
            status = "read"
        elif sx < 0.96:
            status = "partially_delivered"
        elif sx < 0.97:
            status = "sending"
        else:
            status = UNSENT_MESSAGE_STATUSES[self.ri(i, 16, 4)]
        unsent = status in UNSENT_MESSAGE_STATUSES
        segments = max(1, math.ceil(len(body) / 153)) if len(body) > 160 else 1
        if unsent:
            date_created, date_sent = ts, None
            date_updated = ts + self.ri(i, 17, 5)
        else:
            date_created = ts - 1 - self.ri(i, 17, 4)
            date_sent = ts
            date_updated = ts + self.ri(i, 18, 30)
        px = self.r(i, 19)
        if unsent or status in ("sending", "receiving") or px < 0.03 or i == 9:
            price = None
        elif px < 0.08 or i == 8:
            price = "0.00000"
        else:
            price = f"-{0.0079 * segments + (0.02 if n_media else 0):.5f}"
        error_code = error_message = None
        if status in ("failed", "undelivered"):
            error_code, error_message = (
                (30003, "Unreachable destination handset"),
                (30005, "Unknown destination handset"),
                (30007, "Message filtered"),
            )[self.ri(i, 20, 3)]
        base = self.base
        return {
            "account_sid": acct.sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": rfc2822(date_created),
            "date_sent": rfc2822(date_sent),
            "date_updated": rfc2822(min(date_updated, self.ctx.now_ts)),
            "direction": direction,
            "error_code": error_code,
            "error_message": error_message,
            "from": other if direction == "inbound" else own,
            "messaging_service_sid": None if self.r(i, 21) < 0.4 else acct.messaging_service_sid,
            "num_media": str(n_media),
            "num_segments": str(segments),
            "price": price,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {
                "media": f"{base}/Messages/{sid}/Media.json",
                "feedback": f"{base}/Messages/{sid}/Feedback.json",
            },
            "to": own if direction == "inbound" else other,
            "uri": f"{base}/Messages/{sid}.json",
        }


# ------------------------------------------------------------------------------------------
# Calls
# ------------------------------------------------------------------------------------------


class CallsGenerator(Generator):
    resource = "calls"
    prefix = "CA"
    collection = "Calls"
    # end_time lies within 3 hours after start_time
    ts_fields: ClassVar[dict[str, int]] = {"start_time": 0, "end_time": 3 * 3600}
    sort_fields = ("start_time", "date_created")

    def build(self, i: int, ts: int, sid: str) -> dict:
        acct = self.account
        dx = self.r(i, 30)
        direction = "inbound" if dx < 0.35 else ("outbound-api" if dx < 0.8 else "outbound-dial")
        own = acct.numbers[self.ri(i, 31, len(acct.numbers))]
        other = phone(self.ri(i, 32, 200) + 100)
        sx = self.r(i, 33)
        if i == 0:
            status = "in-progress"
        elif i == 3:
            status = "queued"
        elif sx < 0.72:
            status = "completed"
        elif sx < 0.80:
            status = "no-answer"
        elif sx < 0.87:
            status = "busy"
        elif sx < 0.92:
            status = "failed"
        elif sx < 0.96:
            status = "canceled"
        elif sx < 0.98:
            status = "ringing"
        else:
            status = "in-progress"
        ring = 3 + self.ri(i, 34, 25)
        if status == "queued":
            start, date_created = None, ts
        else:
            start, date_created = ts, ts - 1 - self.ri(i, 35, 3)
        end = duration = price = None
        if status == "completed":
            secs = 1 + self.ri(i, 36, 1800) if self.r(i, 37) < 0.97 else 3600 + self.ri(i, 36, 7000)
            end, duration = ts + secs, str(secs)
            px = self.r(i, 38)
            if px < 0.04 or i == 5:
                price = None  # not yet rated
            elif px < 0.09 or i == 4:
                price = "0.00000"
            else:
                price = f"-{0.0140 * math.ceil(secs / 60):.5f}"
        elif status in ("busy", "no-answer"):
            end, duration, price = ts + ring, "0", "0.00000"
        elif status in ("failed", "canceled"):
            duration = "0"
        end = min(end, self.ctx.now_ts) if end is not None else None
        parent = None
        if direction == "outbound-dial" and i + 1 < self.n:
            parent = self.sid(i + 1)
        base = self.base
        to_num = own if direction == "inbound" else other
        from_num = other if direction == "inbound" else own
        answered = None
        if status == "completed" and direction != "inbound" and self.r(i, 39) < 0.3:
            answered = ("human", "machine_start", "unknown")[self.ri(i, 40, 3)]
        return {
            "account_sid": acct.sid,
            "annotation": None,
            "answered_by": answered,
            "api_version": "2010-04-01",
            "caller_name": CUSTOMER_NAMES[self.ri(i, 41, 6)] if self.r(i, 42) < 0.2 else None,
            "date_created": rfc2822(date_created),
            "date_updated": rfc2822(min((end or start or date_created) + 1, self.ctx.now_ts)),
            "direction": direction,
            "duration": duration,
            "end_time": rfc2822(end),
            "forwarded_from": phone(self.ri(i, 43, 50)) if self.r(i, 44) < 0.05 else None,
            "from": from_num,
            "from_formatted": phone_formatted(from_num),
            "group_sid": None,
            "parent_call_sid": parent,
            "phone_number_sid": acct.number_sids[acct.numbers.index(own)],
            "price": price,
            "price_unit": "USD",
            "queue_time": "0" if self.r(i, 45) < 0.9 else str(self.ri(i, 46, 30000)),
            "sid": sid,
            "start_time": rfc2822(start),
            "status": status,
            "subresource_uris": {
                name: f"{base}/Calls/{sid}/{seg}.json"
                for name, seg in (
                    ("feedback", "Feedback"),
                    ("notifications", "Notifications"),
                    ("recordings", "Recordings"),
                    ("streams", "Streams"),
                    ("payments", "Payments"),
                    ("siprec", "Siprec"),
                    ("events", "Events"),
                    ("feedback_summaries", "FeedbackSummary"),
                    ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"),
                    ("user_defined_messages", "UserDefinedMessages"),
                    ("transcriptions", "Transcriptions"),
                )
            },
            "to": to_num,
            "to_formatted": phone_formatted(to_num),
            "trunk_sid": None,
            "uri": f"{base}/Calls/{sid}.json",
        }

    def complete(self, rec: dict, i: int) -> dict:
        # "annotation"/"feedback_summaries" are not in every spec version: keep only spec keys
        for k in [k for k in rec if k not in self.props]:
            del rec[k]
        for k in [k for k in rec.get("subresource_uris", {}) if k in ("feedback_summaries",)]:
            del rec["subresource_uris"][k]
        return super().complete(rec, i)


# ------------------------------------------------------------------------------------------
# Conferences and participants
# ------------------------------------------------------------------------------------------

CONFERENCE_NAMES = (
    "Daily Standup",
    "Sales Sync",
    "Support Bridge",
    "Board Meeting",
    "Room 101",
    "Équipe Paris",
    "会议室 A",
)


class ConferencesGenerator(Generator):
    resource = "conferences"
    prefix = "CF"
    collection = "Conferences"
    ts_fields: ClassVar[dict[str, int]] = {"date_created": 0, "date_updated": 3 * 3600}
    sort_fields = ("date_created",)

    def status(self, i: int) -> str:
        """The newest conference is in progress; one that began over a day ago has ended (a
        Twilio call lasts at most 24 hours, its `TimeLimit`)."""
        if i == 0:
            return "in-progress"
        x = self.r(i, 50)
        if x < 0.8 or self.sort_ts(i) < self.ctx.now_ts - DAY:
            return "completed"
        return "in-progress" if x < 0.95 else "init"

    def build(self, i: int, ts: int, sid: str) -> dict:
        status = self.status(i)
        reason = ending_call = None
        if status == "completed":
            length = 60 + self.ri(i, 52, 3 * 3600 - 60)
            reasons = self.ctx.spec["resources"]["conferences"]["properties"][
                "reason_conference_ended"
            ].get("enum") or ["last-participant-left"]
            reason = reasons[self.ri(i, 53, len(reasons))]
            if "participant" in reason and "last" not in reason:
                ending_call = "CA" + hex32(self.key, i, 54)
        elif status == "in-progress":
            length = self.ri(i, 52, 1800)
        else:
            length = 0
        base = self.base
        return {
            "account_sid": self.account.sid,
            "api_version": "2010-04-01",
            "call_sid_ending_conference": ending_call,
            "date_created": rfc2822(ts),
            "date_updated": rfc2822(min(ts + length, self.ctx.now_ts)),
            "friendly_name": CONFERENCE_NAMES[self.ri(i, 55, len(CONFERENCE_NAMES))],
            "reason_conference_ended": reason,
            "region": ("us1", "ie1", "jp1", "de1")[self.ri(i, 56, 4)],
            "sid": sid,
            "status": status,
            "subresource_uris": {
                "participants": f"{base}/Conferences/{sid}/Participants.json",
                "recordings": f"{base}/Conferences/{sid}/Recordings.json",
            },
            "uri": f"{base}/Conferences/{sid}.json",
        }


class ParticipantsGenerator(Generator):
    """Participants of one conference (``parent`` = conference SID): connected while it is
    live, complete once it has ended."""

    resource = "conference_participants"
    prefix = "CA"
    collection = "Participants"
    live = True

    def build(self, i: int, ts: int, sid: str) -> dict:
        base = self.base
        muted, hold, coaching = self.r(i, 60) < 0.2, self.r(i, 61) < 0.1, self.r(i, 62) < 0.05
        return {
            "account_sid": self.account.sid,
            "call_sid": sid,
            "call_sid_to_coach": ("CA" + hex32(self.key, i, 63)) if coaching else None,
            "coaching": coaching,
            "conference_sid": self.parent,
            "date_created": rfc2822(ts),
            "date_updated": rfc2822(min(ts + self.ri(i, 64, 60), self.ctx.now_ts)),
            "end_conference_on_exit": self.r(i, 65) < 0.3,
            "hold": hold,
            "label": ("customer", "agent", None)[self.ri(i, 66, 3)],
            "muted": muted,
            "queue_time": str(self.ri(i, 67, 2000)),
            "start_conference_on_enter": True,
            "status": "connected" if self.live else "complete",
            "uri": f"{base}/Conferences/{self.parent}/Participants/{sid}.json",
        }


# ------------------------------------------------------------------------------------------
# Notifications, media, alerts
# ------------------------------------------------------------------------------------------

NOTIFICATION_TEXTS = (
    ("11200", "Msg=HTTP+retrieval+failure&sourceComponent=14100&ErrorCode=11200"),
    ("13227", "Msg=Invalid+Dial+verb&sourceComponent=13200"),
    ("21609", "Msg=Invalid+StatusCallback+url&url=ftp%3A%2F%2Fexample.com"),
    ("82002", "Msg=Error+on+Twilio+Function+response&statusCode=500"),
)


class NotificationsGenerator(Generator):
    resource = "notifications"
    prefix = "NO"
    collection = "Notifications"
    ts_fields: ClassVar[dict[str, int]] = {"message_date": 0}
    sort_fields = ("message_date", "date_created")

    def build(self, i: int, ts: int, sid: str) -> dict:
        code, text = NOTIFICATION_TEXTS[self.ri(i, 70, len(NOTIFICATION_TEXTS))]
        method = (None, "GET", "POST", "POST")[self.ri(i, 71, 4)]
        return {
            "account_sid": self.account.sid,
            "api_version": "2008-08-01" if self.r(i, 72) < 0.1 else "2010-04-01",
            "call_sid": ("CA" + hex32(self.key, i, 73)) if self.r(i, 74) < 0.7 else None,
            "date_created": rfc2822(ts + 1),
            "date_updated": rfc2822(ts + 2),
            "error_code": code,
            "log": "0" if self.r(i, 75) < 0.6 else "1",
            "message_date": rfc2822(ts),
            "message_text": text,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "request_method": method,
            "request_url": "" if method is None else "https://demo.twilio.example/voice",
            "sid": sid,
            "uri": f"{self.base}/Notifications/{sid}.json",
        }


class MediaGenerator(Generator):
    """Media of one message (``parent`` = message SID): exactly ``num_media`` items."""

    resource = "message_media"
    prefix = "ME"
    collection = "Media"

    def sort_ts(self, i: int) -> int:
        return self.t0  # all media of a message share the message's date_created

    def build(self, i: int, ts: int, sid: str) -> dict:
        return {
            "account_sid": self.account.sid,
            "content_type": ("image/jpeg", "image/png", "image/gif", "video/mp4")[
                self.ri(i, 80, 4)
            ],
            "date_created": rfc2822(ts),
            "date_updated": rfc2822(ts),
            "parent_sid": self.parent,
            "sid": sid,
            "uri": f"{self.base}/Messages/{self.parent}/Media/{sid}.json",
        }


ALERT_TEXTS = (
    ("11200", "error", "Msg=HTTP+retrieval+failure&httpResponse=502"),
    ("11205", "error", "Msg=HTTP+connection+failure"),
    ("30003", "warning", "Msg=Unreachable+destination+handset"),
    ("12300", "warning", "Msg=Invalid+Content-Type"),
    ("63016", "notice", "Msg=Failed+to+send+freeform+message"),
    ("11750", "debug", "Msg=TwiML+response+body+too+large"),
)


class AlertsGenerator(Generator):
    resource = "alerts"
    prefix = "NO"
    collection = "Alerts"
    ts_fields: ClassVar[dict[str, int]] = {"date_generated": 0, "date_created": 2}
    sort_fields = ("date_generated", "date_created")

    def uri(self, sid: str) -> str:
        return f"{self.ctx.base_url}/v1/Alerts/{sid}"

    def build(self, i: int, ts: int, sid: str) -> dict:
        code, level, text = ALERT_TEXTS[self.ri(i, 90, len(ALERT_TEXTS))]
        created = ts + self.ri(i, 91, 3)
        return {
            "account_sid": self.account.sid,
            "alert_text": text,
            "api_version": "2010-04-01",
            "date_created": iso8601(created),
            "date_generated": iso8601(ts),
            "date_updated": iso8601(created),
            "error_code": code,
            "log_level": level,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "request_method": ("GET", "POST")[self.ri(i, 92, 2)],
            "request_url": "https://demo.twilio.example/sms",
            "resource_sid": ("CA", "SM", "PN")[self.ri(i, 93, 3)] + hex32(self.key, i, 94),
            "service_sid": None,
            "sid": sid,
            "url": self.uri(sid),
        }


# ------------------------------------------------------------------------------------------
# Smaller account resources: spec-driven with a few overrides
# ------------------------------------------------------------------------------------------


class SpecGenerator(Generator):
    """Records built from the spec's property list, with per-resource touches."""

    def build(self, i: int, ts: int, sid: str) -> dict:
        rec: dict[str, Any] = {}
        for name, prop in self.props.items():
            if name == "sid":
                rec[name] = sid
            elif name == "account_sid":
                rec[name] = self.account.sid
            elif name == "date_created":
                rec[name] = rfc2822(ts)
            elif name == "date_updated":
                rec[name] = rfc2822(min(ts + self.ri(i, 100, 86400), self.ctx.now_ts))
            elif name == "uri":
                rec[name] = self.uri(sid)
            elif name == "friendly_name":
                rec[name] = f"{self.label} {i + 1}" if i % 11 != 5 else f"{self.label} ✨ «{i + 1}»"
            else:
                rec[name] = generic_value(self, name, prop, i, ts)
        self.touch(rec, i, ts, sid)
        return rec

    label = "Item"

    def touch(self, rec: dict, i: int, ts: int, sid: str) -> None:
        pass


class RecordingsGenerator(SpecGenerator):
    resource, prefix, collection = "recordings", "RE", "Recordings"

    def touch(self, rec, i, ts, sid):
        secs = self.ri(i, 110, 900)
        rec.update(
            start_time=rfc2822(ts - secs - 1),
            duration=str(secs),
            status="completed",
            price=None if i == 1 else f"-{0.0025 * math.ceil(max(secs, 1) / 60):.5f}",
            price_unit="USD",
            channels=1 + (i % 2),
            error_code=None,
            conference_sid=None,
            encryption_details=None,
            call_sid="CA" + hex32(self.key, i, 111),
            media_url=f"https://api.twilio.com{self.base}/Recordings/{sid}",
            subresource_uris={
                "add_on_results": f"{self.base}/Recordings/{sid}/AddOnResults.json",
                "transcriptions": f"{self.base}/Recordings/{sid}/Transcriptions.json",
            },
        )


class TranscriptionsGenerator(SpecGenerator):
    resource, prefix, collection = "transcriptions", "TR", "Transcriptions"

    def touch(self, rec, i, ts, sid):
        status = "completed" if i % 9 else "failed"
        rec.update(
            status=status,
            type="fast",
            duration=str(5 + self.ri(i, 120, 120)),
            price="0.00000" if i % 4 == 0 else "-0.05000",
            transcription_text=None
            if status == "failed"
            else MESSAGE_BODIES[i % len(MESSAGE_BODIES)],
            recording_sid="RE" + hex32(self.key, i, 121),
            price_unit="USD",
        )


class IncomingNumbersGenerator(SpecGenerator):
    resource, prefix, collection = "incoming_phone_numbers", "PN", "IncomingPhoneNumbers"
    label = "Number"

    def touch(self, rec, i, ts, sid):
        numbers = self.account.numbers  # the first records are the numbers calls/messages use
        number = numbers[i] if i < len(numbers) else phone(5000 + i)
        rec.update(
            phone_number=number,
            friendly_name=phone_formatted(number),
            origin="twilio",
            status="in-use",
            type="local",
            trunk_sid=None,
            identity_sid=None,
            bundle_sid=None,
            address_sid=None,
            emergency_address_sid=None,
            beta=False,
        )


class OutgoingCallerIdsGenerator(SpecGenerator):
    resource, prefix, collection = "outgoing_caller_ids", "PN", "OutgoingCallerIds"

    def touch(self, rec, i, ts, sid):
        number = phone(7000 + i)
        rec.update(phone_number=number, friendly_name=phone_formatted(number))


class AddressesGenerator(SpecGenerator):
    resource, prefix, collection = "addresses", "AD", "Addresses"
    label = "Address"

    def touch(self, rec, i, ts, sid):
        rec.update(
            customer_name=CUSTOMER_NAMES[i % len(CUSTOMER_NAMES)],
            street=f"{100 + i} Market St",
            street_secondary=None if i % 3 else "Suite 5",
            city="San Francisco",
            region="CA",
            postal_code=f"94{100 + i % 900:03d}",
            iso_country="US",
        )


class ApplicationsGenerator(SpecGenerator):
    resource, prefix, collection = "applications", "AP", "Applications"
    label = "App"


class KeysGenerator(SpecGenerator):
    resource, prefix, collection = "keys", "SK", "Keys"
    label = "Key"


class QueuesGenerator(SpecGenerator):
    resource, prefix, collection = "queues", "QU", "Queues"
    label = "Queue"

    def touch(self, rec, i, ts, sid):
        rec.update(current_size=i % 4, max_size=100, average_wait_time=self.ri(i, 130, 300))


class UsageTriggersGenerator(SpecGenerator):
    resource, prefix, collection = "usage_triggers", "UT", "Usage/Triggers"
    label = "Trigger"

    def touch(self, rec, i, ts, sid):
        cats = self.ctx.categories
        cat = cats[i % len(cats)]
        rec.update(
            usage_category=cat,
            trigger_value=str(100 * (1 + i % 10)),
            current_value=str(self.ri(i, 140, 1000)),
            date_fired=None if i % 3 else rfc2822(ts + 3600),
            usage_record_uri=f"{self.base}/Usage/Records.json?Category={cat}",
        )


GENERATORS: dict[str, type[Generator]] = {
    g.resource: g
    for g in (
        MessagesGenerator,
        CallsGenerator,
        ConferencesGenerator,
        NotificationsGenerator,
        RecordingsGenerator,
        TranscriptionsGenerator,
        IncomingNumbersGenerator,
        OutgoingCallerIdsGenerator,
        AddressesGenerator,
        ApplicationsGenerator,
        KeysGenerator,
        QueuesGenerator,
        UsageTriggersGenerator,
        AlertsGenerator,
    )
}
CHILD_GENERATORS: dict[str, type[Generator]] = {
    "conference_participants": ParticipantsGenerator,
    "message_media": MediaGenerator,
}
