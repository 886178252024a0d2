"""Calls to the profile function's handler, as a given caller."""

from __future__ import annotations

from typing import Any

from functions.profile import app as profile
from tests.support.events import call, http_event

Result = tuple[int, dict[str, str], Any]


class ProfileClient:
    """The profile function, invoked in-process with events built from `events/profile/`."""

    def __init__(self, sub: str | None = "user-1", claims: dict[str, Any] | None = None) -> None:
        self.sub = sub
        self.claims = claims

    def _call(self, sample: str, **kwargs: Any) -> Result:
        return call(profile.lambda_handler, http_event(f"profile/{sample}", sub=self.sub, claims=self.claims, **kwargs))

    def create(self, user_id: str = "ada_lovelace", **fields: Any) -> Result:
        return self._call("create_account", body={"user_id": user_id, **fields})

    def get(self) -> Result:
        return self._call("get_account")

    def patch(self, body: Any, if_match: str | None = None) -> Result:
        return self._call("update_profile", body=body, headers={"if-match": if_match})

    def change_user_id(self, user_id: str, if_match: str | None = None) -> Result:
        return self._call("change_user_id", body={"user_id": user_id}, headers={"if-match": if_match})

    def set_visibility(self, visibility: Any) -> Result:
        return self._call("set_visibility", body={"visibility": visibility})

    def public(self, user_id: str) -> Result:
        event = http_event("profile/public_profile", sub=None, path_parameters={"user_id": user_id})
        return call(profile.lambda_handler, event)

    def delete(self, confirm_user_id: Any) -> Result:
        return self._call("delete_account", body={"confirm_user_id": confirm_user_id})
