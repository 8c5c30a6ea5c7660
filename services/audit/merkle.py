"""The ledger's hashing: its canonical bytes, the hash chain, and RFC 6962 (Certificate Transparency)
Merkle trees with inclusion and consistency proofs (docs/audit.md). Standard library only, so that
this file and verify.py can be handed to anyone who wants to check an exported ledger without the
services, in Python or by reading it as the specification of what to rewrite in another language.

RFC 6962 §2.1: the hash of an empty tree is SHA-256(""); of one leaf d, SHA-256(0x00 || d); of a list
of n > 1 leaves, SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])) with k the largest power of two below n.
Proofs are built and checked as RFC 6962 §2.1.1-2.1.2 and RFC 9162 §2.1.3-2.1.4 describe."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Sequence

GENESIS = bytes(32)  # the chain value before the first entry


def canonical(value: Any) -> bytes:
    """The canonical bytes of a JSON value: UTF-8, keys sorted, no insignificant whitespace, non-ASCII
    characters as themselves (not \\u escapes), numbers as Python writes them (integers as digits; the
    few others, such as a ranking's z-scores, in the shortest form that reads back exactly)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def chain(previous: bytes, entry: bytes) -> bytes:
    """The chain value of an entry: SHA-256 of the previous entry's chain value and its canonical bytes."""
    return hashlib.sha256(previous + entry).digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


# The hash of the leaves [start, end): given by whoever holds the tree (a list in memory, stored nodes).
Subtree = Callable[[int, int], bytes]


def in_memory(leaves: Sequence[bytes]) -> Subtree:
    """Subtree hashes of a list of leaf hashes, with perfect subtrees remembered."""
    memo: dict[tuple[int, int], bytes] = {}

    def subtree(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaves[start]
        found = memo.get((start, end))
        if found is None:
            k = split(end - start)
            found = node_hash(subtree(start, start + k), subtree(start + k, end))
            if (end - start) & (end - start - 1) == 0:
                memo[(start, end)] = found
        return found

    return subtree


def root(subtree: Subtree, size: int) -> bytes:
    return hashlib.sha256(b"").digest() if size == 0 else subtree(0, size)


def inclusion_path(subtree: Subtree, index: int, size: int) -> list[bytes]:
    """PATH(m, D[0:n]) of RFC 6962 §2.1.1: the audit path of leaf `index` in the tree of `size` leaves."""

    def path(m: int, start: int, end: int) -> list[bytes]:
        if end - start == 1:
            return []
        k = split(end - start)
        if m < k:
            return path(m, start, start + k) + [subtree(start + k, end)]
        return path(m - k, start + k, end) + [subtree(start, start + k)]

    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    return path(index, 0, size)


def consistency_path(subtree: Subtree, first: int, second: int) -> list[bytes]:
    """PROOF(m, D[0:n]) of RFC 6962 §2.1.2: that the tree of `second` leaves extends the one of `first`."""

    def subproof(m: int, start: int, end: int, complete: bool) -> list[bytes]:
        if m == end - start:
            return [] if complete else [subtree(start, end)]
        k = split(end - start)
        if m <= k:
            return subproof(m, start, start + k, complete) + [subtree(start + k, end)]
        return subproof(m - k, start + k, end, False) + [subtree(start, start + k)]

    if not 0 < first <= second:
        raise ValueError("sizes out of order")
    return subproof(first, 0, second, True)


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2."""
    if first > second or first == 0:
        return False
    if first == second:
        return not path and first_root == second_root
    proof = list(path)
    if first & (first - 1) == 0:  # a power of two: the first tree is itself a node of the second
        proof.insert(0, first_root)
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
