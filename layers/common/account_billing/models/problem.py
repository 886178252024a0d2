"""The RFC 9457 problem document, for the OpenAPI description of error responses."""

from __future__ import annotations

from pydantic import BaseModel, Field

from . import LAZY


class InvalidField(BaseModel):
    model_config = LAZY

    detail: str
    code: str = Field(description="pydantic's error type, e.g. string_too_long")
    pointer: str | None = Field(default=None, description="JSON Pointer into the body, e.g. #/first_name")
    parameter: str | None = Field(default=None, description="Name of an invalid header, query or path parameter")


class Problem(BaseModel):
    model_config = LAZY

    type: str = Field(examples=["urn:account-billing:problem:user-id-taken"])
    title: str
    status: int
    detail: str
    errors: list[InvalidField] | None = None
