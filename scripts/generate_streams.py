#!/usr/bin/env python3
"""Generate tap-twilio's stream table from Twilio's OpenAPI specs: every readable list of every API.

Usage (developers only; the tap never reads the specs at run time)::

    python scripts/generate_streams.py [SPEC_DIR]          # (re)write the outputs
    python scripts/generate_streams.py [SPEC_DIR] --check  # write nothing; exit 1 if one differs

SPEC_DIR holds ``twilio_*.json`` from https://github.com/twilio/twilio-oai (``spec/json/``);
the default is the copy vendored in ``specs/twilio-oai``. Outputs (deterministic):

* ``tap_twilio/streams_table.json``: one row per stream, the data the engine builds streams from;
* ``tap_twilio/schemas/<stream>.json`` for every stream beyond the 19 of
  ``scripts/generate_schemas.py``, made by that script's functions and rules (those 19 files stay
  that script's);
* ``tests/emulator/narrowing.json``: the lists' narrowing defaults as Twilio documents them,
  for the emulator (``narrowing_defaults.py``, from the specs and the few defaults Twilio
  documents elsewhere, never from the table);
* ``docs/streams.md``: the streams (stream, endpoint with its host, primary key, replication,
  parent); ``docs/streams-excluded.md``: every list endpoint left out, and why.

A list endpoint is a path the spec marks ``x-twilio.pathType: list`` with a GET. It becomes a
stream unless a rule below leaves it out: its API or path is in ``EXCLUDED_APIS`` /
``EXCLUDED_PATHS`` (deprecated, preview, catalogs, duplicates), it answers one object rather than
a page, it needs a query parameter the spec marks required, or a ``{Param}`` of its path is not
given by the records of a kept stream (so only a user could choose it).

Row fields:

* ``name``: the stream name (``NAMES``, else the API's product and the path's last words);
* ``api``: the spec (``studio_v2``); ``host``: the spec's server (``studio.twilio.com``);
  ``path``: the list path with its ``{Param}`` s as the spec spells them;
* ``family``: ``v2010`` (``next_page_uri`` paging, RFC 2822 dates, ``{AccountSid}`` in the path)
  or ``meta`` (``meta.next_page_url`` paging, ISO 8601 dates, the credentials' account);
* ``list_key``: the key of the records in a page (null: the endpoint answers one object);
* ``primary_keys``: ``sid`` where the record has one, else ``PRIMARY_KEYS``;
* ``parent`` / ``parent_keys``: the stream whose records fill the path, and for each
  ``{Param}`` the parent record's field (from the spec's ``x-twilio.dependentProperties`` where
  it says, else the parent list's path: the parameter after it is the parent's ``sid``);
* ``path_fields``: for each ``{Param}``, the field of this stream's records that holds its value
  (added to the schema, and by the tap to the records, where the API leaves it out);
* ``per_account``: read once per account in scope (every stream but ``accounts``);
* ``date_filter``: the server-side date filter usable for incremental sync: ``lower`` and
  ``upper`` query parameter names and the ``format`` of their values (``date``: ``YYYY-MM-DD``,
  ``date-time``: ISO 8601), and for date-times whether each bound leaves its instant out
  (``lower_exclusive`` / ``upper_exclusive``: the parameter's text says "after" / "before",
  not "on or after"); null when the list has none;
* ``replication_key``: the record field that filter applies to, where the spec makes that clear
  (``REPLICATION_KEYS``, else the filter's own name: ``DateCreatedAfter`` → ``date_created``);
  null: full table;
* ``selected_by_default``: read by a plain run without a catalog (``SELECTED_BY_DEFAULT``);
* ``narrowing``: the list's query parameters whose documented default hides records
  (``narrowing_defaults.py`` reads them from the parameter texts and from what Twilio
  documents elsewhere), each with how the tap asks
  for every record: ``each`` (one query per value of ``values``, the parameter's enum),
  ``value`` (always sent as ``value``) or ``bounds`` (the date filter's lower bound, sent on
  every read, replaces the default window);
* ``schema``: the schema file in ``tap_twilio/schemas/``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The schema rules live in generate_schemas.py (beside this script); this one reuses them.
import generate_schemas
import narrowing_defaults
from generate_schemas import SpecError, StreamSpec

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC_DIR = REPO_ROOT / "specs" / "twilio-oai"
TABLE_FILE = Path("tap_twilio") / "streams_table.json"
SCHEMA_DIR = Path("tap_twilio") / "schemas"
STREAMS_DOC = Path("docs") / "streams.md"
EXCLUDED_DOC = Path("docs") / "streams-excluded.md"

V2010 = "api_v2010"
_V2010_ENVELOPE = {
    "end",
    "first_page_uri",
    "next_page_uri",
    "page",
    "page_size",
    "previous_page_uri",
    "start",
    "uri",
}

# ---------------------------------------------------------------------------------------------
# What is left out, and why. Twilio's specs carry no maturity or deprecation markers (no
# `x-maturity`, no `deprecated` on a list), so these reasons come from Twilio's product docs
# and from the specs themselves (hosts, duplicate resources).
# ---------------------------------------------------------------------------------------------
_CHAT = (
    "deprecated: Programmable Chat, whose end of life Twilio announced; its data is read through "
    "the Conversations API (`conversations_*`)"
)
EXCLUDED_APIS: dict[str, str] = {
    "chat_v1": _CHAT,
    "chat_v2": _CHAT,
    "chat_v3": _CHAT,
    "ip_messaging_v1": _CHAT + " (`ip-messaging` is Chat's former host)",
    "ip_messaging_v2": _CHAT + " (`ip-messaging` is Chat's former host)",
    "preview": (
        "preview API (`preview.twilio.com`): its hosted numbers, marketplace and wireless "
        "resources moved to the Numbers, Marketplace and Wireless APIs, read from there"
    ),
    "iam_organizations": "preview API (`preview-iam.twilio.com`), and not a list of records",
    "assistants_v1": "pre-release product: Twilio's AI Assistants are not generally available",
    "knowledge_v1": "pre-release product: Knowledge belongs to Twilio's AI Assistants",
    "pricing_v1": (
        "catalog: Twilio's price lists, the same for every account; a price is read per "
        "user-chosen country"
    ),
    "pricing_v2": (
        "catalog: Twilio's price lists, the same for every account; a price is read per "
        "user-chosen country"
    ),
    "oauth_v1": "not a list of records: the OAuth authorize redirect",
    "oauth_v2": "not a list of records: the OAuth authorize redirect",
}

_A = "/2010-04-01/Accounts/{AccountSid}"
_USAGE_PERIOD = "read by `usage_records`, whose period is the `usage_records_granularity` setting"
_SUBSET = "a subset of `{}`, which is read whole (its records carry `{}`)"
_DEFAULT_SERVICE = "the default Conversation Service's {}, read with every service's by `{}`"
_USAGE_REPORT = (
    "a usage report aggregated per user-chosen `Granularity` and grouping: its rows have no "
    "identity of their own (the period is an object)"
)
EXCLUDED_PATHS: dict[tuple[str, str], str] = {
    (V2010, f"{_A}/AvailablePhoneNumbers.json"): "catalog: the countries Twilio sells numbers in",
    (V2010, f"{_A}/Calls/{{CallSid}}/Events.json"): (
        "the HTTP requests and responses of one call's webhooks: entries without an identity "
        "of their own (no sid, no time), read by one request per call"
    ),
    (V2010, f"{_A}/Usage/Records.json"): (
        "lifetime totals per category (one moving row each); " + _USAGE_PERIOD
    ),
    (V2010, f"{_A}/Usage/Records/Monthly.json"): _USAGE_PERIOD,
    (V2010, f"{_A}/Usage/Records/Yearly.json"): _USAGE_PERIOD,
    (V2010, f"{_A}/Usage/Records/AllTime.json"): _USAGE_PERIOD,
    (V2010, f"{_A}/Usage/Records/Today.json"): "a subset of the daily usage records",
    (V2010, f"{_A}/Usage/Records/Yesterday.json"): "a subset of the daily usage records",
    (V2010, f"{_A}/Usage/Records/ThisMonth.json"): "a subset of the monthly usage records",
    (V2010, f"{_A}/Usage/Records/LastMonth.json"): "a subset of the monthly usage records",
    (V2010, f"{_A}/IncomingPhoneNumbers/Local.json"): _SUBSET.format(
        "incoming_phone_numbers", "capabilities"
    ),
    (V2010, f"{_A}/IncomingPhoneNumbers/Mobile.json"): _SUBSET.format(
        "incoming_phone_numbers", "capabilities"
    ),
    (V2010, f"{_A}/IncomingPhoneNumbers/TollFree.json"): _SUBSET.format(
        "incoming_phone_numbers", "capabilities"
    ),
    (V2010, f"{_A}/Calls/{{CallSid}}/Recordings.json"): _SUBSET.format("recordings", "call_sid"),
    (V2010, f"{_A}/Conferences/{{ConferenceSid}}/Recordings.json"): _SUBSET.format(
        "recordings", "conference_sid"
    ),
    (V2010, f"{_A}/Calls/{{CallSid}}/Notifications.json"): _SUBSET.format(
        "notifications", "call_sid"
    ),
    (V2010, f"{_A}/Recordings/{{RecordingSid}}/Transcriptions.json"): _SUBSET.format(
        "transcriptions", "recording_sid"
    ),
    ("accounts_v1", "/v1/Messaging/GeoPermissions"): (
        "settings per user-chosen country (`CountryCode`), one object rather than a page"
    ),
    ("accounts_v1", "/v1/SafeList/Numbers"): "a lookup of one user-chosen `PhoneNumber`",
    ("conversations_v1", "/v1/Conversations"): _DEFAULT_SERVICE.format(
        "conversations", "conversations"
    ),
    ("conversations_v1", "/v1/Conversations/{ConversationSid}/Messages"): "the default service's"
    " messages; read with every service's by `conversations_messages`",
    ("conversations_v1", "/v1/Conversations/{ConversationSid}/Messages/{MessageSid}/Receipts"): (
        "the default service's receipts; read with every service's by "
        "`conversations_message_receipts`"
    ),
    ("conversations_v1", "/v1/Conversations/{ConversationSid}/Participants"): "the default "
    "service's participants; read with every service's by `conversations_participants`",
    ("conversations_v1", "/v1/Conversations/{ConversationSid}/Webhooks"): "the default service's"
    " conversation webhooks; read with every service's by `conversations_webhooks`",
    ("conversations_v1", "/v1/Users"): _DEFAULT_SERVICE.format("users", "conversations_users"),
    ("conversations_v1", "/v1/Users/{UserSid}/Conversations"): _DEFAULT_SERVICE.format(
        "user conversations", "conversations_user_conversations"
    ),
    ("conversations_v1", "/v1/Roles"): _DEFAULT_SERVICE.format("roles", "conversations_roles"),
    ("conversations_v1", "/v1/ParticipantConversations"): (
        "needs a user-chosen `Identity` or `Address` (Twilio answers 400 without one)"
    ),
    ("conversations_v1", "/v1/Services/{ChatServiceSid}/ParticipantConversations"): (
        "needs a user-chosen `Identity` or `Address` (Twilio answers 400 without one)"
    ),
    ("content_v2", "/v2/Content"): (
        "the same Content templates as `content_templates` (content v1, the documented version)"
    ),
    ("content_v2", "/v2/ContentAndApprovals"): (
        "the same templates and approvals as `content_templates_and_approvals` (content v1)"
    ),
    ("studio_v1", "/v1/Flows"): "the same flows as `studio_flows` (Studio v2)",
    ("studio_v1", "/v1/Flows/{FlowSid}/Executions"): (
        "the same executions as `studio_executions` (Studio v2)"
    ),
    ("studio_v1", "/v1/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps"): (
        "the same steps as `studio_execution_steps` (Studio v2)"
    ),
    ("studio_v1", "/v1/Flows/{FlowSid}/Engagements"): (
        "deprecated: Studio Engagements, replaced by Executions (`studio_executions`)"
    ),
    ("studio_v1", "/v1/Flows/{FlowSid}/Engagements/{EngagementSid}/Steps"): (
        "deprecated: Studio Engagements, replaced by Executions (`studio_execution_steps`)"
    ),
    ("events_v1", "/v1/Types"): "catalog: Twilio's event types, the same for every account",
    ("marketplace_v1", "/v1/AvailableAddOns"): (
        "catalog: the Add-ons Twilio's Marketplace offers, the same for every account"
    ),
    ("marketplace_v1", "/v1/AvailableAddOns/{AvailableAddOnSid}/Extensions"): (
        "catalog: the Add-ons Twilio's Marketplace offers, the same for every account"
    ),
    ("marketplace_v1", "/v1/Listings"): "catalog: Marketplace listings, one object per request",
    ("messaging_v1", "/v1/Services/Usecases"): "catalog: the A2P 10DLC use cases Twilio knows",
    ("messaging_v1", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p/Usecases"): (
        "catalog: the A2P 10DLC use cases a user-chosen `BrandRegistrationSid` may register"
    ),
    ("voice_v1", "/v1/DialingPermissions/Countries"): (
        "catalog: Twilio's dialing countries, with the account's permission flags"
    ),
    ("voice_v1", "/v1/DialingPermissions/Countries/{IsoCode}/HighRiskSpecialPrefixes"): (
        "catalog: Twilio's high-risk prefixes per country"
    ),
    ("trusthub_v1", "/v1/EndUserTypes"): "catalog: Twilio's end-user types",
    ("trusthub_v1", "/v1/SupportingDocumentTypes"): "catalog: Twilio's supporting document types",
    ("trusthub_v1", "/v1/Policies"): "catalog: Twilio's Trust Hub policies",
    ("numbers_v2", "/v2/RegulatoryCompliance/EndUserTypes"): "catalog: Twilio's end-user types",
    ("numbers_v2", "/v2/RegulatoryCompliance/SupportingDocumentTypes"): (
        "catalog: Twilio's supporting document types"
    ),
    ("numbers_v2", "/v2/RegulatoryCompliance/Regulations"): (
        "catalog: the regulations of each country and number type"
    ),
    ("numbers_v1", "/v1/SigningRequest/Configuration"): (
        "settings per user-chosen `Country` and `Product`"
    ),
    ("supersim_v1", "/v1/Networks"): "catalog: the networks Super SIM can connect to",
    ("intelligence_v2", "/v2/OperatorTypes"): "catalog: Twilio's Language Operator types",
    ("supersim_v1", "/v1/UsageRecords"): _USAGE_REPORT,
    ("wireless_v1", "/v1/UsageRecords"): _USAGE_REPORT,
    ("wireless_v1", "/v1/Sims/{SimSid}/UsageRecords"): _USAGE_REPORT,
    ("intelligence_v2", "/v2/Operators"): (
        "Twilio's pre-built operators (a catalog) with the account's custom ones, which "
        "`intelligence_operators_custom` reads"
    ),
    ("iam_v1", "/v1/Keys"): (
        "the same API keys as `keys`; its required `AccountSid` query parameter names the account"
    ),
    ("intelligence_v2", "/v2/Operators/PreBuilt"): "catalog: Twilio's pre-built Language Operators",
}

# Endpoints that answer one object but are kept as a stream (one record per account).
SINGLE_OBJECT_STREAMS = {(V2010, f"{_A}/Balance.json")}

# ---------------------------------------------------------------------------------------------
# Names. Unnamed endpoints get the API's product and the path's words after its last
# `{Param}` (`/v1/Services/{ServiceSid}/Functions` of serverless → `serverless_functions`).
# ---------------------------------------------------------------------------------------------
NAMES: dict[tuple[str, str], str] = {
    # The 2010 API and Monitor alerts: the names tap-twilio has always had.
    (V2010, "/2010-04-01/Accounts.json"): "accounts",
    (V2010, f"{_A}/Calls.json"): "calls",
    (V2010, f"{_A}/Conferences.json"): "conferences",
    (V2010, f"{_A}/Conferences/{{ConferenceSid}}/Participants.json"): "conference_participants",
    (V2010, f"{_A}/Notifications.json"): "notifications",
    (V2010, f"{_A}/Messages.json"): "messages",
    (V2010, f"{_A}/Messages/{{MessageSid}}/Media.json"): "message_media",
    (V2010, f"{_A}/Recordings.json"): "recordings",
    (V2010, f"{_A}/Transcriptions.json"): "transcriptions",
    (V2010, f"{_A}/IncomingPhoneNumbers.json"): "incoming_phone_numbers",
    (V2010, f"{_A}/OutgoingCallerIds.json"): "outgoing_caller_ids",
    (V2010, f"{_A}/Addresses.json"): "addresses",
    (V2010, f"{_A}/Applications.json"): "applications",
    (V2010, f"{_A}/Keys.json"): "keys",
    (V2010, f"{_A}/Queues.json"): "queues",
    (V2010, f"{_A}/Usage/Triggers.json"): "usage_triggers",
    (V2010, f"{_A}/Usage/Records/Daily.json"): "usage_records",
    (V2010, f"{_A}/Balance.json"): "account_balance",
    ("monitor_v1", "/v1/Alerts"): "alerts",
    # The rest of the 2010 API.
    (V2010, f"{_A}/Queues/{{QueueSid}}/Members.json"): "queue_members",
    (V2010, f"{_A}/Addresses/{{AddressSid}}/DependentPhoneNumbers.json"): (
        "address_dependent_phone_numbers"
    ),
    (V2010, f"{_A}/IncomingPhoneNumbers/{{ResourceSid}}/AssignedAddOns.json"): (
        "incoming_phone_number_assigned_add_ons"
    ),
    (
        V2010,
        f"{_A}/IncomingPhoneNumbers/{{ResourceSid}}/AssignedAddOns/{{AssignedAddOnSid}}"
        "/Extensions.json",
    ): "incoming_phone_number_assigned_add_on_extensions",
    (V2010, f"{_A}/Recordings/{{ReferenceSid}}/AddOnResults.json"): "recording_add_on_results",
    (V2010, f"{_A}/Recordings/{{ReferenceSid}}/AddOnResults/{{AddOnResultSid}}/Payloads.json"): (
        "recording_add_on_result_payloads"
    ),
    (V2010, f"{_A}/SIP/CredentialLists/{{CredentialListSid}}/Credentials.json"): (
        "sip_credentials"
    ),
    (V2010, f"{_A}/SIP/IpAccessControlLists/{{IpAccessControlListSid}}/IpAddresses.json"): (
        "sip_ip_addresses"
    ),
    (V2010, f"{_A}/SIP/Domains/{{DomainSid}}/CredentialListMappings.json"): (
        "sip_domain_credential_list_mappings"
    ),
    (V2010, f"{_A}/SIP/Domains/{{DomainSid}}/IpAccessControlListMappings.json"): (
        "sip_domain_ip_access_control_list_mappings"
    ),
    (V2010, f"{_A}/SIP/Domains/{{DomainSid}}/Auth/Calls/CredentialListMappings.json"): (
        "sip_domain_auth_calls_credential_list_mappings"
    ),
    (V2010, f"{_A}/SIP/Domains/{{DomainSid}}/Auth/Calls/IpAccessControlListMappings.json"): (
        "sip_domain_auth_calls_ip_access_control_list_mappings"
    ),
    (V2010, f"{_A}/SIP/Domains/{{DomainSid}}/Auth/Registrations/CredentialListMappings.json"): (
        "sip_domain_auth_registrations_credential_list_mappings"
    ),
    ("monitor_v1", "/v1/Events"): "monitor_events",
    # Names data teams know (Twilio's own words for these lists).
    ("studio_v2", "/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps"): "studio_execution_steps",
    ("studio_v2", "/v2/Flows/{Sid}/Revisions"): "studio_flow_revisions",
    ("insights_v1", "/v1/Voice/Summaries"): "insights_call_summaries",
    ("insights_v1", "/v1/Voice/{CallSid}/Events"): "insights_call_events",
    ("insights_v1", "/v1/Voice/{CallSid}/Metrics"): "insights_call_metrics",
    ("insights_v1", "/v1/Conferences"): "insights_conference_summaries",
    ("insights_v1", "/v1/Conferences/{ConferenceSid}/Participants"): (
        "insights_conference_participant_summaries"
    ),
    ("insights_v1", "/v1/Video/Rooms"): "insights_video_room_summaries",
    ("insights_v1", "/v1/Video/Rooms/{RoomSid}/Participants"): (
        "insights_video_participant_summaries"
    ),
    ("conversations_v1", "/v1/Services/{ChatServiceSid}/Conversations"): "conversations",
    (
        "conversations_v1",
        "/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Messages",
    ): "conversations_messages",
    (
        "conversations_v1",
        "/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}"
        "/Messages/{MessageSid}/Receipts",
    ): "conversations_message_receipts",
    (
        "conversations_v1",
        "/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Participants",
    ): "conversations_participants",
    (
        "conversations_v1",
        "/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Webhooks",
    ): "conversations_webhooks",
    ("conversations_v1", "/v1/Services/{ChatServiceSid}/Users/{UserSid}/Conversations"): (
        "conversations_user_conversations"
    ),
    ("conversations_v1", "/v1/Configuration/Addresses"): "conversations_address_configurations",
    ("taskrouter_v1", "/v1/Workspaces/{WorkspaceSid}/Events"): "taskrouter_workspace_events",
    ("taskrouter_v1", "/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations"): (
        "taskrouter_task_reservations"
    ),
    ("taskrouter_v1", "/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Reservations"): (
        "taskrouter_worker_reservations"
    ),
    ("taskrouter_v1", "/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Channels"): (
        "taskrouter_worker_channels"
    ),
    ("taskrouter_v1", "/v1/Workspaces/{WorkspaceSid}/TaskQueues/Statistics"): (
        "taskrouter_task_queue_statistics"
    ),
    ("verify_v2", "/v2/Attempts"): "verify_verification_attempts",
    ("verify_v2", "/v2/Services/{ServiceSid}/Entities/{Identity}/Challenges"): (
        "verify_entity_challenges"
    ),
    ("verify_v2", "/v2/Services/{ServiceSid}/Entities/{Identity}/Factors"): (
        "verify_entity_factors"
    ),
    ("verify_v2", "/v2/Services/{ServiceSid}/RateLimits/{RateLimitSid}/Buckets"): (
        "verify_rate_limit_buckets"
    ),
    ("video_v1", "/v1/Recordings"): "video_recordings",
    ("video_v1", "/v1/Rooms/{RoomSid}/Participants"): "video_room_participants",
    ("video_v1", "/v1/Rooms/{RoomSid}/Recordings"): "video_room_recordings",
    ("video_v1", "/v1/Rooms/{RoomSid}/Transcriptions"): "video_room_transcriptions",
    ("video_v1", "/v1/Rooms/{RoomSid}/Participants/{ParticipantSid}/PublishedTracks"): (
        "video_room_participant_published_tracks"
    ),
    ("video_v1", "/v1/Rooms/{RoomSid}/Participants/{ParticipantSid}/SubscribedTracks"): (
        "video_room_participant_subscribed_tracks"
    ),
    ("sync_v1", "/v1/Services/{ServiceSid}/Lists/{ListSid}/Items"): "sync_list_items",
    ("sync_v1", "/v1/Services/{ServiceSid}/Lists/{ListSid}/Permissions"): "sync_list_permissions",
    ("sync_v1", "/v1/Services/{ServiceSid}/Maps/{MapSid}/Items"): "sync_map_items",
    ("sync_v1", "/v1/Services/{ServiceSid}/Maps/{MapSid}/Permissions"): "sync_map_permissions",
    ("sync_v1", "/v1/Services/{ServiceSid}/Documents/{DocumentSid}/Permissions"): (
        "sync_document_permissions"
    ),
    ("serverless_v1", "/v1/Services/{ServiceSid}/Assets/{AssetSid}/Versions"): (
        "serverless_asset_versions"
    ),
    ("serverless_v1", "/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions"): (
        "serverless_function_versions"
    ),
    ("flex_v1", "/v1/PluginService/Plugins/{PluginSid}/Versions"): "flex_plugin_versions",
    ("flex_v1", "/v1/PluginService/Configurations/{ConfigurationSid}/Plugins"): (
        "flex_plugin_configuration_plugins"
    ),
    ("flex_v1", "/v1/Interactions/{InteractionSid}/Channels/{ChannelSid}/Invites"): (
        "flex_interaction_channel_invites"
    ),
    ("flex_v1", "/v1/Interactions/{InteractionSid}/Channels/{ChannelSid}/Participants"): (
        "flex_interaction_channel_participants"
    ),
    ("flex_v1", "/v1/Channels"): "flex_chat_channels",
    ("flex_v1", "/v1/FlexFlows"): "flex_flows",
    ("flex_v1", "/v1/PluginService/Plugins"): "flex_plugins",
    ("flex_v1", "/v1/PluginService/Configurations"): "flex_plugin_configurations",
    ("flex_v1", "/v1/PluginService/Releases"): "flex_plugin_releases",
    ("content_v1", "/v1/Content"): "content_templates",
    ("content_v1", "/v1/ContentAndApprovals"): "content_templates_and_approvals",
    ("content_v1", "/v1/LegacyContent"): "content_legacy_templates",
    (V2010, f"{_A}/SMS/ShortCodes.json"): "short_codes",
    ("numbers_v2", "/v2/RegulatoryCompliance/Bundles"): "numbers_bundles",
    ("numbers_v2", "/v2/RegulatoryCompliance/EndUsers"): "numbers_end_users",
    ("numbers_v2", "/v2/RegulatoryCompliance/SupportingDocuments"): (
        "numbers_supporting_documents"
    ),
    ("numbers_v2", "/v2/HostedNumber/AuthorizationDocuments"): "numbers_authorization_documents",
    ("flex_v1", "/v1/WebChannels"): "flex_web_channels",
    ("proxy_v1", "/v1/Services/{ServiceSid}/Sessions/{SessionSid}/Participants"): (
        "proxy_session_participants"
    ),
    ("proxy_v1", "/v1/Services/{ServiceSid}/Sessions/{SessionSid}/Interactions"): (
        "proxy_session_interactions"
    ),
    (
        "proxy_v1",
        "/v1/Services/{ServiceSid}/Sessions/{SessionSid}/Participants/{ParticipantSid}"
        "/MessageInteractions",
    ): "proxy_participant_message_interactions",
    ("messaging_v1", "/v1/a2p/BrandRegistrations/{BrandSid}/Vettings"): (
        "messaging_brand_registration_vettings"
    ),
    ("messaging_v1", "/v1/a2p/BrandRegistrations"): "messaging_brand_registrations",
    ("messaging_v1", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p"): (
        "messaging_us_app_to_person_campaigns"
    ),
    ("messaging_v1", "/v1/Tollfree/Verifications"): "messaging_tollfree_verifications",
    ("supersim_v1", "/v1/ESimProfiles"): "supersim_esim_profiles",
    ("supersim_v1", "/v1/Sims/{SimSid}/BillingPeriods"): "supersim_sim_billing_periods",
    ("supersim_v1", "/v1/Sims/{SimSid}/IpAddresses"): "supersim_sim_ip_addresses",
    ("supersim_v1", "/v1/NetworkAccessProfiles/{NetworkAccessProfileSid}/Networks"): (
        "supersim_network_access_profile_networks"
    ),
    ("wireless_v1", "/v1/Sims/{SimSid}/UsageRecords"): "wireless_sim_usage_records",
    ("wireless_v1", "/v1/Sims/{SimSid}/DataSessions"): "wireless_sim_data_sessions",
    ("trunking_v1", "/v1/Trunks/{TrunkSid}/CredentialLists"): "trunking_trunk_credential_lists",
    ("trunking_v1", "/v1/Trunks/{TrunkSid}/IpAccessControlLists"): (
        "trunking_trunk_ip_access_control_lists"
    ),
    ("trunking_v1", "/v1/Trunks/{TrunkSid}/OriginationUrls"): "trunking_trunk_origination_urls",
    ("trunking_v1", "/v1/Trunks/{TrunkSid}/PhoneNumbers"): "trunking_trunk_phone_numbers",
    ("trusthub_v1", "/v1/CustomerProfiles/{CustomerProfileSid}/ChannelEndpointAssignments"): (
        "trusthub_customer_profile_channel_endpoint_assignments"
    ),
    ("trusthub_v1", "/v1/CustomerProfiles/{CustomerProfileSid}/EntityAssignments"): (
        "trusthub_customer_profile_entity_assignments"
    ),
    ("trusthub_v1", "/v1/CustomerProfiles/{CustomerProfileSid}/Evaluations"): (
        "trusthub_customer_profile_evaluations"
    ),
    ("trusthub_v1", "/v1/TrustProducts/{TrustProductSid}/ChannelEndpointAssignments"): (
        "trusthub_trust_product_channel_endpoint_assignments"
    ),
    ("trusthub_v1", "/v1/TrustProducts/{TrustProductSid}/EntityAssignments"): (
        "trusthub_trust_product_entity_assignments"
    ),
    ("trusthub_v1", "/v1/TrustProducts/{TrustProductSid}/Evaluations"): (
        "trusthub_trust_product_evaluations"
    ),
    ("numbers_v2", "/v2/RegulatoryCompliance/Bundles/{BundleSid}/Copies"): (
        "numbers_bundle_copies"
    ),
    ("numbers_v2", "/v2/RegulatoryCompliance/Bundles/{BundleSid}/Evaluations"): (
        "numbers_bundle_evaluations"
    ),
    ("numbers_v2", "/v2/RegulatoryCompliance/Bundles/{BundleSid}/ItemAssignments"): (
        "numbers_bundle_item_assignments"
    ),
    (
        "numbers_v2",
        "/v2/HostedNumber/AuthorizationDocuments/{SigningDocumentSid}/DependentHostedNumberOrders",
    ): "numbers_authorization_document_dependent_orders",
    ("numbers_v1", "/v1/Porting/PortIn/PortInRequests"): "numbers_port_in_requests",
    ("marketplace_v1", "/v1/InstalledAddOns/{InstalledAddOnSid}/Extensions"): (
        "marketplace_installed_add_on_extensions"
    ),
    ("events_v1", "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents"): (
        "events_subscribed_events"
    ),
    ("events_v1", "/v1/Schemas/{Id}/Versions"): "events_schema_versions",
    ("voice_v1", "/v1/ConnectionPolicies/{ConnectionPolicySid}/Targets"): (
        "voice_connection_policy_targets"
    ),
    ("intelligence_v2", "/v2/Transcripts/{TranscriptSid}/OperatorResults"): (
        "intelligence_transcript_operator_results"
    ),
    ("intelligence_v2", "/v2/Transcripts/{TranscriptSid}/Sentences"): (
        "intelligence_transcript_sentences"
    ),
    ("intelligence_v2", "/v2/Operators/Custom"): "intelligence_operators_custom",
    ("iam_v1", "/v1/Roles/{RoleSid}/Permissions"): "iam_role_permissions",
    ("accounts_v1", "/v1/Credentials/AWS"): "accounts_aws_credentials",
    ("accounts_v1", "/v1/Credentials/PublicKeys"): "accounts_public_key_credentials",
}

# Records without a `sid`: the fields that identify one (each checked against the spec).
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    # Twilio's Participants list has no sid: a participant is a call in a conference.
    "conference_participants": ("conference_sid", "call_sid"),
    # One row per account, category and period.
    "usage_records": ("account_sid", "category", "start_date", "end_date"),
    # One balance per account.
    "account_balance": ("account_sid",),
    # A call waiting in a queue.
    "queue_members": ("queue_sid", "call_sid"),
    # A flow's revisions share the flow's sid.
    "studio_flow_revisions": ("sid", "revision"),
    # An app the account authorized: one per Connect App.
    "authorized_connect_apps": ("account_sid", "connect_app_sid"),
    # A user's membership of a conversation.
    "conversations_user_conversations": ("chat_service_sid", "user_sid", "conversation_sid"),
    # An event type a subscription receives.
    "events_subscribed_events": ("subscription_sid", "type"),
    # A plugin (version) in a Flex plugin configuration.
    "flex_plugin_configuration_plugins": ("configuration_sid", "plugin_sid"),
    # One Language Operator's result on one transcript.
    "intelligence_transcript_operator_results": ("transcript_sid", "operator_sid"),
    "messaging_brand_registration_vettings": ("brand_sid", "brand_vetting_sid"),
    "numbers_port_in_requests": ("port_in_request_sid",),
    "supersim_sim_ip_addresses": ("sim_sid", "ip_address"),
    # Sync items are keyed by their index (lists) or key (maps) within their list or map,
    # permissions by the identity they are granted to.
    "sync_list_items": ("service_sid", "list_sid", "index"),
    "sync_map_items": ("service_sid", "map_sid", "key"),
    "sync_document_permissions": ("service_sid", "document_sid", "identity"),
    "sync_list_permissions": ("service_sid", "list_sid", "identity"),
    "sync_map_permissions": ("service_sid", "map_sid", "identity"),
    # Statistics of one task queue.
    "taskrouter_task_queue_statistics": ("workspace_sid", "task_queue_sid"),
    # One messaging configuration per Verify service and country.
    "verify_messaging_configurations": ("service_sid", "country"),
    # "The unique string that we created to identify the transcriptions resource"
    "video_room_transcriptions": ("ttid",),
    # Voice Insights key their summaries by the call, conference and participant SIDs.
    "insights_call_summaries": ("call_sid",),
    "insights_call_events": ("call_sid", "timestamp", "name", "edge"),
    "insights_call_metrics": ("call_sid", "timestamp", "edge", "direction"),
    "insights_conference_summaries": ("conference_sid",),
    "insights_conference_participant_summaries": ("participant_sid",),
    "insights_video_room_summaries": ("room_sid",),
    "insights_video_participant_summaries": ("participant_sid",),
}

# Filters whose record field the filter's name does not say (each from the spec's description).
REPLICATION_KEYS: dict[str, str] = {
    # "Only include alerts that occurred on or after this date and time"
    "alerts": "date_generated",
    # "Only include events that occurred on or after this date"
    "monitor_events": "event_date",
    # "Only include Events from on or after this date and time"
    "taskrouter_workspace_events": "event_date",
    # "filtering Conversations based on their creation date"
    "conversations": "date_created",
    # "The date/time ... after which the Log resources must have been created"
    "serverless_logs": "date_created",
    # "Conferences created after the provided timestamp"
    "insights_conference_summaries": "create_time",
    # "Only read rooms that started on or after this ISO 8601 timestamp"
    "insights_video_room_summaries": "create_time",
    # "Read only Participants that started after this date"
    "video_room_participants": "start_time",
    # Usage rows per period: StartDate bounds the period's start.
    "usage_records": "start_date",
}

# Lists with a date filter but no record field it clearly applies to: full table.
FULL_TABLE = {
    # Read for the messages of each window (only those with media); today's behaviour.
    "message_media",
    # The spec's StartDate says "usage ... on or after this date" for bindings: unclear.
    "notify_bindings",
    # Statistics computed over the window, not records created in it.
    "taskrouter_task_queue_statistics",
}

# The date filter of a 2010 list (several are offered): the one tap-twilio filters on today.
V2010_FILTERS = {
    "calls": "StartTime",
    "conferences": "DateUpdated",
    "notifications": "MessageDate",
    "messages": "DateSent",
    "recordings": "DateCreated",
    "message_media": "DateCreated",
}

# Newer APIs' pairs of date filter parameters, (lower, upper, the record field they name).
DATE_FILTER_PAIRS: tuple[tuple[str, str, str | None], ...] = (
    ("DateCreatedFrom", "DateCreatedTo", "date_created"),
    ("DateCreatedAfter", "DateCreatedBefore", "date_created"),
    ("CreatedAfter", "CreatedBefore", "date_created"),
    ("AfterDateCreated", "BeforeDateCreated", "date_created"),
    ("StartTime", "EndTime", "start_time"),
    ("StartDate", "EndDate", None),
    ("Start", "End", None),
)

# Parents the spec does not link (its Voice paths hang under a `/Voice/{Sid}` that is no list).
PARENTS: dict[str, tuple[str, dict[str, str]]] = {
    "insights_call_events": ("insights_call_summaries", {"CallSid": "call_sid"}),
    "insights_call_metrics": ("insights_call_summaries", {"CallSid": "call_sid"}),
}

# Record fields holding a path parameter, where they differ from the parameter's snake_case.
PATH_FIELDS: dict[tuple[str, str], str] = {
    ("message_media", "MessageSid"): "parent_sid",  # Twilio's media field for the message
    ("incoming_phone_number_assigned_add_ons", "ResourceSid"): "resource_sid",
    ("recording_add_on_results", "ReferenceSid"): "reference_sid",
}

# Properties never written to a schema (so the tap drops them from records), as
# generate_schemas.py's REMOVED_FIELDS does for the Accounts list's auth_token.
REMOVED_FIELDS: dict[tuple[str, str], str] = {
    ("serverless_variables", "value"): (
        "Functions' environment variables hold secrets (API keys, tokens); a credential must "
        "never land in a warehouse"
    ),
}

# Read by a plain run (no catalog): the six reports, today's other streams, and the lists data
# teams ask for most. The rest are listed by --discover and chosen with a catalog.
SELECTED_BY_DEFAULT = {
    "accounts",
    "calls",
    "conferences",
    "notifications",
    "messages",
    "usage_records",
    "recordings",
    "transcriptions",
    "conference_participants",
    "message_media",
    "incoming_phone_numbers",
    "outgoing_caller_ids",
    "addresses",
    "applications",
    "keys",
    "queues",
    "usage_triggers",
    "account_balance",
    "alerts",
    "conversations_services",
    "conversations",
    "conversations_messages",
    "conversations_participants",
    "studio_flows",
    "studio_executions",
    "insights_call_summaries",
    "insights_conference_summaries",
    "insights_conference_participant_summaries",
    "verify_services",
    "verify_verification_attempts",
    "messaging_services",
    "taskrouter_workspaces",
    "taskrouter_workers",
    "taskrouter_tasks",
    "taskrouter_workspace_events",
}

# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One list endpoint of one spec."""

    api: str
    path: str
    host: str
    path_item: dict[str, Any]
    spec: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.api, self.path)

    @property
    def operation(self) -> dict[str, Any]:
        return self.path_item["get"]

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def query(self) -> dict[str, dict[str, Any]]:
        return {
            p["name"]: p for p in self.operation.get("parameters", []) if p.get("in") == "query"
        }

    @property
    def response_schema(self) -> dict[str, Any]:
        ok = self.operation["responses"].get("200", {})
        return ok.get("content", {}).get("application/json", {}).get("schema", {})

    @property
    def list_key(self) -> str | None:
        """The key of the records in a page; None when the endpoint answers no page."""
        properties = self.response_schema.get("properties", {})
        paged = "meta" in properties or "next_page_uri" in properties
        keys = [k for k in properties if k != "meta" and k not in _V2010_ENVELOPE]
        if not paged or len(keys) != 1 or properties[keys[0]].get("type") != "array":
            return None
        return keys[0]

    def item_schema_name(self) -> str:
        schema = _item_schema(self)
        if "$ref" not in schema:
            raise SpecError(f"{self.api} {self.path}: no item schema $ref")
        return generate_schemas.ref_name(schema["$ref"])

    def item_properties(self) -> dict[str, Any]:
        """The record's properties; empty when the spec gives none (a `oneOf`)."""
        if "$ref" not in _item_schema(self):
            return {}
        components = self.spec["components"]["schemas"]
        return components[self.item_schema_name()].get("properties", {})

    def example_pages(self) -> list[dict[str, Any]]:
        ok = self.operation["responses"].get("200", {})
        examples = ok.get("content", {}).get("application/json", {}).get("examples", {})
        return [e["value"] for e in examples.values() if isinstance(e.get("value"), dict)]

    def example_records(self) -> list[dict[str, Any]]:
        if self.list_key is None:
            return self.example_pages()
        return [
            r
            for page in self.example_pages()
            for r in page.get(self.list_key) or []
            if isinstance(r, dict)
        ]


