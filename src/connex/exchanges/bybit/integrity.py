"""Bybit v5 book integrity rules.

What the protocol gives (../shared/protocols/bybit.md §2): each ``orderbook.{depth}``
message carries ``u`` (update id of that depth stream) and ``seq`` (cross sequence). The
first message after subscribing is a ``snapshot``; any later ``snapshot`` (including
``u == 1`` after a service restart) replaces the book — the book sync does that for every
``BookSnapshot``. There is no checksum.

Gap detection is **our inference, unverified**: the ``orderbook.N`` page does not state
that ``u`` grows by exactly one per delta (the newer ``orderbook.full`` page does). The
default rule ``"contiguous"`` requires ``u == last + 1`` (``u <= last`` is stale and
ignored; anything else is a gap -> resubscribe for a fresh snapshot). If live traffic
shows non-contiguous ``u``, switch ``GAP_RULE`` (or the session's ``gap_rule``) to
``"monotonic"``: only stale updates are rejected and gaps go undetected.
"""

from __future__ import annotations

from connex.book import ContiguousRule, MonotonicRule, SequenceRule

__all__ = ["GAP_RULE", "RULES", "sequence_rule"]

#: Default gap rule for ``orderbook.N`` (see module docstring: unverified).
GAP_RULE = "contiguous"

RULES: dict[str, SequenceRule] = {
    # BookDelta.first_seq == sequence == u, so ContiguousRule means ``u == last + 1``.
    "contiguous": ContiguousRule(),
    "monotonic": MonotonicRule(),
}


def sequence_rule(name: str = GAP_RULE) -> SequenceRule:
    try:
        return RULES[name]
    except KeyError:
        raise ValueError(
            f"bybit: unknown gap rule {name!r}; choose one of {sorted(RULES)}"
        ) from None
