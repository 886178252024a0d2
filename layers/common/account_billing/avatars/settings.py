"""The avatars' configuration, parsed once from the environment the template gives the avatar
function (read when first needed, never at import time)."""

from __future__ import annotations

import os
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from account_billing.core.ratelimit_windows import WindowLimit
from account_billing.core.wiring import per_container

# Upload forms an account may ask for in an hour, unless the template says otherwise: a
# person choosing a picture needs a handful; each form can put 20 MB through the validator.
FORMS_PER_HOUR = 20


class AvatarSettings(BaseModel):
    """Field names are the environment variables, lowercased."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    avatar_forms_per_hour: int = Field(default=FORMS_PER_HOUR, ge=1, le=10_000)

    @property
    def form_limit(self) -> WindowLimit:
        return WindowLimit(scope="avatar-form", limit=self.avatar_forms_per_hour, window=timedelta(hours=1))


@per_container
def avatar_settings() -> AvatarSettings:
    return AvatarSettings.model_validate({name.lower(): value for name, value in os.environ.items()})
