"""The hourly sweeper: releases every hold that is due and still open, so a lost or failed
schedule never leaves money held.

It reads the sparse `HoldsDue` index (never a Scan), page by page, and releases holds on a pool
of threads; the gateway's rate limiter keeps Stripe calls under the configured rate and slows
down on 429. It stops taking new holds while there is still time to finish the ones in flight
before the Lambda timeout; whatever is left waits for the next run.

Each run ends by publishing `OldestDueHoldAgeSeconds`: how long ago the release time of the
oldest hold still unreleased passed (0 when none is due), the measure the holds-overdue alarm
watches (DESIGN §6: every hold is released well inside seven days).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from account_billing.billing.holds.release import HoldReleaser, ReleaseReport
from account_billing.billing.holds.store import HoldStore
from account_billing.core.clock import Clock, parse_timestamp, utc_now
from account_billing.core.observability import logger, metrics

# Time kept in reserve for the releases in flight when the sweeper stops taking new ones: a
# release is a few Stripe calls, each bounded by the gateway's timeouts and retries.
STOP_MARGIN_MS = 30_000


def workers_for(rate: float) -> int:
    """Threads enough to keep `rate` Stripe calls a second busy through Stripe's latency
    (a few hundred milliseconds a call), within what one Lambda sensibly runs."""
    return max(2, min(32, math.ceil(rate)))


@dataclass
class SweepReport:
    due: int = 0  # due holds read from the index
    released: int = 0
    skipped: int = 0  # released meanwhile, or being released by another
    failed: int = 0  # Stripe unavailable: left for the next run
    stopped_early: bool = False
    oldest_due_age_seconds: int = 0  # after the run: how long the oldest unreleased due hold has waited
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, report: ReleaseReport) -> None:
        if report.result == "released":
            self.released += 1
            key = report.outcome.value if report.outcome else "unknown"
            self.outcomes[key] = self.outcomes.get(key, 0) + 1
        elif report.result == "skipped":
            self.skipped += 1
        else:
            self.failed += 1


class Sweeper:
    def __init__(
        self,
        holds: HoldStore,
        releaser: HoldReleaser,
        *,
        workers: int = 8,
        clock: Clock = utc_now,
    ) -> None:
        self.holds = holds
        self.releaser = releaser
        self.workers = max(1, workers)
        self.clock = clock

    def sweep(self, remaining_ms: Callable[[], int], margin_ms: int = STOP_MARGIN_MS) -> SweepReport:
        report = SweepReport()
        lock = threading.Lock()

        def settle(done: set[Future[ReleaseReport]]) -> None:
            for future in done:
                try:
                    outcome = future.result()
                except Exception:  # one hold's unexpected failure must not stop the others
                    logger.exception("Hold release raised")
                    outcome = ReleaseReport("failed")
                with lock:
                    report.add(outcome)

        inflight: set[Future[ReleaseReport]] = set()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="sweeper") as pool:
            for hold in self.holds.due(self.clock()):
                if remaining_ms() < margin_ms:
                    report.stopped_early = True
                    break
                report.due += 1
                if len(inflight) >= 2 * self.workers:
                    done, inflight = wait(inflight, return_when=FIRST_COMPLETED)
                    settle(done)
                inflight.add(pool.submit(self.releaser.release_due, hold))
            settle(set(wait(inflight).done))
        metrics.add_metric(name="HoldReleased", unit="Count", value=report.released)
        if report.failed:
            metrics.add_metric(name="HoldReleaseFailed", unit="Count", value=report.failed)
        report.oldest_due_age_seconds = self.oldest_due_age_seconds()
        metrics.add_metric(name="OldestDueHoldAgeSeconds", unit="Seconds", value=report.oldest_due_age_seconds)
        logger.info(
            "Sweep done",
            extra={
                "due": report.due,
                "released": report.released,
                "skipped": report.skipped,
                "failed": report.failed,
                "stopped_early": report.stopped_early,
                "oldest_due_age_seconds": report.oldest_due_age_seconds,
            },
        )
        return report

    def oldest_due_age_seconds(self) -> int:
        """Seconds since the release time of the oldest unreleased hold (0 when none is due)."""
        now = self.clock()
        oldest = self.holds.oldest_due(now)
        if oldest is None:
            return 0
        return max(0, int((now - parse_timestamp(oldest.release_at)).total_seconds()))
