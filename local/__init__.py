"""The embedded local stack: the service's real handlers on an in-process AWS (moto)."""
