# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled reader of the one hot MEXC push: ``PushDataV3ApiWrapper`` carrying
``publicAggreDepths`` (field 313). Optional: ``public.py`` uses the official protobuf
runtime (upb) when this module is not built, and for every other push.

It reads the protobuf wire format of exactly the fields of our ``proto/mexc_push.proto``
(same field numbers; unknown fields skipped, a repeated scalar keeps the last value, as
the official runtime does) and returns plain Python values without creating one message
object per book level. Tests check it against the official runtime.
"""

from cpython.unicode cimport PyUnicode_DecodeUTF8


cdef inline unsigned long long _varint(const unsigned char* p, Py_ssize_t n, Py_ssize_t* i) except? 0:
    cdef unsigned long long v = 0
    cdef int shift = 0
    cdef unsigned char b
    while True:
        if i[0] >= n or shift > 63:
            raise ValueError("truncated varint")
        b = p[i[0]]
        i[0] += 1
        v |= (<unsigned long long>(b & 0x7F)) << shift
        if b < 0x80:
            return v
        shift += 7


cdef inline Py_ssize_t _skip(const unsigned char* p, Py_ssize_t n, Py_ssize_t i, int wt) except -1:
    cdef Py_ssize_t ln
    if wt == 0:
        _varint(p, n, &i)
    elif wt == 1:
        i += 8
    elif wt == 2:
        ln = <Py_ssize_t>_varint(p, n, &i)
        i += ln
    elif wt == 5:
        i += 4
    else:
        raise ValueError(f"unsupported wire type {wt}")
    if i > n:
        raise ValueError("truncated field")
    return i


cdef inline str _text(const unsigned char* p, Py_ssize_t start, Py_ssize_t ln):
    return PyUnicode_DecodeUTF8(<const char*>(p + start), ln, NULL)


cdef tuple _item(const unsigned char* p, Py_ssize_t start, Py_ssize_t end):
    cdef Py_ssize_t i = start
    cdef unsigned long long tag
    cdef Py_ssize_t ln
    cdef str price = ""
    cdef str qty = ""
    while i < end:
        tag = _varint(p, end, &i)
        if (tag & 7) == 2 and (tag >> 3) in (1, 2):
            ln = <Py_ssize_t>_varint(p, end, &i)
            if i + ln > end:
                raise ValueError("truncated level")
            if (tag >> 3) == 1:
                price = _text(p, i, ln)
            else:
                qty = _text(p, i, ln)
            i += ln
        else:
            i = _skip(p, end, i, tag & 7)
    return (price, qty)


def decode_aggre_depth(bytes data):
    """``(channel, symbol, send_time, asks, bids, from_version, to_version)`` of a depth
    push, or ``None`` when the wrapper carries another body. Raises ``ValueError`` on
    malformed wire data."""
    cdef const unsigned char* p = <const unsigned char*>data
    cdef Py_ssize_t n = len(data)
    cdef Py_ssize_t i = 0, ln, j, end
    cdef unsigned long long tag, field
    cdef long long send_time = 0
    cdef str channel = "", symbol = "", frm = "", to = ""
    cdef list asks = [], bids = []
    cdef bint depth = False
    while i < n:
        tag = _varint(p, n, &i)
        field = tag >> 3
        if (tag & 7) == 2:
            ln = <Py_ssize_t>_varint(p, n, &i)
            if i + ln > n:
                raise ValueError("truncated field")
            if field == 1:
                channel = _text(p, i, ln)
            elif field == 3:
                symbol = _text(p, i, ln)
            elif field == 313:
                depth = True
                asks = []
                bids = []
                j = i
                end = i + ln
                while j < end:
                    tag = _varint(p, end, &j)
                    if (tag & 7) == 2:
                        ln2 = <Py_ssize_t>_varint(p, end, &j)
                        if j + ln2 > end:
                            raise ValueError("truncated depth field")
                        f2 = tag >> 3
                        if f2 == 1:
                            asks.append(_item(p, j, j + ln2))
                        elif f2 == 2:
                            bids.append(_item(p, j, j + ln2))
                        elif f2 == 4:
                            frm = _text(p, j, ln2)
                        elif f2 == 5:
                            to = _text(p, j, ln2)
                        j += ln2
                    else:
                        j = _skip(p, end, j, tag & 7)
            elif 301 <= field <= 315:
                return None  # another body of the oneof: the official runtime handles it
            i += ln
        elif (tag & 7) == 0 and field == 6:
            send_time = <long long>_varint(p, n, &i)
        else:
            i = _skip(p, n, i, tag & 7)
    if not depth:
        return None
    return channel, symbol, send_time, tuple(asks), tuple(bids), frm, to
