"""Authorization as data: every decision says whether and why."""

from sextant.permissions.decide import (
    Decision,
    TableAccess,
    collection_access,
    metric_access,
    table_access,
)

__all__ = ["Decision", "TableAccess", "collection_access", "metric_access", "table_access"]
