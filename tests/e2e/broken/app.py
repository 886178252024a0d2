"""A throwaway function whose init fails, for the local stack's own tests."""

raise RuntimeError("this function fails at import time")
