"""The hourly sweeper: puts every hold that is due and still open on the queue of background
Stripe work (`billing.tasks`), so a lost or failed schedule never leaves money held.

It reads the sparse `HoldsDue` index (never a Scan): every partition of it at once, on its own
thread, page by page, oldest first, and queues what it finds ten at a time. The queue's workers
release them at the background share of Stripe's rate, as they release what the schedules
queue; a hold queued twice (by its schedule and by the sweeper) is released once, because a
release claims its hold first. The sweeper stops queueing while there is still time before the
Lambda timeout; whatever is left is the next run's.

Each run reports the age of the oldest due hold still open (`OldestDueHoldAgeSeconds`): the
alarm on it says when releases fall behind the promise that every hold goes within its window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from account_billing.billing.holds.records import due_partitions
from account_billing.billing.holds.store import HoldStore
from account_billing.billing.tasks import MAX_SEND_BATCH, StripeTask, TaskQueue, release_task
from account_billing.core.clock import Clock, parse_timestamp, utc_now
from account_billing.core.observability import logger, metrics

# Time kept in reserve when the sweeper stops queueing: the pages and sends in flight finish
# well within it.
STOP_MARGIN_MS = 30_000


@dataclass
class PartitionSweep:
    """What the sweep of one partition of the due index found and queued."""

    partition: str
    due: int = 0  # due holds read from the index
    queued: int = 0
    stopped_early: bool = False
    oldest_release_at: datetime | None = None


@dataclass
class SweepReport:
    due: int = 0
    queued: int = 0
    stopped_early: bool = False
    oldest_due_age_seconds: float = 0.0  # how long the oldest due hold still open has been due
    partitions: list[PartitionSweep] = field(default_factory=list)


class Sweeper:
    def __init__(
        self,
        holds: HoldStore,
        queue: TaskQueue,
        *,
        clock: Clock = utc_now,
        partitions: Sequence[str] | None = None,
    ) -> None:
        self.holds = holds
        self.queue = queue
        self.clock = clock
        self.partitions = list(partitions) if partitions is not None else due_partitions()

    def sweep(self, remaining_ms: Callable[[], int], margin_ms: int = STOP_MARGIN_MS) -> SweepReport:
        now = self.clock()

        def sweep_partition(partition: str) -> PartitionSweep:
            return self._sweep_partition(partition, now, lambda: remaining_ms() < margin_ms)

        with ThreadPoolExecutor(len(self.partitions), thread_name_prefix="sweeper") as pool:
            swept = list(pool.map(sweep_partition, self.partitions))
        oldest = min((s.oldest_release_at for s in swept if s.oldest_release_at), default=None)
        report = SweepReport(
            due=sum(s.due for s in swept),
            queued=sum(s.queued for s in swept),
            stopped_early=any(s.stopped_early for s in swept),
            oldest_due_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
            partitions=swept,
        )
        metrics.add_metric(name="HoldReleasesQueued", unit="Count", value=report.queued)
        metrics.add_metric(name="OldestDueHoldAgeSeconds", unit="Seconds", value=report.oldest_due_age_seconds)
        logger.info(
            "Sweep done",
            extra={
                "due": report.due,
                "queued": report.queued,
                "stopped_early": report.stopped_early,
                "oldest_due_age_seconds": report.oldest_due_age_seconds,
            },
        )
        return report

    def _sweep_partition(self, partition: str, now: datetime, out_of_time: Callable[[], bool]) -> PartitionSweep:
        swept = PartitionSweep(partition)
        pending: list[StripeTask] = []

        def flush() -> None:
            self.queue.send(pending)
            swept.queued += len(pending)
            pending.clear()

        for hold in self.holds.due(partition, now):
            if out_of_time():
                swept.stopped_early = True
                break
            if swept.oldest_release_at is None:  # the index is ordered by release time
                swept.oldest_release_at = parse_timestamp(hold.release_at)
            swept.due += 1
            pending.append(release_task(hold.sub, hold.hold_id))
            if len(pending) == MAX_SEND_BATCH:
                flush()
        if pending:
            flush()
        return swept
