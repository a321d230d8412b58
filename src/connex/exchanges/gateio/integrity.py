"""Gate book integrity rules (../shared/protocols/gateio.md §2).

``*.order_book_update`` (spot and futures), on a REST snapshot with ``id = S``:

1. buffered updates with ``u < S + 1`` are stale and dropped;
2. the first applied update must satisfy ``U <= S + 1 <= u`` (``U > S + 1``: the
   snapshot is too old, fetch another);
3. afterwards ``u < local + 1`` is stale (skipped), ``U > local + 1`` is a gap (rebuild),
   anything else applies and sets ``local = u``; updates with empty sides still advance.
4. ``full: true`` (irregular since 2025) replaces the whole book at ``u``.

That is exactly ``connex.book.ContiguousRule``. ``*.obu`` uses the same ids without a REST
snapshot: its first push is ``full: true`` and later pushes must start at ``local + 1``;
on a gap the stream is re-subscribed. Gate sends no checksum; the crossed-book check of
``BookSync`` (the official SDK does the same) is the remaining content check.

``LIQUIDATION_SIGN_IS_POSITION`` is the one switch for the inferred side of public
liquidations (see ``parse.liquidation_side``).
"""

from __future__ import annotations

from connex.book import ContiguousRule, SequenceRule

__all__ = ["LIQUIDATION_SIGN_IS_POSITION", "sequence_rule"]

#: ``True``: ``size > 0`` in ``futures.public_liquidates`` is a liquidated LONG (inferred
#: from Gate's position-size sign convention; unverified against live data).
LIQUIDATION_SIGN_IS_POSITION = True

_RULE = ContiguousRule()


def sequence_rule(market: str) -> SequenceRule:
    """The same contiguous ``U``/``u`` rule for spot and futures."""
    return _RULE