def _item_schema(endpoint: Endpoint) -> dict[str, Any]:
    schema = endpoint.response_schema
    if endpoint.list_key is not None:
        schema = schema["properties"][endpoint.list_key]["items"]
    return schema


def snake(word: str) -> str:
    """`ChatServiceSid` → `chat_service_sid`, `IpAccessControlLists` → `ip_access_control_lists`."""
    word = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", word)
    word = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", word)
    return word.replace("-", "_").lower()


def api_name(spec_file: Path) -> str:
    return spec_file.stem.removeprefix("twilio_")


def product(api: str) -> str:
    """`studio_v2` → `studio`, `iam_organizations` → `iam_organizations`."""
    return re.sub(r"_v\d+$", "", api)


def load_all_specs(spec_dir: Path) -> dict[str, dict[str, Any]]:
    files = sorted(spec_dir.glob("twilio_*.json"))
    if not files:
        raise SpecError(f"no twilio_*.json in {spec_dir} (Twilio's twilio-oai spec/json folder)")
    return {api_name(f): json.loads(f.read_text(encoding="utf-8")) for f in files}


def list_endpoints(specs: dict[str, dict[str, Any]]) -> list[Endpoint]:
    """Every list endpoint of every spec, parents before children."""
    endpoints = []
    for api, spec in specs.items():
        host = urlparse(spec["servers"][0]["url"]).netloc
        for path, item in spec["paths"].items():
            if item.get("x-twilio", {}).get("pathType") == "list" and "get" in item:
                endpoints.append(Endpoint(api, path, host, item, spec))
    return sorted(endpoints, key=lambda e: (e.api, len(e.params), e.path))


