"""Fingerprints missing from the app database are computed on demand and stored."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from sextant.service import Sextant
from sextant.store import schema as s
from tests.agent_client import AgentClient


def test_missing_fingerprints_are_recomputed_and_stored(demo_service: Sextant) -> None:
    with demo_service.engine.begin() as conn:
        conn.execute(delete(s.fingerprints))
    demo_service.fingerprint_cache.clear()
    api = AgentClient(demo_service)
    people = api.table_id("PEOPLE")
    body = api.get(f"/table/{people}/field/t{people}-7/values", "analyst@example.com").json()
    assert body["values"] == ["Affiliate", "Facebook", "Google", "Organic", "Twitter"]
    with demo_service.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(s.fingerprints)).scalar()
    assert stored == 12  # every visible column of PEOPLE, in one go


def test_sandboxed_values_are_not_stored_globally(demo_service: Sextant) -> None:
    api = AgentClient(demo_service)
    people = api.table_id("PEOPLE")
    ca = api.get(f"/table/{people}/field/t{people}-6/values", "ca-manager@example.com").json()
    assert ca["values"] == ["CA"]
    everyone = api.get(f"/table/{people}/field/t{people}-6/values", "analyst@example.com").json()
    assert len(everyone["values"]) == 30 and everyone["statistics"]["distinct_count"] == 49
