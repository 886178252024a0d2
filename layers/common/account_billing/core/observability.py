"""Logger and Metrics shared by every function (service name and namespace come from the
environment: POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE)."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()

# Metrics are recorded on business events only (an account created, a hold released...): a read
# records none, and Powertools would warn about it on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
