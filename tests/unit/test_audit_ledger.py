"""The audit ledger without services: RFC 6962 trees against the RFC's published test vectors, proofs
of every shape, the stored ledger against the in-memory tree, tamper detection (a changed byte, a
deleted entry, two reordered, a rewritten entry), the stand-alone verifier on an export, the spot
check's draw and the replay of a scripted history."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from services.audit import ledger, merkle, replay, rules, verify
from services.audit.store import AuditStore
from shared.clock import FixedClock

H = bytes.fromhex
# RFC 6962's reference leaves and roots (the Certificate Transparency test vectors).
LEAVES = [H(x) for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                         "606162636465666768696a6b6c6d6e6f")]
ROOTS = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [  # (first size, second size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
REFERENCE = merkle.in_memory([merkle.leaf_hash(leaf) for leaf in LEAVES])


# ------------------------------------------------------------------ RFC 6962
@pytest.mark.parametrize("size", range(9))
def test_roots_are_rfc_6962s(size):
    leaves = [merkle.leaf_hash(leaf) for leaf in LEAVES[:size]]
    assert merkle.root(merkle.in_memory(leaves), size).hex() == ROOTS[size]


@pytest.mark.parametrize("index, size, path", INCLUSION)
def test_inclusion_proofs_are_rfc_6962s_and_verify(index, size, path):
    assert [p.hex() for p in merkle.inclusion_path(REFERENCE, index, size)] == path
    leaf = merkle.leaf_hash(LEAVES[index])
    assert merkle.verify_inclusion(leaf, index, size, [H(p) for p in path], H(ROOTS[size]))
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, size, [H(p) for p in path], H(ROOTS[size]))


@pytest.mark.parametrize("first, second, proof", CONSISTENCY)
def test_consistency_proofs_are_rfc_6962s_and_verify(first, second, proof):
    assert [p.hex() for p in merkle.consistency_path(REFERENCE, first, second)] == proof
    assert merkle.verify_consistency(first, second, H(ROOTS[first]), H(ROOTS[second]), [H(p) for p in proof])
    if first != second:
        assert not merkle.verify_consistency(first, second, H(ROOTS[first]), H(ROOTS[second - 1]), [H(p) for p in proof])


def test_every_proof_of_every_tree_up_to_40_leaves_verifies_and_a_wrong_one_does_not():
    for size in range(1, 41):
        leaves = [merkle.leaf_hash(bytes([i, size])) for i in range(size)]
        tree = merkle.in_memory(leaves)
        root = merkle.root(tree, size)
        for i in range(size):
            path = merkle.inclusion_path(tree, i, size)
            assert merkle.verify_inclusion(leaves[i], i, size, path, root)
            assert not merkle.verify_inclusion(leaves[i], (i + 1) % size, size, path, root) or size == 1
        for first in range(1, size + 1):
            proof = merkle.consistency_path(tree, first, size)
            assert merkle.verify_consistency(first, size, merkle.root(tree, first), root, proof)
            if first < size:
                assert not merkle.verify_consistency(first, size, merkle.leaf_hash(b"x"), root, proof)


# ------------------------------------------------------------------ the stored ledger
def envelope(origin: str, position: int, kind: str = "application.section_updated", application_id: str | None = None,
             at: str = "2018-12-03T02:00:00+00:00", **data: Any) -> dict[str, Any]:
    source = origin
    return {"event_id": f"00000000-0000-4000-8000-{abs(hash((source, position))) % 10**12:012d}", "type": kind,
            "schema_version": 1, "source": source, "position": position, "occurred_at": at,
            "aggregate_id": "a", "aggregate_version": position, "application_id": application_id,
            "actor": {"id": "someone", "role": "enterprise"}, "data": data}


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    return AuditStore(f"sqlite:///{tmp_path / 'audit.sqlite'}",
                      FixedClock(datetime(2019, 6, 1, tzinfo=timezone.utc)), checkpoint_interval=4)


def fill(store: AuditStore, count: int) -> None:
    for i in range(1, count + 1):
        with store.transaction() as session:
            store.append_to_ledger(session, envelope("application" if i % 3 else "review", i, 名称=f"第{i}条"))


def check(store: AuditStore) -> dict[str, Any]:
    """The check verify_ledger makes, against the checkpoints as published."""
    from services.audit.handlers.ledger_ops import published_checkpoints

    with store.reading() as session:
        return ledger.check(session, published_checkpoints(store))


def test_the_stored_tree_gives_the_in_memory_roots_and_proofs_and_a_checkpoint_every_interval(store):
    fill(store, 11)
    with store.reading() as session:
        leaves = [H(r["leaf_hash"]) for r in ledger.rows(session)]
        stored = ledger.stored_tree(session)
        memory = merkle.in_memory(leaves)
        for size in range(1, 12):
            assert merkle.root(stored, size) == merkle.root(memory, size)
            assert merkle.inclusion_path(stored, size - 1, 11) == merkle.inclusion_path(memory, size - 1, 11)
            assert merkle.consistency_path(stored, size, 11) == merkle.consistency_path(memory, size, 11)
        assert [c["tree_size"] for c in ledger.stored_checkpoints(session)] == [4, 8]
        assert ledger.stored_checkpoints(session)[1]["root"] == merkle.root(memory, 8).hex()
    # each checkpoint is also an event of the audit service's own log
    assert store.max_position() == 2
    assert check(store)["ok"]


def test_each_entry_is_chained_to_the_one_before_over_its_canonical_bytes(store):
    fill(store, 3)
    with store.reading() as session:
        rows = list(ledger.rows(session))
    previous = merkle.GENESIS
    for row in rows:
        body = row["canonical"].encode("utf-8")
        assert json.loads(body)["seq"] == row["seq"] and "第" in row["canonical"]  # UTF-8, not \u escapes
        previous = merkle.chain(previous, body)
        assert row["chain_hash"] == previous.hex()


def tamper(store: AuditStore, sql: str) -> None:
    with store.transaction() as session:
        session.execute(text(sql))


def test_a_changed_byte_is_located(store):
    fill(store, 10)
    tamper(store, "UPDATE audit_ledger SET canonical = replace(canonical, '第6条', '第9条') WHERE seq = 6")
    report = check(store)
    assert not report["ok"] and report["first_mismatch"]["seq"] == 6
    assert report["first_mismatch"]["problem"] == "leaf_hash"


def test_a_deleted_entry_is_located(store):
    fill(store, 10)
    tamper(store, "DELETE FROM audit_ledger WHERE seq = 7")
    report = check(store)
    assert report["first_mismatch"] == {"seq": 7, "problem": "missing", "detail": "entries 7-7 are not in the ledger"}


def test_two_reordered_entries_are_located(store):
    fill(store, 10)
    with store.reading() as session:
        three, five = (ledger.entry_row(session, seq=n) for n in (3, 5))
    assert three is not None and five is not None
    with store.transaction() as session:  # swap everything but the seq: a reordering
        for seq, row in ((3, five), (5, three)):
            session.execute(text("UPDATE audit_ledger SET canonical=:c, leaf_hash=:l, chain_hash=:h, position=:p, "
                                 "event_id=:e WHERE seq=:s"),
                            {"c": row["canonical"], "l": row["leaf_hash"], "h": row["chain_hash"],
                             "p": row["position"], "e": row["event_id"] + ("x" if seq == 3 else ""), "s": seq})
    assert check(store)["first_mismatch"]["seq"] == 3


def test_an_entry_rewritten_with_fresh_hashes_still_breaks_the_chain_after_it_and_the_checkpoint(store):
    fill(store, 10)
    with store.reading() as session:
        row = ledger.entry_row(session, seq=6)
        before = ledger.entry_row(session, seq=5)
    assert row is not None and before is not None
    body = row["canonical"].replace("第6条", "第9条").encode("utf-8")
    with store.transaction() as session:
        session.execute(text("UPDATE audit_ledger SET canonical = :c, leaf_hash = :l, chain_hash = :h WHERE seq = 6"),
                        {"c": body.decode(), "l": merkle.leaf_hash(body).hex(),
                         "h": merkle.chain(H(before["chain_hash"]), body).hex()})
    report = check(store)
    found = {(p["seq"], p["problem"]) for p in report["problems"]}
    assert (7, "chain_hash") in found and (8, "checkpoint") in found and report["first_mismatch"]["seq"] == 6


def export(store: AuditStore, path: Path) -> Path:
    with store.reading() as session:
        exported = {"entries": [{k: r[k] for k in ("seq", "canonical", "leaf_hash", "chain_hash")}
                                for r in ledger.rows(session)],
                    "checkpoints": [{k: c[k] for k in ("tree_size", "root", "chain_head")}
                                    for c in ledger.stored_checkpoints(session)]}
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_stand_alone_verifier_checks_an_export_and_proofs(store, tmp_path, capsys):
    fill(store, 9)
    exported = export(store, tmp_path / "ledger.json")
    with store.reading() as session:
        row = ledger.entry_row(session, seq=4)
        tree = ledger.stored_tree(session)
        assert row is not None
        inclusion = {"kind": "inclusion", "seq": 4, "leaf_index": 3, "tree_size": 9, "canonical": row["canonical"],
                     "leaf_hash": row["leaf_hash"], "root": merkle.root(tree, 9).hex(),
                     "audit_path": [p.hex() for p in merkle.inclusion_path(tree, 3, 9)]}
        consistency = {"kind": "consistency", "first": 4, "second": 9, "first_root": merkle.root(tree, 4).hex(),
                       "second_root": merkle.root(tree, 9).hex(),
                       "proof": [p.hex() for p in merkle.consistency_path(tree, 4, 9)]}
    (tmp_path / "inclusion.json").write_text(json.dumps(inclusion))
    (tmp_path / "consistency.json").write_text(json.dumps(consistency))
    assert verify.main([str(exported), str(tmp_path / "inclusion.json"), str(tmp_path / "consistency.json")]) == 0
    assert capsys.readouterr().out.strip().endswith("OK")
    moved = dict(inclusion, checkpoint={"tree_size": 9, "root": "00" * 32})  # a checkpoint it does not prove
    (tmp_path / "moved.json").write_text(json.dumps(moved))
    assert verify.main([str(exported), str(tmp_path / "moved.json")]) == 1
    (tmp_path / "junk.json").write_text(json.dumps({"entries": [{"seq": 1}], "checkpoints": [{"tree_size": -1}]}))
    assert verify.main([str(tmp_path / "junk.json")]) == 2  # not an export: said so, no traceback
    forged = dict(inclusion, canonical=inclusion["canonical"].replace("第4条", "第5条"))
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert verify.main([str(exported), str(tmp_path / "forged.json")]) == 1
    data = json.loads(exported.read_text(encoding="utf-8"))
    data["entries"][1]["canonical"] = data["entries"][1]["canonical"].replace("第2条", "第3条")
    exported.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert verify.main([str(exported)]) == 1
    assert "entry 2: leaf_hash" in capsys.readouterr().out


def test_the_verifier_runs_as_a_copied_file_without_the_project(store, tmp_path):
    import shutil
    import subprocess
    import sys

    fill(store, 5)
    exported = export(store, tmp_path / "ledger.json")
    alone = tmp_path / "alone"
    alone.mkdir()
    for name in ("merkle.py", "verify.py"):
        shutil.copy(Path(merkle.__file__).parent / name, alone / name)
    run = subprocess.run([sys.executable, "-E", "-s", str(alone / "verify.py"), str(exported)], capture_output=True, text=True,
                         cwd=alone, timeout=60)
    assert run.returncode == 0 and run.stdout.strip().endswith("OK"), run.stdout + run.stderr


# ------------------------------------------------------------------ the draw
POPULATION = [{"application_id": f"{i:08d}-0000-4000-8000-000000000000", "unit_code": unit}
              for i, unit in enumerate(["130100"] * 10 + ["130200"] * 6 + ["130300"] * 3 + ["139001"])]


def test_the_draw_is_reproducible_from_its_seed_and_population():
    first = rules.draw_sample("a-recorded-seed", POPULATION, 6, True)
    assert rules.draw_sample("a-recorded-seed", list(reversed(POPULATION)), 6, True) == first
    assert rules.draw_sample("another-seed", POPULATION, 6, True) != first


def test_a_stratified_draw_gives_each_city_its_share_by_largest_remainder():
    allocation, drawn = rules.draw_sample("seed-0001", POPULATION, 6, True)
    assert allocation == {"130100": 3, "130200": 2, "130300": 1, "139001": 0}  # quotas 3, 1.8, 0.9, 0.3
    units = {m["application_id"]: m["unit_code"] for m in POPULATION}
    assert [units[a] for a in drawn] == ["130100"] * 3 + ["130200"] * 2 + ["130300"]


def test_a_share_is_rounded_half_up_and_never_exceeds_the_population():
    assert rules.size_for(20, None, Decimal("0.25")) == 5
    assert rules.size_for(10, None, Decimal("0.05")) == 1  # 0.5 rounds up
    assert rules.size_for(3, None, Decimal("0.01")) == 1  # a share of a population draws at least one
    assert rules.size_for(3, 10, None) == 3


# ------------------------------------------------------------------ replay
APP = "07332ed6-61a4-58b2-87f4-999c2566e5e9"


def entry(seq: int, env: dict[str, Any]) -> dict[str, Any]:
    return {"seq": seq, "envelope": env, "event_id": env["event_id"], "leaf_hash": "00", "chain_hash": "00"}


def scripted() -> list[dict[str, Any]]:
    submitted = envelope("application", 10, "application.submitted", APP, "2018-12-03T02:00:00+00:00",
                         rule_set_version="2018.2", content={"contracts": ["c1"]})
    county = envelope("review", 3, "review.county_passed", APP, "2018-12-10T02:00:00+00:00", checklist={"ok": True})
    calculated = envelope("subsidy", 7, "subsidy.calculated", APP, "2019-02-01T02:00:00+00:00",
                          rule="annual-fee-share-capped-v1", inputs={"contracts": ["c1"]})
    fraud = envelope("audit", 4, "audit.fraud_found", APP, "2019-06-01T01:00:00+00:00", reasons=["合同伪造"])
    revoked = envelope("scoring", 9, "scoring.award_revoked", APP, "2019-06-01T01:00:00+00:00", reason="弄虚作假",
                       source={"source": "audit", "event_id": fraud["event_id"], "type": "audit.fraud_found"})
    resubmitted = envelope("application", 12, "application.resubmitted", APP, "2018-12-05T02:00:00+00:00",
                           content={"contracts": ["c1", "c2"]})
    # the ledger received the revocation before the decision it follows from, and review before application
    return [entry(1, county), entry(2, submitted), entry(3, revoked), entry(4, calculated), entry(5, fraud),
            entry(6, resubmitted)]


def test_a_replay_orders_by_instant_and_puts_an_effect_after_its_cause():
    steps = replay.replay(scripted())["timeline"]
    assert [s["type"] for s in steps] == ["application.submitted", "application.resubmitted", "review.county_passed",
                                          "subsidy.calculated", "audit.fraud_found", "scoring.award_revoked"]
    assert steps[0]["rule"] == "2018.2" and steps[3]["rule"] == "annual-fee-share-capped-v1"
    assert steps[5]["reason"] == "弄虚作假" and steps[4]["reason"] == ["合同伪造"]
    assert (steps[2]["source"], steps[2]["position"], steps[2]["ledger_seq"]) == ("review", 3, 1)


def test_as_of_shows_what_the_county_saw_and_what_the_subsidy_was_computed_on():
    entries = scripted()
    at_county = replay.replay(entries, {"source": "review", "position": 3})["as_of"]
    assert at_county["found"] and at_county["state"]["application"]["facts"]["content"] == {"contracts": ["c1", "c2"]}
    assert "subsidy" not in at_county["state"] and at_county["state"]["review"]["last_event"] == "review.county_passed"
    before = replay.replay(entries, {"at": datetime(2018, 12, 4, tzinfo=timezone.utc)})["as_of"]
    assert before["state"]["application"]["facts"]["content"] == {"contracts": ["c1"]} and before["steps"] == 1
    whole = replay.replay(entries)["state"]
    assert whole["subsidy"]["facts"]["inputs"] == {"contracts": ["c1"]}
    assert replay.replay(entries, {"source": "review", "position": 99})["as_of"]["found"] is False


def test_a_ledger_rewritten_from_an_entry_on_with_every_hash_node_and_checkpoint_row_is_still_caught(store):
    """Someone with the database rewrites entry 6 and everything that depends on it: the checkpoints
    as published (events of the audit log, held by subscribers) no longer match."""
    from sqlalchemy import delete, update

    from services.audit.handlers.ledger_ops import published_checkpoints
    from services.audit.projections import checkpoints, ledger as entries, nodes

    fill(store, 10)
    with store.transaction() as session:
        rows = list(ledger.rows(session))
        rows[5]["canonical"] = rows[5]["canonical"].replace("第6条", "第9条")
        previous, leaves = merkle.GENESIS, []
        for row in rows:
            body = row["canonical"].encode("utf-8")
            previous = merkle.chain(previous, body)
            leaves.append(merkle.leaf_hash(body))
            session.execute(update(entries).where(entries.c.seq == row["seq"]).values(
                canonical=row["canonical"], leaf_hash=leaves[-1].hex(), chain_hash=previous.hex()))
        tree = merkle.in_memory(leaves)
        for node in list(session.execute(nodes.select()).mappings()):
            start, width = node["idx"] << node["level"], 1 << node["level"]
            session.execute(update(nodes).where(nodes.c.level == node["level"], nodes.c.idx == node["idx"])
                            .values(hash=tree(start, start + width)))
        session.execute(delete(checkpoints).where(checkpoints.c.tree_size == 8))
    report = check(store)
    assert [(p["seq"], p["problem"]) for p in report["problems"]] == [(8, "checkpoint")]
    assert len(published_checkpoints(store)) == 2


def test_the_ledger_follows_many_events_per_commit_and_stops_exactly_at_one_it_cannot_record(store):
    """Events go in a page at a time; when one of a batch cannot be recorded, the others before it
    are recorded one by one and the follower stops at it, saying why, skipping nothing."""
    from services.audit.handlers.following import follows
    from shared.follower import Follower, dispatch

    log = [envelope("application", i, 名称=f"第{i}条") for i in range(1, 11)]
    del log[6]["actor"]  # position 7: not an envelope a source could publish

    def fetch(after: int, limit: int) -> dict[str, Any]:
        return {"notifications": [e for e in log if e["position"] > after][:limit], "max_position": 10}

    follower = Follower(store, "application", dispatch(store, follows(("application",))["application"]), fetch,
                        parks=False, batch=4, retry_delays=())
    follower.catch_up()
    assert follower.tracked() == 6 and follower.stalled is not None and follower.stalled["position"] == 7
    with store.reading() as session:
        assert [r["position"] for r in ledger.rows(session)] == [1, 2, 3, 4, 5, 6]
    log[6]["actor"] = {"id": "someone", "role": "enterprise"}  # mended at the source: it goes on from there
    follower.catch_up()
    assert follower.tracked() == 10 and follower.stalled is None and check(store)["ok"]
