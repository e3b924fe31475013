"""A Twilio REST API emulator for tap-twilio's tests, demo and benchmark.

from tests.emulator import Emulator
with Emulator(seed=7, subaccounts=2, sizes={"messages": 2500}) as emu:
    emu.url, emu.config(), emu.truth("messages", emu.account_sid)
    emu.platform_truth("studio.twilio.com/v2/Flows", emu.account_sid)  # GET {emu.url}/studio...
"""

from .emulator import Emulator
from .faults import FAULT_KINDS

__all__ = ["FAULT_KINDS", "Emulator"]
