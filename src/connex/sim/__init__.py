"""Protocol-faithful exchange simulator on 127.0.0.1.

It may use ``connex.model`` and ``connex.book`` but never imports ``connex.exchanges``:
its encoders are written independently, so one misreading of a protocol cannot pass on
both sides (enforced by tests/unit/test_independence.py).
"""

from .faults import Fault, FaultPlan
from .market import FairValue, MarketModel, MarketStep
from .server import SimServer
from .venue import SimConnection, Venue

__all__ = [
    "FairValue",
    "Fault",
    "FaultPlan",
    "MarketModel",
    "MarketStep",
    "SimConnection",
    "SimServer",
    "Venue",
]
