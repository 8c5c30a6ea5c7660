"""A rebuild of the read models (the rebuild-read-models command) writes exactly the rows the five
services wrote live during a whole campaign (awards, a payment, a spot check, a fraud decision and
its ban, revocation and reclaim): every row of every table a projection writes, its owned tables
included (a candidate's assignments, an account's session record). Checked in place, on tables
emptied first, and on a fresh store of each backend given only a copy of each service's log."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent
from sqlalchemy import delete, select

from services.topology import SERVICES, definition
from shared.config import settings_from_env
from shared.definition import rebuild_read_models
from shared.store import ServiceStore
from tests.unit.test_audit_service import story  # noqa: F401  (the campaign, as the audit tests play it)

Rows = dict[str, Counter[tuple[Any, ...]]]


def read_models(store: ServiceStore, service: str) -> Rows:
    with store.reading() as session:
        return {table.name: Counter(tuple(r) for r in session.execute(select(table)))
                for p in definition(service).projections for table in p.tables}


def stores(story: dict[str, Any]) -> dict[str, ServiceStore]:
    return {service: store for service, (store, _contract) in story["five"].logs.items()}


def copy_log(source: ServiceStore, target: ServiceStore) -> None:
    """Every stored event of `source`, in log order, appended to `target`'s empty log."""
    events = source.process_recorder.events_record_cls.__table__
    with source.reading() as session:
        rows = session.execute(select(events.c.originator_id, events.c.originator_version, events.c.topic,
                                      events.c.state).order_by(events.c.id)).all()
    target.recorder.insert_events([StoredEvent(*row) for row in rows])


def test_the_campaign_wrote_rows_in_every_service(story):
    for service, store in stores(story).items():
        rows = read_models(store, service)
        assert sum(sum(c.values()) for c in rows.values()), service
    scoring = read_models(stores(story)["scoring"], "scoring")
    assert scoring["scoring_rm_assignments"] and scoring["scoring_rm_candidates"]


def test_a_fresh_store_given_only_the_log_rebuilds_the_rows_written_live(story, store_url, tmp_path: Path):
    settings = settings_from_env({"HBCLOUD_DATA_DIR": str(tmp_path), "HBCLOUD_DATABASE_URL": store_url,
                                  "HBCLOUD_TOKEN_SECRET": "s" * 40, "HBCLOUD_CLOCK": "system"})
    for service in SERVICES:
        live = stores(story)[service]
        fresh = definition(service).make_store(settings)
        try:
            copy_log(live, fresh)
            written = rebuild_read_models(fresh, definition(service).projections)
            assert written and read_models(fresh, service) == read_models(live, service), service
        finally:
            fresh.close()


def test_a_rebuild_in_place_on_emptied_tables_writes_the_same_rows(story):
    for service, store in stores(story).items():
        before = read_models(store, service)
        projections = definition(service).projections
        with store.transaction() as session:
            for p in projections:
                for table in p.tables:
                    session.execute(delete(table))
        assert not any(read_models(store, service).values())
        rebuild_read_models(store, projections)
        assert read_models(store, service) == before, service
        rebuild_read_models(store, projections)  # over the rows it wrote: the same again
        assert read_models(store, service) == before, service