def default_name(endpoint: Endpoint) -> str:
    path = endpoint.path.removesuffix(".json")
    segments = [s for s in path.split("/") if s]
    last_param = max((i for i, s in enumerate(segments) if s.startswith("{")), default=0)
    words = [s for s in segments[last_param + 1 :] if not re.fullmatch(r"v\d+", s)]
    tail = "_".join(snake(w) for w in words)
    return tail if endpoint.api == V2010 else f"{product(endpoint.api)}_{tail}"


def stream_name(endpoint: Endpoint) -> str:
    return NAMES.get(endpoint.key) or default_name(endpoint)


# --- parents ---------------------------------------------------------------------------------


def _snake_path(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: "{" + snake(m.group(1)) + "}", path)


def dependent_links(endpoints: list[Endpoint]) -> dict[tuple[str, str], tuple[str, dict]]:
    """(api, child path in snake_case params) → (parent list path, {snake param: parent field}),
    from the spec's `x-twilio.dependentProperties` of each list."""
    links: dict[tuple[str, str], tuple[str, dict]] = {}
    for endpoint in endpoints:
        dependents = endpoint.path_item.get("x-twilio", {}).get("dependentProperties", {})
        for dependent in dependents.values():
            url = dependent.get("resource_url")
            if url:
                links.setdefault((endpoint.api, url), (endpoint.path, dependent["mapping"]))
    return links


