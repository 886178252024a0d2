"""Data export (issue 17, the right to data portability): `POST /v1/account/exports` starts an
export of everything the service keeps of the account (`service`); the export function builds
it into one ZIP in S3, streamed in parts and resumable from its last part (`worker`, `archive`,
`sections`), and emails a link; `GET /v1/account/exports/{id}` shows its progress and, once
ready, a short-lived download URL. Archives expire after 7 days (the bucket's lifecycle); the
account's erasure removes its exports (`erasure`)."""
