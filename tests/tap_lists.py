"""The tap's streams as the emulator names their lists: host and path.

The emulator knows Twilio's lists from the specs, not the tap's stream names; tests name a
stream's list through its row of the tap's table. A row with a wrong host or path names no list
of the emulator, and the test asking for it fails.
"""

from __future__ import annotations

from tap_twilio.streams import TABLE

LIST_OF = {row["name"]: f"{row['host']}{row['path']}" for row in TABLE}


def list_sizes(sizes: dict[str, int]) -> dict[str, int]:
    """Records per list, by stream name -> by the emulator's list name."""
    return {LIST_OF[name]: n for name, n in sizes.items()}