def _stem(path: str) -> str:
    return path.removesuffix(".json")


def parent_endpoint(endpoint: Endpoint, by_key: dict[tuple[str, str], Endpoint]) -> Endpoint:
    """The list whose records fill the first `{Param}` the child does not share with it."""
    candidates = [
        other
        for (api, _), other in by_key.items()
        if api == endpoint.api
        and other is not endpoint
        and _stem(endpoint.path).startswith(_stem(other.path) + "/{")
    ]
    if not candidates:
        raise LookupError(endpoint.params[0])
    return max(candidates, key=lambda other: len(other.path))


# --- date filters --------------------------------------------------------------------------


def _filter_format(endpoint: Endpoint, parameter: str) -> str:
    if endpoint.api == V2010:
        # The spec types some as date-time, but every 2010 description says `YYYY-MM-DD`.
        return "date"
    fmt = endpoint.query[parameter].get("schema", {}).get("format")
    return "date" if fmt == "date" else "date-time"


def date_filter_candidates(endpoint: Endpoint, name: str) -> list[tuple[dict, str | None]]:
    """([date_filter, the record field its name says]) for each filter the list offers."""
    query = endpoint.query
    found: list[tuple[dict, str | None]] = []
    if endpoint.api == V2010:
        if "StartDate" in query and "EndDate" in query:  # usage records
            found.append(
                ({"lower": "StartDate", "upper": "EndDate", "format": "date"}, "start_date")
            )
        for parameter in query:
            if parameter.endswith(">") and parameter[:-1] + "<" in query:
                base = parameter[:-1]
                if name in V2010_FILTERS and V2010_FILTERS[name] != base:
                    continue
                found.append(
                    ({"lower": parameter, "upper": base + "<", "format": "date"}, snake(base))
                )
        return found
    for lower, upper, field in DATE_FILTER_PAIRS:
        if lower in query and upper in query:
            date_filter: dict[str, Any] = {
                "lower": lower,
                "upper": upper,
                "format": _filter_format(endpoint, lower),
            }
            if date_filter["format"] == "date-time":
                date_filter["lower_exclusive"] = excludes_its_instant(query[lower])
                date_filter["upper_exclusive"] = excludes_its_instant(query[upper])
            found.append((date_filter, field))
    return found


