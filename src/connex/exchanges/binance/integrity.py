"""Binance book integrity rules.

- Spot: ``U``/``u`` are contiguous: each event starts at the previous ``u + 1``; on a
  REST snapshot with ``lastUpdateId = S`` the first applied event has ``U <= S+1 <= u``.
- USD-M: every event's ``pu`` must equal the previous event's ``u`` (``U`` need not be
  ``u + 1``); the first event on a snapshot has ``U <= S <= u``.

Binance sends no checksum. Source: ../shared/protocols/binance.md §2.
"""

from __future__ import annotations

from connex.book import ContiguousRule, PrevLinkRule, SequenceRule

__all__ = ["sequence_rule"]

_SPOT = ContiguousRule()
_UM = PrevLinkRule(window_align=True)


def sequence_rule(market: str) -> SequenceRule:
    return _SPOT if market == "spot" else _UM
