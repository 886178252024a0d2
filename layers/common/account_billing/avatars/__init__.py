"""Avatars: the presigned upload, the checks of the uploaded bytes, publishing, removal, erasure.

The S3 layout, in one private bucket served through CloudFront:

    uploads/<sub>/<upload id>                  what a browser uploads (never served; expires in a day)
    avatars/<sub>/<upload id>/avatar.<ext>     a published avatar, re-encoded from the upload
    avatars/<sub>/<upload id>/thumbnail.<ext>  its thumbnail

Upload ids grow with time, so they order uploads; a published avatar's key carries the id of
the upload it came from, so its URL changes whenever the avatar does.

Modules: `keys` (the layout, pure), `state` (the avatar as stored on the profile, pure),
`store` (its DynamoDB access), `policy` (the presigned POST), `storage` (S3), `service` and
`models` (the HTTP routes), `validation` (what the S3-triggered validator does with an upload),
`erasure` (account deletion). `images` is the only module that imports Pillow: only the
validator imports it.
"""