# "after this date-time" / "before this date-time" leave the instant itself out; "on or
# after", "at or after", ">=", "and later" keep it.
INCLUDES_INSTANT = re.compile(r"\b(?:on|at) or (?:after|before)\b|[<>]=|\band (?:later|earlier)\b",
                              re.IGNORECASE)
EXCLUDES_INSTANT = re.compile(r"\b(?:after|before)\b|\(exclusive\)", re.IGNORECASE)


def excludes_its_instant(parameter: dict[str, Any]) -> bool:
    """Whether a date-time bound's text says records at exactly that instant are left out."""
    text = parameter.get("description", "")
    return not INCLUDES_INSTANT.search(text) and bool(EXCLUDES_INSTANT.search(text))


def date_filter_and_key(
    endpoint: Endpoint, name: str, properties: dict[str, Any]
) -> tuple[dict | None, str | None]:
    candidates = date_filter_candidates(endpoint, name)
    if not candidates:
        if name in REPLICATION_KEYS:
            raise SpecError(f"REPLICATION_KEYS: {name} has no date filter")
        return None, None
    if len(candidates) > 1:
        raise SpecError(f"{name}: several date filters {candidates}; choose one")
    date_filter, field = candidates[0]
    if name in FULL_TABLE:
        return date_filter, None
    if name not in REPLICATION_KEYS and field not in properties:
        # The filter's name says a field the records do not have (port-in requests'
        # CreatedAfter): which field it applies to is not clear, so full table.
        return date_filter, None
    key = REPLICATION_KEYS.get(name, field)
    assert key is not None
    schema = properties.get(key) or {}
    if key not in properties or not _is_date(schema, endpoint.spec):
        raise SpecError(f"{name}: replication key {key!r} is not a date field of its records")
    return date_filter, key


