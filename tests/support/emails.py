"""Calls to the emails function's handler, as a given caller."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from functions.emails import app as emails
from tests.support.events import call, http_event

Result = tuple[int, dict[str, str], Any]


class EmailsClient:
    def __init__(self, sub: str) -> None:
        self.sub = sub

    def _call(self, sample: str, **kwargs: Any) -> Result:
        return call(emails.lambda_handler, http_event(f"emails/{sample}", sub=self.sub, **kwargs))

    def list(self) -> Result:
        return self._call("list_emails")

    def add(self, address: Any) -> Result:
        return self._call("add_email", body={"address": address})

    def resend(self, address: str) -> Result:
        return self._call("resend_verification", body={"address": address})

    def verify(self, token: Any) -> Result:
        return self._call("verify_email", body={"token": token})

    def set_primary(self, address: str) -> Result:
        return self._call("set_primary_email", body={"address": address})

    def remove(self, address: str) -> Result:
        return self._call("remove_email", path_parameters={"email": quote(address, safe="")})
