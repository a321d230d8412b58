"""MEXC spot book integrity rule.

Aggregated depth pushes (``spot@public.aggre.depth.v3.api.pb@100ms@SYM``) carry
``fromVersion``/``toVersion`` (decimal strings, int64). They are contiguous: each push
starts at the previous ``toVersion + 1``. On a REST snapshot with ``lastUpdateId = S``:
pushes with ``toVersion <= S`` are stale and dropped; the first applied one must have
``fromVersion <= S + 1`` (otherwise the snapshot is too old for the stream and is
fetched again). Afterwards any push whose ``fromVersion`` is not ``last toVersion + 1``
is a gap and the book is rebuilt. That is exactly ``ContiguousRule`` (``first_seq`` =
``fromVersion``, ``sequence`` = ``toVersion``). MEXC sends no checksum.

Futures ``push.depth`` (subscribed unmerged) carries one ``version`` per push, and the
next push must carry ``version + 1``; the REST snapshot's ``data.version`` plays the part
of ``lastUpdateId``. Merged pushes (``begin``..``end``, inferred from ccxt fixtures) fit
the same rule with ``first_seq = begin``. Source: ../shared/protocols/mexc.md §3, §5.
"""

from __future__ import annotations

from connex.book import ContiguousRule, SequenceRule

__all__ = ["sequence_rule"]

_SPOT = ContiguousRule()


def sequence_rule(market: str = "spot") -> SequenceRule:
    """The rule linking MEXC ``market`` book updates (the same for spot and futures)."""
    return _SPOT