def _is_date(prop: dict[str, Any], spec: dict[str, Any]) -> bool:
    if "$ref" in prop:
        prop = spec["components"]["schemas"][generate_schemas.ref_name(prop["$ref"])]
    return prop.get("format") in ("date", "date-time", "date-time-rfc-2822")


# --- schemas ---------------------------------------------------------------------------------

_ANY_JSON = {"type": ["object", "array", "string", "boolean", "null"], "additionalProperties": True}
_EXAMPLE_TYPES = (
    (dict, {"type": ["object", "null"], "additionalProperties": True}),
    (list, {"type": ["array", "null"]}),
    (bool, {"type": ["boolean", "null"]}),
    (str, {"type": ["string", "null"]}),
    (int, {"type": ["integer", "null"]}),
    (float, {"type": ["number", "null"]}),
)


def untyped_field_types(endpoint: Endpoint) -> dict[str, dict[str, Any]]:
    """Types for the fields the spec leaves untyped, from the spec's example records: the JSON
    type every example value has. Without examples, an object: where the examples show one, an
    untyped field holds an object in nearly every case (Twilio's specs type no JSON object).
    Where examples disagree, any JSON value but a number (the tap would convert numbers)."""
    types: dict[str, dict[str, Any]] = {}
    examples = endpoint.example_records()
    for field, prop in endpoint.item_properties().items():
        if "type" in prop or "$ref" in prop:
            continue
        values = [r[field] for r in examples if r.get(field) is not None]
        # No values: every kind fits, and the first (object) is taken.
        kinds = [
            schema
            for python_type, schema in _EXAMPLE_TYPES
            if all(type(v) is python_type for v in values)
        ]
        types[field] = dict(kinds[0] if kinds else _ANY_JSON)
    return types


