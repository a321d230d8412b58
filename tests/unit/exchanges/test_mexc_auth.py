"""MEXC spot REST signing against the official vectors (../shared/protocols/mexc.md §7)."""

from __future__ import annotations

from connex.exchanges.mexc.auth import API_KEY_HEADER, Credentials, sign_rest

KEY = "mx0aBYs33eIilxBWC5"
SECRET = "45d0b3c26f2644f19bfb98b07741b2f5"
PARAMS = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "quantity": "1",
    "price": "11",
    "recvWindow": "5000",
    "timestamp": "1644489390087",
}


def test_query_string_vector() -> None:
    creds = Credentials(KEY, SECRET)
    total = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000"
        "&timestamp=1644489390087"
    )
    assert creds.sign(total) == "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
    assert (
        sign_rest(creds, PARAMS)
        == total + "&signature=fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
    )


def test_query_plus_body_vector() -> None:
    creds = Credentials(KEY, SECRET)
    query = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT"}
    body = "quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
    signed = sign_rest(creds, query, body)
    assert signed == (
        "symbol=BTCUSDT&side=BUY&type=LIMIT"
        "&signature=d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"
    )


def test_secret_never_printed() -> None:
    creds = Credentials(KEY, SECRET)
    assert SECRET not in repr(creds) and SECRET not in str(creds)
    assert creds.headers()[API_KEY_HEADER] == KEY
