"""Faults the simulator injects on command.

A fault is queued with ``FaultPlan.add`` and consumed by the venue at the next
matching opportunity (the next book message for the symbol, the next REST call...).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Fault", "FaultPlan", "PendingFault"]


class Fault(enum.StrEnum):
    DROP = "drop"  # skip one book message (truth still advances)
    DUPLICATE = "duplicate"  # send one book message twice
    REORDER = "reorder"  # swap one book message with the next one
    MALFORMED = "malformed"  # send a frame that is not valid JSON / protobuf
    STALL = "stall"  # stop sending anything for ``seconds`` (connection stays open)
    DISCONNECT = "disconnect"  # close every websocket connection
    HTTP_429 = "http_429"  # answer the next ``count`` REST calls with 429 + Retry-After
    BAD_CHECKSUM = "bad_checksum"  # corrupt the checksum of one book message
    RESNAPSHOT = "resnapshot"  # push an unsolicited fresh snapshot (Bybit)
    SEQ_GAP = "seq_gap"  # skip one sequence number without dropping data


@dataclass
class PendingFault:
    fault: Fault
    symbol: str | None = None
    count: int = 1
    seconds: float = 0.0


class FaultPlan:
    """Queue of pending faults for one venue."""

    def __init__(self) -> None:
        self._pending: list[PendingFault] = []
        self.injected: dict[str, int] = {}

    def add(
        self, fault: Fault, symbol: str | None = None, *, count: int = 1, seconds: float = 0.0
    ) -> None:
        self._pending.append(PendingFault(Fault(fault), symbol, count, seconds))

    def take(self, fault: Fault, symbol: str | None = None) -> PendingFault | None:
        """Consume one pending ``fault`` that matches ``symbol`` (or any symbol)."""
        for i, p in enumerate(self._pending):
            if p.fault is fault and (p.symbol is None or symbol is None or p.symbol == symbol):
                p.count -= 1
                if p.count <= 0:
                    del self._pending[i]
                self.injected[fault.value] = self.injected.get(fault.value, 0) + 1
                return p
        return None

    def has(self, fault: Fault) -> bool:
        return any(p.fault is fault for p in self._pending)

    def __len__(self) -> int:
        return len(self._pending)