def path_field_description(param: str) -> str:
    words = snake(param).replace("_", " ").replace(" sid", " SID")
    return f"The {words} of the list the record was read from (added by the tap)."


def account_key(row: dict[str, Any]) -> tuple[str, ...]:
    """`account_sid`, when the tap reads the list per account and neither the path nor (then
    the schema) names it: every record says whose it is."""
    if row["per_account"] and "account_sid" not in row["path_fields"].values():
        return ("account_sid",)
    return ()


def build_new_schema(row: dict[str, Any], endpoint: Endpoint, specs: dict[str, Any]) -> dict:
    stream = StreamSpec(
        spec=endpoint.api,
        path=endpoint.path,
        list_key=endpoint.list_key,
        item_schema=endpoint.item_schema_name(),
        context_keys=tuple(row["path_fields"].values()) + account_key(row),
    )
    added = {field: path_field_description(p) for p, field in row["path_fields"].items()}
    if account_key(row):
        added["account_sid"] = ("The SID of the account the record was read for (added by "
                                "the tap).")
    removed = frozenset(f for (n, f) in REMOVED_FIELDS if n == row["name"])
    if removed - set(endpoint.item_properties()):
        raise SpecError(f"REMOVED_FIELDS: {row['name']} records have no {sorted(removed)}")
    return generate_schemas.build_schema(
        row["name"],
        stream,
        specs,
        field_types=untyped_field_types(endpoint),
        added_descriptions=added,
        removed=removed,
    )


# --- the table -------------------------------------------------------------------------------


@dataclass
class Outcome:
    rows: list[dict[str, Any]]
    excluded: list[tuple[Endpoint, str]]
    schemas: dict[str, dict[str, Any]]  # file name → schema, for the streams beyond the 19


def exclusion_reason(endpoint: Endpoint) -> str | None:
    if endpoint.api in EXCLUDED_APIS:
        return EXCLUDED_APIS[endpoint.api]
    if endpoint.key in EXCLUDED_PATHS:
        return EXCLUDED_PATHS[endpoint.key]
    if endpoint.list_key is None and endpoint.key not in SINGLE_OBJECT_STREAMS:
        return "answers one object, not a page of records"
    if any(
        p.get("in") == "header" and p["name"] == "Authorization"
        for p in endpoint.operation.get("parameters", [])
    ):
        return (
            "needs a user token of its own in the `Authorization` header (Flex Insights), "
            "not the account's credentials"
        )
    if not endpoint.item_properties():
        return "its records have no one schema in the spec (`oneOf` of several)"
    required = [n for n, p in endpoint.query.items() if p.get("required")]
    if required:
        names = ", ".join(f"`{n}`" for n in required)
        return f"needs the query parameter {names}, a value only the user can choose"
    return None


def resolve_parent(
    endpoint: Endpoint,
    name: str,
    rows: dict[tuple[str, str], dict[str, Any]],
    by_key: dict[tuple[str, str], Endpoint],
    links: dict[tuple[str, str], tuple[str, dict]],
) -> tuple[dict[str, Any] | None, dict[str, str]] | str:
    """(parent row, parent_keys), or the reason the endpoint cannot be read."""
    if not endpoint.params:
        return None, {}
    if name in PARENTS:
        parent_name, keys = PARENTS[name]
        parents = [r for r in rows.values() if r["name"] == parent_name]
        return parents[0], dict(keys)
    link = links.get((endpoint.api, _snake_path(endpoint.path)))
    if link is not None:
        parent_path, mapping = link
        parent_row = rows.get((endpoint.api, parent_path))
        if parent_row is None:
            return f"its parent list `{parent_path}` is left out"
        keys = {p: mapping[snake(p)] for p in endpoint.params if snake(p) in mapping}
        if len(keys) == len(endpoint.params):
            return parent_row, keys
    try:
        parent = parent_endpoint(endpoint, by_key)
    except LookupError as exc:
        return f"needs `{{{exc}}}`, which no list's records give: a value only the user can choose"
    parent_row = rows.get(parent.key)
    if parent_row is None:
        return f"its parent list `{parent.path}` is left out"
    keys = {}
    for param in endpoint.params:
        if param in parent_row["path_fields"]:
            keys[param] = parent_row["path_fields"][param]
        else:
            keys[param] = _identifying_field(param, parent)
    return parent_row, keys


def _identifying_field(param: str, parent: Endpoint) -> str:
    """The parent record's field a `{Param}` right after the parent's path takes."""
    properties = parent.item_properties()
    if param.endswith("Sid") and "sid" in properties:
        return "sid"
    if snake(param) in properties:
        return snake(param)
    raise SpecError(f"{parent.path}: which field fills {{{param}}}? add the child to PARENTS")


def make_row(
    endpoint: Endpoint, name: str, parent: dict[str, Any] | None, parent_keys: dict[str, str]
) -> dict[str, Any]:
    properties = endpoint.item_properties()
    path_fields = {p: PATH_FIELDS.get((name, p), snake(p)) for p in endpoint.params}
    record_fields = set(properties) | set(path_fields.values())
    if "sid" in properties and name not in PRIMARY_KEYS:
        primary_keys: tuple[str, ...] = ("sid",)
    elif name in PRIMARY_KEYS:
        primary_keys = PRIMARY_KEYS[name]
    else:
        raise SpecError(f"{name}: records have no sid; add its identifying fields to PRIMARY_KEYS")
    missing = [k for k in primary_keys if k not in record_fields]
    if missing:
        raise SpecError(f"PRIMARY_KEYS: {name} records have no {missing}")
    date_filter, replication_key = date_filter_and_key(endpoint, name, properties)
    return {
        "name": name,
        "api": endpoint.api,
        "host": endpoint.host,
        "path": endpoint.path,
        "family": "v2010" if endpoint.api == V2010 else "meta",
        "list_key": endpoint.list_key,
        "primary_keys": list(primary_keys),
        "parent": parent["name"] if parent else None,
        "parent_keys": parent_keys,
        "path_fields": path_fields,
        "per_account": name != "accounts",
        "date_filter": date_filter,
        "replication_key": replication_key,
        "selected_by_default": name in SELECTED_BY_DEFAULT,
        "narrowing": read_everything(endpoint, name, date_filter, replication_key),
        "schema": f"{name}.json",
    }


def read_everything(
    endpoint: Endpoint, name: str, date_filter: dict | None, replication_key: str | None
) -> list[dict[str, Any]]:
    """How to ask for every record of a list whose parameters' documented defaults hide
    some (a status shown unless another is asked for, the last minutes, deleted records)."""
    asks: list[dict[str, Any]] = []
    for parameter in endpoint.query.values():
        rule = narrowing_defaults.documented_rule(endpoint.api, endpoint.path, parameter,
                                                  endpoint.spec)
        if rule is None:
            continue
        ask: dict[str, Any] = {"parameter": rule["parameter"]}
        if rule["kind"] in ("status", "parent_status"):
            ask |= {"ask": "each", "values": rule["values"]}
        elif rule["kind"] == "soft_deleted":
            ask |= {"ask": "value", "value": rule["value"]}
        elif date_filter and replication_key:  # a window: every read sends its own bounds
            ask |= {"ask": "bounds", "by": date_filter["lower"]}
        else:
            raise SpecError(f"{name}: {rule['parameter']} defaults to a window ({rule['text']}) "
                            "and the list has no date filter the tap sends")
        asks.append(ask)
    return asks


