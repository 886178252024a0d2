"""What callers send to the subscription routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PlanName = Literal["community", "developer", "essential", "professional"]


class ChangePlanRequest(BaseModel):
    """Move the account to a plan: upgrades at once (prorated), downgrades at the period end,
    Community by cancelling at the period end."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    plan: PlanName = Field(description="The plan to move to")
