# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernel of ``L2Book.apply`` (optional; ``book.py`` falls back to Python).

Same semantics as the Python loop in ``L2Book.apply``: absolute sizes as exact strings,
a size made only of ``0`` and ``.`` removes the level, prices become integer keys through
the book's memo (``key_fn`` for a price seen for the first time), and each side keeps a
sorted key list whose best level is last (ask keys negated). The containers are the
book's own objects, mutated in place.
"""

from bisect import bisect_left, insort


def apply_side(dict d, list keys, dict px, dict memo, levels, bint negate, key_fn):
    cdef str p
    cdef str q
    cdef Py_UCS4 c
    cdef bint zero
    for lvl in levels:
        p = lvl[0]
        q = lvl[1]
        k = memo.get(p)
        if k is None:
            k = key_fn(p)
        zero = True
        for c in q:
            if c != u'0' and c != u'.':
                zero = False
                break
        if not zero:
            if k not in d:
                insort(keys, -k if negate else k)
                px[k] = p
            d[k] = q
        elif k in d:
            del d[k]
            del keys[bisect_left(keys, -k if negate else k)]