def check_list_key(endpoint: Endpoint, name: str) -> None:
    """A meta page names its list key in `meta.key`: the spec's examples must agree."""
    for page in endpoint.example_pages():
        key = (page.get("meta") or {}).get("key")
        if key is not None and key != endpoint.list_key:
            raise SpecError(f"{name}: list key {endpoint.list_key!r}, example meta.key {key!r}")


def build_table(spec_dir: Path) -> Outcome:
    specs = load_all_specs(spec_dir)
    endpoints = list_endpoints(specs)
    by_key = {e.key: e for e in endpoints}
    links = dependent_links(endpoints)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    excluded: list[tuple[Endpoint, str]] = []
    for endpoint in endpoints:
        reason = exclusion_reason(endpoint)
        name = stream_name(endpoint)
        resolved = None if reason else resolve_parent(endpoint, name, rows, by_key, links)
        if isinstance(resolved, str):
            reason = resolved
        if reason:
            excluded.append((endpoint, reason))
            continue
        assert resolved is not None
        parent, parent_keys = resolved
        check_list_key(endpoint, name)
        rows[endpoint.key] = make_row(endpoint, name, parent, parent_keys)
    _check_tables(rows, by_key)
    table = sorted(rows.values(), key=lambda r: r["name"])
    schemas = {
        row["schema"]: build_new_schema(row, by_key[(row["api"], row["path"])], specs)
        for row in table
        if row["name"] not in generate_schemas.STREAMS
    }
    return Outcome(table, excluded, schemas)


def _check_tables(
    rows: dict[tuple[str, str], dict[str, Any]], by_key: dict[tuple[str, str], Endpoint]
) -> None:
    """Every entry of the hand-kept tables names something real (keeps them honest)."""
    names = [r["name"] for r in rows.values()]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpecError(f"stream names used twice: {duplicates}; add NAMES entries")
    for key in (*NAMES, *EXCLUDED_PATHS, *SINGLE_OBJECT_STREAMS):
        if key not in by_key:
            raise SpecError(f"no list endpoint {key} in the specs")
    known = set(names)
    for table_name, table in (
        ("PRIMARY_KEYS", PRIMARY_KEYS),
        ("REPLICATION_KEYS", REPLICATION_KEYS),
        ("FULL_TABLE", FULL_TABLE),
        ("V2010_FILTERS", V2010_FILTERS),
        ("PARENTS", PARENTS),
        ("SELECTED_BY_DEFAULT", SELECTED_BY_DEFAULT),
        ("PATH_FIELDS", {k[0] for k in PATH_FIELDS}),
        ("REMOVED_FIELDS", {k[0] for k in REMOVED_FIELDS}),
    ):
        unknown = sorted(set(table) - known)
        if unknown:
            raise SpecError(f"{table_name} names streams that are not in the table: {unknown}")


# --- rendering -------------------------------------------------------------------------------


def render_table(rows: list[dict[str, Any]]) -> str:
    document = {
        "generated_by": "scripts/generate_streams.py from Twilio's OpenAPI specs (twilio-oai)",
        "streams": rows,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _endpoint_text(row_or_endpoint: dict[str, Any] | Endpoint) -> str:
    if isinstance(row_or_endpoint, Endpoint):
        return f"{row_or_endpoint.host}{row_or_endpoint.path}"
    return f"{row_or_endpoint['host']}{row_or_endpoint['path']}"


def render_streams_doc(rows: list[dict[str, Any]]) -> str:
    """The streams table in README's form (between the same markers), then the default ones."""
    hosts = sorted({r["host"] for r in rows})
    lines = [
        "# Streams",
        "",
        f"{len(rows)} streams over {len(hosts)} Twilio hosts, generated by",
        "`scripts/generate_streams.py` from Twilio's OpenAPI specs (do not edit by hand). The",
        "lists left out, and why, are in [streams-excluded.md](streams-excluded.md).",
        "",
        "<!-- streams:start -->",
        "| Stream | Endpoint | Primary key | Replication | Parent |",
        "|:--|:--|:--|:--|:--|",
    ]
    for row in rows:
        keys = ", ".join(f"`{k}`" for k in row["primary_keys"])
        replication = (
            f"incremental on `{row['replication_key']}`" if row["replication_key"] else "full table"
        )
        lines.append(
            f"| `{row['name']}` | `{_endpoint_text(row)}` | {keys} | {replication} "
            f"| {row['parent'] or ''} |"
        )
    lines += [
        "<!-- streams:end -->",
        "",
        "## Read by a plain run",
        "",
        "Without a catalog, these streams are read; select others with a catalog (or",
        "Meltano's `select`):",
        "",
    ]
    lines += [f"- `{row['name']}`" for row in rows if row["selected_by_default"]]
    return "\n".join(lines) + "\n"


def render_excluded_doc(excluded: list[tuple[Endpoint, str]]) -> str:
    lines = [
        "# List endpoints left out",
        "",
        f"{len(excluded)} list endpoints of Twilio's OpenAPI specs are not streams; generated by",
        "`scripts/generate_streams.py` (do not edit by hand). The kept ones are in",
        "[streams.md](streams.md).",
        "",
        "| API | Endpoint | Why |",
        "|:--|:--|:--|",
    ]
    for endpoint, reason in sorted(excluded, key=lambda e: (e[0].api, e[0].path)):
        lines.append(f"| {endpoint.api} | `{_endpoint_text(endpoint)}` | {reason} |")
    return "\n".join(lines) + "\n"


def render_all(spec_dir: Path) -> dict[Path, str]:
    """Repository-relative path → content of every generated file."""
    outcome = build_table(spec_dir)
    files = {
        TABLE_FILE: render_table(outcome.rows),
        STREAMS_DOC: render_streams_doc(outcome.rows),
        EXCLUDED_DOC: render_excluded_doc(outcome.excluded),
        # The emulator's narrowing defaults: read from Twilio's documents, not from the table.
        narrowing_defaults.EMULATOR_FILE: narrowing_defaults.render(spec_dir),
    }
    for filename, schema in outcome.schemas.items():
        files[SCHEMA_DIR / filename] = generate_schemas.render(schema)
    return files


def problems(files: dict[Path, str], root: Path) -> Iterator[str]:
    """What differs between the generated files and those under `root`."""
    for relative, content in files.items():
        path = root / relative
        if not path.is_file():
            yield f"{path}: missing"
        elif path.read_text(encoding="utf-8") != content:
            yield f"{path}: differs from what the generator makes"
    owned = {p.name for p in files if p.parent == SCHEMA_DIR}
    owned |= {f"{name}.json" for name in generate_schemas.STREAMS}
    schema_dir = root / SCHEMA_DIR
    if schema_dir.is_dir():
        for stale in sorted(p.name for p in schema_dir.glob("*.json") if p.name not in owned):
            yield f"{schema_dir / stale}: no stream of the table has this schema (stale?)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "spec_dir",
        type=Path,
        nargs="?",
        default=DEFAULT_SPEC_DIR,
        help="folder with Twilio's twilio_*.json specs (default: %(default)s)",
    )
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository to write into")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a committed file differs from what would be generated",
    )
    args = parser.parse_args(argv)
    try:
        files = render_all(args.spec_dir)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    root: Path = args.root
    if args.check:
        found = list(problems(files, root))
        for problem in found:
            print(problem, file=sys.stderr)
        if found:
            print("run: python scripts/generate_streams.py [twilio-oai dir]", file=sys.stderr)
            return 1
        print(f"{len(files)} generated files up to date in {root}")
        return 0
    for relative, content in files.items():
        path = root / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8", newline="\n")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
