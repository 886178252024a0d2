"""What callers see of their spending."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from . import LAZY


class SpendingView(BaseModel):
    model_config = LAZY

    month: str = Field(description="The calendar month (UTC) the figures cover", examples=["2026-11"])
    plan: str
    spent_cents: int
    limit_cents: int = Field(description="The plan's monthly spending limit; 0 on the free plan")
    share_used: float = Field(description="spent / limit, 0 to 1 and beyond; 1 on the free plan once anything is spent")
    reached: bool
    reached_at: datetime | None = None


class LimitIncreaseView(BaseModel):
    model_config = LAZY

    id: str
    amount_cents: int
    reason: str
    status: Literal["open"]
    created_at: datetime


class LimitIncreasePage(BaseModel):
    model_config = LAZY

    requests: list[LimitIncreaseView]
    next_cursor: str | None
