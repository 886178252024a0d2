"""Errors of email addresses and their verification."""

from __future__ import annotations

from account_billing.core.errors import ServiceError


class EmailNotFound(ServiceError):
    status = 404
    kind = "email-not-found"
    title = "The account has no such address"


class EmailAlreadyAdded(ServiceError):
    status = 409
    kind = "email-already-added"
    title = "The address is already on this account"


class EmailTaken(ServiceError):
    status = 409
    kind = "email-taken"
    title = "Another account has verified this address"


class EmailLimitReached(ServiceError):
    status = 409
    kind = "email-limit-reached"
    title = "The account has as many addresses as it may have"


class EmailNotVerified(ServiceError):
    status = 409
    kind = "email-not-verified"
    title = "The address is not verified"


class PrimaryEmailRemoval(ServiceError):
    status = 409
    kind = "primary-email-removal"
    title = "The primary address cannot be removed"


class LastVerifiedEmailRemoval(ServiceError):
    status = 409
    kind = "last-verified-email-removal"
    title = "The last verified address cannot be removed"


class InvalidVerificationToken(ServiceError):
    status = 422
    kind = "invalid-verification-token"
    title = "The verification link is not valid"


class VerificationTokenExpired(ServiceError):
    status = 422
    kind = "verification-token-expired"
    title = "The verification link has expired"


class EmailDeliveryFailed(ServiceError):
    status = 502
    kind = "email-delivery-failed"
    title = "The email could not be sent"
