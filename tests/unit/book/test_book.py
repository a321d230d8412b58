from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connex.book import L2Book, is_zero


def test_apply_insert_update_delete_and_order() -> None:
    b = L2Book()
    b.load([("100.5", "1"), ("100.25", "2"), ("99", "3")], [("101", "1"), ("100.75", "4")])
    assert b.bids() == [("100.5", "1"), ("100.25", "2"), ("99", "3")]
    assert b.asks() == [("100.75", "4"), ("101", "1")]
    assert b.best_bid() == (Decimal("100.5"), Decimal("1"))
    assert b.best_ask() == (Decimal("100.75"), Decimal("4"))
    b.apply([("100.25", "0.00000000"), ("100.6", "5")], [("100.75", "0"), ("102", "7")])
    assert b.bids(2) == [("100.6", "5"), ("100.5", "1")]
    assert b.asks() == [("101", "1"), ("102", "7")]
    # removing an unknown level is normal
    b.apply([("1", "0")], [])
    assert b.bid_count == 3


def test_price_strings_kept_as_received_and_rescaling() -> None:
    b = L2Book()
    b.load([("10.10", "1")], [("10.2", "1")])
    b.apply([("10.105", "2")], [])  # more decimals: book rescales exactly
    assert b.bids() == [("10.105", "2"), ("10.10", "1")]
    assert b.best_ask() == (Decimal("10.2"), Decimal("1"))
    assert b.scale == 3


def test_crossed_detection_and_depth_cap() -> None:
    b = L2Book(depth_cap=2)
    b.load([("3", "1"), ("2", "1"), ("1", "1")], [("4", "1"), ("5", "1"), ("6", "1")])
    assert b.bids() == [("3", "1"), ("2", "1")] and b.asks() == [("4", "1"), ("5", "1")]
    assert not b.is_crossed()
    b.apply([("4", "1")], [])
    assert b.is_crossed()


@pytest.mark.parametrize(
    ("s", "zero"),
    [
        ("0", True),
        ("0.000", True),
        ("0E-8", True),
        ("0.001", False),
        ("10", False),
        ("1e-8", False),
    ],
)
def test_is_zero(s: str, zero: bool) -> None:
    assert is_zero(s) is zero


prices = st.integers(min_value=1, max_value=5000).map(lambda i: f"{i / 100:.2f}")
sizes = st.one_of(st.just("0"), st.integers(min_value=1, max_value=999).map(lambda i: f"{i}.5"))
levels = st.lists(st.tuples(prices, sizes), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(levels, levels), min_size=1, max_size=20))
def test_book_matches_a_reference_dict(
    updates: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]],
) -> None:
    book = L2Book()
    ref_b: dict[Decimal, Decimal] = {}
    ref_a: dict[Decimal, Decimal] = {}
    for bids, asks in updates:
        book.apply(bids, asks)
        for ref, side in ((ref_b, bids), (ref_a, asks)):
            for p, q in side:
                if Decimal(q) == 0:
                    ref.pop(Decimal(p), None)
                else:
                    ref[Decimal(p)] = Decimal(q)
    assert dict(book.bids_decimal()) == ref_b
    assert dict(book.asks_decimal()) == ref_a
    assert [p for p, _ in book.bids_decimal()] == sorted(ref_b, reverse=True)
    assert [p for p, _ in book.asks_decimal()] == sorted(ref_a)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(levels, levels), min_size=1, max_size=20))
def test_compiled_and_python_kernels_agree(
    updates: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]],
) -> None:
    from connex.book import book as book_mod

    fast, slow = L2Book(), L2Book()
    for bids, asks in updates:
        fast.apply(bids, asks)
        slow._apply_py(bids, asks)
    assert fast.bids() == slow.bids() and fast.asks() == slow.asks()
    assert fast.scale == slow.scale
    # the build installs the compiled kernel; say so if it is missing
    assert book_mod.COMPILED, "connex.book._fastbook was not built: run `make install`"


def test_rescale_keeps_container_identity() -> None:
    b = L2Book()
    b.load([("10.1", "1")], [("10.2", "1")])
    bids, keys, memo = b._bids, b._bk, b._memo
    b.apply([("10.15", "2")], [])
    assert b._bids is bids and b._bk is keys and b._memo is memo
    assert b.bids() == [("10.15", "2"), ("10.1", "1")]
