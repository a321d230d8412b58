"""OKX signing: self-computed vectors O3-O5 from ../shared/protocols/okx.md §6."""

# ruff: noqa: E501  (wire frames are kept verbatim on one line)

from __future__ import annotations

from connex.exchanges.okx.auth import Credentials, login_args, rest_headers, sign

SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
TS = "2020-12-08T09:08:57.715Z"


def test_o3_login() -> None:
    assert (
        sign(SECRET.encode(), "1538054050GET/users/self/verify")
        == "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M="
    )
    args = login_args(Credentials("key-1", SECRET, "pass"), "1538054050")
    assert args == {"apiKey": "key-1", "passphrase": "pass", "timestamp": "1538054050",
                    "sign": "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M="}  # fmt: skip


def test_o4_get_and_o5_post() -> None:
    creds = Credentials("key-1", SECRET, "pass")
    h = rest_headers(creds, TS, "get", "/api/v5/account/balance?ccy=BTC")
    assert h["OK-ACCESS-SIGN"] == "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
    assert h["OK-ACCESS-TIMESTAMP"] == TS and h["OK-ACCESS-KEY"] == "key-1"
    body = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1","clOrdId":"abc123"}'
    h = rest_headers(creds, TS, "POST", "/api/v5/trade/order", body)
    assert h["OK-ACCESS-SIGN"] == "/gMq/hYqZwduL4f8TMdte5VhToQtXkZrKBTSKNJS1xw="


def test_secret_never_in_repr() -> None:
    creds = Credentials("abcdefgh", SECRET, "my-passphrase")
    text = repr(creds) + str(creds)
    assert SECRET not in text and "my-passphrase" not in text and "abcd" in text
