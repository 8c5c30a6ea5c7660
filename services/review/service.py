"""nameko entrypoints of the review service: validate, authorize, call the app, answer.
Run with `nameko run services.review.service` (scripts/start does)."""
from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

from shared.config import Settings
from shared.rpc import Auth, Caller, EventLogRpc, Every, Follow, Relay, Store, guarded, load, prompt_entrypoint

from services.review import schemas as s
from services.review.app import ReviewService
from services.review.events import contract


def make_store(settings: Settings) -> ReviewService:
    return ReviewService(settings.store_url("review"), settings.clock())


class ReviewRpc(EventLogRpc):
    name = "review"
    contract = contract
    followed = ("application",)

    store: ReviewService = Store(make_store)  # type: ignore[assignment]
    relay = Relay("store", contract)
    caller: Caller = Auth()  # type: ignore[assignment]
    application = Follow("store", "application", lambda app: app.on_application_event)
    on_application_event = prompt_entrypoint("application", "application")
    deadlines = Every("store", lambda app: app.check_deadlines(), lambda settings: settings.deadline_scan_seconds,
                      name="deadline scan")

    def _me(self) -> Any:
        return self.caller.principal()

    # ---------------------------------------------------------------- reviewers
    @rpc
    @guarded
    def provider_answer(self, application_id: str, data: dict[str, Any]) -> dict[str, Any]:
        me = self._me()
        return self.store.provider_answer(me, str(application_id), load(s.ProviderAnswerSchema(), data))

    @rpc
    @guarded
    def county_review(self, application_id: str, data: dict[str, Any]) -> dict[str, Any]:
        me = self._me()
        return self.store.county_review(me, str(application_id), load(s.CountyReviewSchema(), data))

    @rpc
    @guarded
    def city_review(self, application_id: str, data: dict[str, Any]) -> dict[str, Any]:
        me = self._me()
        return self.store.city_review(me, str(application_id), load(s.CityReviewSchema(), data))

    @rpc
    @guarded
    def rank_recommendations(self, data: dict[str, Any]) -> dict[str, Any]:
        me = self._me()
        return self.store.rank(me, load(s.RankingSchema(), data))

    # ---------------------------------------------------------------- queries
    @rpc
    @guarded
    def get_case(self, application_id: str) -> dict[str, Any]:
        return self.store.get_case(self._me(), str(application_id))

    @rpc
    @guarded
    def case_history(self, application_id: str) -> list[dict[str, Any]]:
        return self.store.case_history(self._me(), str(application_id))

    @rpc
    @guarded
    def worklist(self, query: dict[str, Any] | None = None) -> dict[str, Any]:
        me = self._me()
        return self.store.worklist(me, load(s.WorklistSchema(), query))

    @rpc
    @guarded
    def progress(self, campaign_code: str | None = None) -> dict[str, Any]:
        return self.store.progress(self._me(), campaign_code)
