"""Bybit signing: self-computed vectors Y1-Y3 from ../shared/protocols/bybit.md §6."""

from __future__ import annotations

from connex.exchanges.bybit.auth import Credentials, auth_args, rest_headers, sign

SECRET = "TESTSECRET"


def test_y1_ws_auth() -> None:
    sig = "0275f66dd946f3d1fc4b8958ea3f134c6702284d719ff4acb110e927415cca6e"
    assert sign(SECRET.encode(), "GET/realtime1662350400000") == sig
    assert auth_args(Credentials("XXXXXXXXXX", SECRET), 1662350400000) == [
        "XXXXXXXXXX",
        1662350400000,
        sig,
    ]


def test_y2_get_and_y3_post() -> None:
    creds = Credentials("XXXXXXXXXX", SECRET)
    h = rest_headers(creds, 1658384314791, "category=option&symbol=BTC-29JUL22-25000-C")
    assert h["X-BAPI-SIGN"] == "faf76debd29add8316b0b1cec70b5eb111d9fa21ce62719d1f47011b7c4814ef"
    assert (h["X-BAPI-TIMESTAMP"], h["X-BAPI-RECV-WINDOW"]) == ("1658384314791", "5000")
    h = rest_headers(creds, 1658384314791, '{"category":"linear"}')
    assert h["X-BAPI-SIGN"] == "ad69c775d2fb233e27e606c42b1970a7e813169cf5c2f3a6690df49dc805f926"


def test_secret_never_in_repr() -> None:
    assert SECRET not in repr(Credentials("XXXXXXXXXX", SECRET))
