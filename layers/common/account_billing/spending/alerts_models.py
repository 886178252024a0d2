"""What callers send and see of spending alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, Field, Strict, model_validator

from account_billing.core.models import LAZY, with_examples
from account_billing.spending.models import SpendingView

MAX_THRESHOLDS = 5
Percent = Annotated[int, Strict(), Field(ge=1, le=100, description="A share of the month's limit, in %")]


class AlertSettingsRequest(BaseModel):
    """The thresholds to be alerted at (by email to the billing email, once a month each)."""

    model_config = with_examples({"thresholds": [50, 80, 100]}, extra="forbid", frozen=True)

    thresholds: list[Percent] = Field(max_length=MAX_THRESHOLDS, examples=[[50, 80, 100]])

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if len(set(self.thresholds)) != len(self.thresholds):
            raise ValueError("a threshold is given twice")
        return self


class CrossedThreshold(BaseModel):
    model_config = LAZY

    percent: int = Field(examples=[80])
    crossed_at: datetime
    spent_cents: int = Field(description="The month's spend when it was crossed")


class AlertSettingsView(BaseModel):
    model_config = with_examples({"thresholds": [50, 80, 100]})

    thresholds: list[int] = Field(description="Ascending; [] for no alerts", examples=[[50, 80, 100]])


class SpendingOverview(SpendingView):
    """This month's spending, and which alert thresholds it crossed."""

    alerts_crossed: list[CrossedThreshold] = Field(default_factory=list)
