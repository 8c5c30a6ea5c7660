"""Check an exported ledger, and proofs, without the services (docs/audit.md, "Verifying without the
services"). Standard library only: copy this file and merkle.py anywhere and run

    python3 verify.py ledger.json [proof.json ...]

`ledger.json` is what `hbcloud audit export` writes; a proof file is the answer of the audit
service's `inclusion_proof` or `consistency_proof`. Exit status 0 when everything matches, 1 when
something does not (the first mismatch is named), 2 when a file cannot be read.

The running service checks its stored ledger with the same code (`check_entries`)."""
from __future__ import annotations

import json
import sys
from typing import Any, Iterable, Sequence

try:
    from services.audit import merkle
except ImportError:  # run as a copied file beside merkle.py
    import merkle  # type: ignore[import-not-found,no-redef]

MAX_PROBLEMS = 100


def check_entries(entries: Iterable[dict[str, Any]], checkpoints: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The entries (in seq order: {seq, canonical, leaf_hash, chain_hash}, and the columns a store
    keeps beside them: source, position, event_id, type) checked from their canonical bytes: the
    sequence, each entry's fields, leaf and chain hashes, each source's positions rising, and each
    checkpoint's root and chain head. Answers the report and, under "_leaves", the recomputed leaves."""
    problems: list[dict[str, Any]] = []
    previous, leaves, chain_at = merkle.GENESIS, [], [merkle.GENESIS]
    last_position: dict[str, tuple[int, int]] = {}  # source -> (highest position so far, its seq)
    expected = 1

    def problem(seq: int | None, what: str, detail: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append({"seq": seq, "problem": what, "detail": detail})

    for row in entries:
        seq = row["seq"]
        if seq != expected:
            problem(expected, "missing", f"entries {expected}-{seq - 1} are not in the ledger")
            expected = seq
        body = row["canonical"].encode("utf-8")
        try:
            parsed = json.loads(body)
            envelope = parsed["envelope"]
            said = {"seq": parsed["seq"], "source": envelope["source"], "position": envelope["position"],
                    "event_id": envelope["event_id"], "type": envelope["type"]}
        except (ValueError, KeyError, TypeError):
            problem(seq, "unreadable", "the entry's bytes are not an entry")
            said = None
        if said is not None:
            if any(k in row and row[k] != v for k, v in said.items()):
                problem(seq, "fields", "the entry's stored columns differ from its canonical bytes")
            if merkle.canonical(parsed) != body:
                problem(seq, "not_canonical", "the entry's bytes are not in canonical form")
            source, position = said["source"], said["position"]
            highest, at = last_position.get(source, (0, 0))
            if not isinstance(position, int) or isinstance(position, bool) or position < 1:
                problem(seq, "fields", "the entry's position is not a position")
            elif position <= highest:  # the entry holding the higher position is the one out of place
                problem(at, "order", f"{source} position {highest} (entry {at}) comes before position {position} "
                                     f"(entry {seq})")
            else:
                last_position[source] = (position, seq)
        leaf = merkle.leaf_hash(body)
        if leaf.hex() != row["leaf_hash"]:
            problem(seq, "leaf_hash", "the entry's bytes do not give its leaf hash")
        previous = merkle.chain(previous, body)
        if previous.hex() != row["chain_hash"]:
            problem(seq, "chain_hash", "the chain breaks here: this entry, or the one before it, changed")
        leaves.append(leaf)
        chain_at.append(previous)
        expected += 1
    tree = merkle.in_memory(leaves)
    for cp in checkpoints:
        n = cp["tree_size"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            problem(None, "checkpoint", f"a checkpoint of {n!r} entries is not a checkpoint")
        elif n > len(leaves):
            problem(n, "checkpoint", f"a checkpoint of {n} entries, but the ledger holds {len(leaves)}")
        elif merkle.root(tree, n).hex() != cp["root"] or chain_at[n].hex() != cp["chain_head"]:
            problem(n, "checkpoint", f"the entries no longer give the root recorded at {n} entries")
    return settled({"entries": len(leaves), "root": merkle.root(tree, len(leaves)).hex(),
                    "chain_head": chain_at[-1].hex(), "checkpoints": len(checkpoints), "problems": problems,
                    "_leaves": leaves})


def settled(report: dict[str, Any]) -> dict[str, Any]:
    """A report with its problems in ledger order, `ok` and the first mismatch named."""
    report["problems"] = sorted(report["problems"], key=lambda p: (p["seq"] or 0, p["problem"] == "tree_node"))[
        :MAX_PROBLEMS]
    report["ok"] = not report["problems"]
    report["first_mismatch"] = report["problems"][0] if report["problems"] else None
    return report


def check_proof(proof: dict[str, Any], leaves: Sequence[bytes] | None = None) -> str | None:
    """A proof as the audit service answers it; None when it holds, else what is wrong. With the
    ledger's leaves, its roots must also be the ledger's own."""
    h = bytes.fromhex
    if proof.get("kind") == "inclusion":
        leaf = merkle.leaf_hash(proof["canonical"].encode("utf-8"))
        if leaf.hex() != proof["leaf_hash"]:
            return "the entry's canonical bytes do not give the proof's leaf hash"
        if json.loads(proof["canonical"])["seq"] != proof["leaf_index"] + 1:
            return "the entry's seq is not the proof's leaf index + 1"
        if not merkle.verify_inclusion(leaf, proof["leaf_index"], proof["tree_size"],
                                       [h(p) for p in proof["audit_path"]], h(proof["root"])):
            return f"entry {proof['seq']} is not in the tree of {proof['tree_size']} entries under that root"
        roots = [(proof["tree_size"], proof["root"])]
    elif proof.get("kind") == "consistency":
        if not merkle.verify_consistency(proof["first"], proof["second"], h(proof["first_root"]),
                                         h(proof["second_root"]), [h(p) for p in proof["proof"]]):
            return f"the tree of {proof['second']} entries does not extend the tree of {proof['first']}"
        roots = [(proof["first"], proof["first_root"]), (proof["second"], proof["second_root"])]
    else:
        return "not a proof (kind is neither inclusion nor consistency)"
    held_by = {"checkpoint": roots[0], "first_checkpoint": roots[0], "second_checkpoint": roots[-1]}
    for name, (size, root) in held_by.items():
        held = proof.get(name)
        if held and (held.get("tree_size"), held.get("root")) != (size, root):
            return f"the proof's {name} is not the tree it proves ({size} entries, root {root})"
    if leaves is not None:
        tree = merkle.in_memory(leaves)
        for size, root in roots:
            if size <= len(leaves) and merkle.root(tree, size).hex() != root:
                return f"the proof's root of {size} entries is not the exported ledger's"
    return None


def main(argv: Sequence[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as f:
            exported = json.load(f)
        proofs = []
        for name in argv[1:]:
            with open(name, encoding="utf-8") as f:
                proofs.append((name, json.load(f)))
    except (OSError, ValueError) as e:
        print(f"cannot read: {e}", file=sys.stderr)
        return 2
    try:
        report = check_entries(exported["entries"], exported.get("checkpoints", []))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        print(f"{argv[0]}: not an exported ledger ({type(e).__name__}: {e}); expected "
              '{"entries": [{seq, canonical, leaf_hash, chain_hash}], "checkpoints": [{tree_size, root, chain_head}]}',
              file=sys.stderr)
        return 2
    leaves = report.pop("_leaves")
    print(f"ledger: {report['entries']} entries, {report['checkpoints']} checkpoints, root {report['root']}")
    for p in report["problems"]:
        print(f"  entry {p['seq']}: {p['problem']}: {p['detail']}")
    failed = not report["ok"]
    for name, proof in proofs:
        try:
            wrong = check_proof(proof, leaves)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            wrong = f"not a proof as the audit service answers it ({type(e).__name__}: {e})"
        print(f"{name}: {'holds' if wrong is None else 'FAILS: ' + wrong}")
        failed = failed or wrong is not None
    print("OK" if not failed else "MISMATCH")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
