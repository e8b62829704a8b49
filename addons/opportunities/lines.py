"""Product lines of an opportunity, as another addon (products, quotes) reports them through
``opportunities_lines``; the opportunities addon itself keeps only free text."""

from __future__ import annotations

import dataclasses
import decimal
from typing import Any


@dataclasses.dataclass(frozen=True)
class OpportunityLine:
    name: str
    quantity: decimal.Decimal
    amount: decimal.Decimal


def lines_for(ctx: Any, opportunity_ids: list[int]) -> dict[int, list[OpportunityLine]]:
    """Every installed addon's lines for the ids, merged."""
    merged: dict[int, list[OpportunityLine]] = {}
    for answer in ctx.hooks.opportunities_lines(ctx=ctx, opportunity_ids=list(opportunity_ids)):
        for opportunity_id, lines in (answer or {}).items():
            merged.setdefault(int(opportunity_id), []).extend(lines)
    return merged
