"""OKX book integrity: ``seqId``/``prevSeqId`` chain and the (legacy) CRC32 checksum.

Sequence (../shared/protocols/okx.md §2, DOCS "Sequence ID"): the snapshot carries
``prevSeqId = -1``; every update must have ``prevSeqId`` equal to the previous message's
``seqId``. ``seqId == prevSeqId`` (keep-alive update with no levels) and ``seqId <
prevSeqId`` (maintenance reset) are *not* gaps; both still link by ``prevSeqId``, which
is exactly ``PrevLinkRule(window_align=False)``. A gap is repaired by unsubscribing and
subscribing again (OKX pushes a fresh snapshot in the stream).

Recordings from before seqIds existed (e.g. 2022) carry neither field: the parser then
uses ``-1`` for both ids, so every update links (``-1 == -1``) and the checksum alone
guards the book.

Checksum (DOCS 2026-01 §Checksum; the field is now deprecated and sent as ``0``, which
means "not checked"): after applying a message take up to 25 bids and 25 asks, join
``bidPx:bidSz:askPx:askSz`` for level 0, 1, ... (a shorter side just runs out) with
``:``, using the price/size strings exactly as received; CRC32 (IEEE) of those ASCII
bytes as a *signed* 32-bit integer.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from connex.book import L2Book, PrevLinkRule, SequenceRule
from connex.model import Level

__all__ = ["CHECKSUM_DEPTH", "checksum", "checksum_string", "crc32_signed", "sequence_rule"]

#: Levels per side covered by the checksum.
CHECKSUM_DEPTH = 25

_RULE = PrevLinkRule(window_align=False)


def sequence_rule() -> SequenceRule:
    """The rule linking OKX book updates (the same for every instrument type)."""
    return _RULE


def checksum_string(bids: Sequence[Level], asks: Sequence[Level]) -> str:
    """``bid0px:bid0sz:ask0px:ask0sz:bid1px:...`` over the top ``CHECKSUM_DEPTH`` levels."""
    parts: list[str] = []
    nb, na = min(len(bids), CHECKSUM_DEPTH), min(len(asks), CHECKSUM_DEPTH)
    for i in range(max(nb, na)):
        if i < nb:
            parts.append(bids[i][0])
            parts.append(bids[i][1])
        if i < na:
            parts.append(asks[i][0])
            parts.append(asks[i][1])
    return ":".join(parts)


def crc32_signed(text: str) -> int:
    """CRC32 (IEEE) of ``text`` interpreted as a signed 32-bit integer."""
    v = zlib.crc32(text.encode())
    return v - 0x1_0000_0000 if v >= 0x8000_0000 else v


def checksum(book: L2Book) -> int:
    """OKX checksum of a book (uses the level strings as received).

    Hot path (runs after every update): the ``price:size`` pieces come straight from
    the book's sorted keys, are interleaved bid/ask by slice assignment and joined once.
    """
    bp, bs, ap, as_ = book.top_strings(CHECKSUM_DEPTH)
    nb, na = len(bp), len(ap)
    if nb == na:
        parts = bp * 4
        parts[0::4] = bp
        parts[1::4] = bs
        parts[2::4] = ap
        parts[3::4] = as_
    else:
        n = min(nb, na)
        parts = bp[:n] * 4
        parts[0::4] = bp[:n]
        parts[1::4] = bs[:n]
        parts[2::4] = ap[:n]
        parts[3::4] = as_[:n]
        tail_p, tail_s = (bp, bs) if nb > n else (ap, as_)
        tail = tail_p[n:] * 2
        tail[0::2] = tail_p[n:]
        tail[1::2] = tail_s[n:]
        parts += tail
    v = zlib.crc32(":".join(parts).encode())
    return v - 0x1_0000_0000 if v >= 0x8000_0000 else v
