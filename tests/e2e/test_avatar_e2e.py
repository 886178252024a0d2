"""An avatar over real HTTP against the local stack: the presigned POST sent as a browser
sends it, S3's event delivered to the validator, the avatar fetched from its CDN URL, replaced,
rejected and removed."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import ExifTags, Image

from tests.e2e.conftest import Caller, wait_for
from tests.support import corpus

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def avatar_of(api: httpx.Client, caller: Caller) -> dict[str, Any]:
    response = api.get("/v1/account", headers=caller.auth)
    assert response.status_code == 200, response.text
    avatar: dict[str, Any] = response.json()["avatar"]
    return avatar


def upload(api: httpx.Client, caller: Caller, data: bytes, content_type: str) -> dict[str, Any]:
    """Ask for a form, then post the file with it as a browser does (multipart, the file last)."""
    response = api.post("/v1/account/avatar", json={"content_type": content_type}, headers=caller.auth)
    assert response.status_code == 200, response.text
    form: dict[str, Any] = response.json()
    posted = httpx.post(
        form["url"], data=form["fields"], files={form["file_field"]: ("picture", data, content_type)}, timeout=30
    )
    assert posted.status_code in (200, 201, 204), posted.text
    return form


def settled(api: httpx.Client, caller: Caller, status: str) -> dict[str, Any] | None:
    avatar = avatar_of(api, caller)
    return avatar if avatar["status"] == status else None


@pytest.mark.usefixtures("account")
def test_an_avatar_is_uploaded_seen_replaced_rejected_and_removed(api: httpx.Client, caller: Caller) -> None:
    # Given a new account: initials, no image
    assert avatar_of(api, caller)["status"] == "none"

    # When the user uploads a phone photo through the presigned POST
    upload(api, caller, corpus.photo_jpeg(), "image/jpeg")

    # Then it becomes their avatar once S3's event is processed, and its URL serves it upright
    # and without the photo's location
    first = wait_for(lambda: settled(api, caller, "ready"), timeout=20)
    served = httpx.get(first["url"], timeout=10)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert "immutable" in served.headers["cache-control"]
    image = Image.open(io.BytesIO(served.content))
    assert image.size == (40, 60)
    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert httpx.get(first["thumbnail_url"], timeout=10).status_code == 200

    # When they replace it with a PNG, the URL changes and the old one is gone
    upload(api, caller, corpus.photo_png(), "image/png")
    second = wait_for(lambda: (a := settled(api, caller, "ready")) and a["url"] != first["url"] and a, timeout=20)
    assert httpx.get(second["url"], timeout=10).headers["content-type"] == "image/png"
    assert httpx.get(first["url"], timeout=10).status_code == 404

    # When they upload something that is not an image, it is refused and the avatar stays
    upload(api, caller, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png")
    rejected = wait_for(lambda: settled(api, caller, "rejected"), timeout=20)
    assert rejected["rejection_reason"] == "The file is not a JPEG or PNG image."
    assert rejected["url"] == second["url"]

    # When they remove the avatar, the profile shows initials and the image is no longer served
    assert api.delete("/v1/account/avatar", headers=caller.auth).status_code == 204
    removed = avatar_of(api, caller)
    assert removed["status"] == "none"
    assert removed["url"] is None
    assert removed["initials"]
    assert httpx.get(second["url"], timeout=10).status_code == 404
