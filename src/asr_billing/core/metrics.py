"""/metrics in the Prometheus text format (prometheus-client).

Two kinds of figures:

- **Counted as they happen** in the server processes: requests by endpoint group, method
  and status, their latency, payments and their amounts by operator. Under
  ``asr-billing serve`` every gunicorn worker writes them to files in
  ``var/metrics`` (prometheus-client's multiprocess mode, set up by cmd_serve before the
  app loads); a scrape, whichever worker answers it, sums all workers. Restarting the
  server starts them from zero, which Prometheus's ``rate()`` expects of counters.
- **Read from the database at scrape time**: subscribers by state, open RADIUS sessions,
  background tasks by name and state, the last billing run. A few aggregate queries per
  scrape (the subscriber count scans the table: ~0.1 s at 1,000,000 subscribers).

Only ``app['metrics.allowed_ips']`` may read it (X-Forwarded-For from trusted proxies).
"""

from __future__ import annotations

import glob
import os
import time

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from asr_billing.core import runtime
from asr_billing.core.config import networks_contain, parse_networks

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("asr_http_requests", "HTTP requests answered",
                   ["group", "method", "status"])
LATENCY = Histogram("asr_http_request_duration_seconds", "Time to answer a request",
                    ["group"], buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
PAYMENTS = Counter("asr_payments", "Payments posted (replays not counted)", ["operator"])
PAYMENT_AMOUNT = Counter("asr_payments_amount_roubles", "Sum of the payments posted",
                         ["operator"])
REPLICA_READS = Counter("asr_replica_routed_reads", "Reads that could go to the read "
                        "replica, by where they went (core/replica.py)", ["to"])

# Path prefix -> endpoint group (the label stays small whatever the URL).
GROUPS = (
    ("/system_api/", "system_api"), ("/rest_api/", "rest_v2"), ("/api/v1/", "api_v1"),
    ("/radius/", "radius"), ("/pay/", "gateways"), ("/cabinet/", "cabinet"),
    ("/admin/", "admin"), ("/static/", "static"), ("/metrics", "metrics"),
    ("/health", "health"), ("/ready", "health"),
)
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def group_of(path: str) -> str:
    for prefix, name in GROUPS:
        if path.startswith(prefix):
            return name
    return "other"


def observe_request(path: str, method: str, status: int, seconds: float) -> None:
    group = group_of(path)
    REQUESTS.labels(group, method if method in METHODS else "other", str(status)).inc()
    LATENCY.labels(group).observe(seconds)


def observe_payment(operator: str | None, amount) -> None:
    """Called by payment_register for a payment it posted (not for a replay)."""
    label = (operator or "none")[:64]
    PAYMENTS.labels(label).inc()
    PAYMENT_AMOUNT.labels(label).inc(float(amount))


def observe_replica_read(to_replica: bool) -> None:
    """One routing decision of a read that may go to the replica (not one list)."""
    REPLICA_READS.labels("replica" if to_replica else "primary").inc()


class MetricsMiddleware:
    """First in the chain: times every request and counts its answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        observe_request(request.path, request.method, response.status_code,
                        time.perf_counter() - started)
        return response


class DatabaseCollector:
    """Gauges read from the database when /metrics is scraped."""

    def collect(self):
        from django.db.models import Count, Q

        from asr_billing.billing.models import BillingRun
        from asr_billing.core.models import Task
        from asr_billing.network.models import OnlineSession
        from asr_billing.subscribers.models import Subscriber

        states = Subscriber.objects.aggregate(
            n_total=Count("pk"),
            n_negbal=Count("pk", filter=Q(negbal=True)),
            n_admin_blocked=Count("pk", filter=Q(admin_blocked=True)),
            n_voluntary_blocked=Count("pk", filter=Q(voluntary_blocked=True)),
            n_active=Count("pk", filter=Q(negbal=False, admin_blocked=False,
                                          voluntary_blocked=False)),
        )
        family = GaugeMetricFamily("asr_subscribers", "Subscribers by state (one may be in "
                                   "several: blocked and below the threshold)", labels=["state"])
        for state in ("total", "active", "negbal", "admin_blocked", "voluntary_blocked"):
            family.add_metric([state], states[f"n_{state}"])
        yield family

        yield GaugeMetricFamily("asr_sessions_open", "Open RADIUS sessions",
                                value=OnlineSession.objects.filter(stopped_at__isnull=True)
                                .count())

        tasks = GaugeMetricFamily("asr_tasks", "Background tasks (CoA, disconnects, billing "
                                  "runs) by name and state", labels=["name", "state"])
        for row in Task.objects.values("name", "state").annotate(n=Count("pk")):
            tasks.add_metric([row["name"], row["state"]], row["n"])
        yield tasks

        run = BillingRun.objects.order_by("-started_at", "-pk").first()
        last = {
            "asr_billing_run_last_started_timestamp_seconds": "Start of the last charging run",
            "asr_billing_run_last_duration_seconds": "Duration of the last finished run",
            "asr_billing_run_last_charges": "Charges made by the last run",
            "asr_billing_run_last_errors": "Errors of the last run",
        }
        values = {}
        if run is not None:
            values = {
                "asr_billing_run_last_started_timestamp_seconds": run.started_at.timestamp(),
                "asr_billing_run_last_charges": run.charges_made,
                "asr_billing_run_last_errors": run.errors,
            }
            if run.finished_at is not None:
                values["asr_billing_run_last_duration_seconds"] = (
                    run.finished_at - run.started_at).total_seconds()
        for name, text in last.items():
            if name in values:
                yield GaugeMetricFamily(name, text, value=values[name])

        from asr_billing.core import replica

        verdict = replica.current_fitness()
        if verdict is not None:
            yield GaugeMetricFamily("asr_replica_usable", "1 while the read replica takes "
                                    "the heavy lists, 0 while they go to the primary",
                                    value=1 if verdict.usable else 0)
            if verdict.lag is not None:
                yield GaugeMetricFamily("asr_replica_lag_seconds", "How far the read "
                                        "replica is behind: 0 when it has replayed all it "
                                        "received, else the age of its last replayed "
                                        "transaction", value=verdict.lag)


class _WorkerFiles:
    """The counters every worker wrote: this server's (PROMETHEUS_MULTIPROC_DIR) and those
    of each ``asr-billing radius serve`` on the same home (var/metrics-radius/<address>/),
    the latter labelled server="radius". Each server empties only its own folder when it
    starts, so a restart of one must not look like a partial reset of the other's series:
    hence the label rather than one sum."""

    def __init__(self, own: str, radius: str | None):
        self.own = own
        self.radius = radius

    @staticmethod
    def _merge(pattern: str):
        from prometheus_client import multiprocess

        # A radius serve that restarts empties its folder: a file listed a moment ago may
        # be gone when it is read. Listed again then; after three tries, left out.
        for _attempt in range(3):
            try:
                return multiprocess.MultiProcessCollector.merge(
                    sorted(glob.glob(pattern)), accumulate=True)
            except FileNotFoundError:
                continue
        return []

    def collect(self):
        families = {}
        for metric in self._merge(os.path.join(self.own, "*.db")):
            families[metric.name] = metric
        if self.radius is not None:
            for metric in self._merge(os.path.join(self.radius, "*", "*.db")):
                samples = [sample._replace(labels={**sample.labels, "server": "radius"})
                           for sample in metric.samples]
                if metric.name in families:
                    families[metric.name].samples.extend(samples)
                else:
                    metric.samples = samples
                    families[metric.name] = metric
        return list(families.values())


def _worker_files() -> _WorkerFiles:
    from django.conf import settings

    from asr_billing.radius.serve import METRICS_FOLDER

    own = os.environ[MULTIPROC_ENV]
    radius = str(settings.ASR_HOME.var_dir / METRICS_FOLDER)
    # radius serve's own /metrics (it has none today) would read its folder only.
    inside = os.path.abspath(own).startswith(os.path.abspath(radius) + os.sep)
    return _WorkerFiles(own, None if inside else radius)


def _registry() -> CollectorRegistry:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        registry.register(_worker_files())
    else:
        registry = CollectorRegistry()
        for collector in (REQUESTS, LATENCY, PAYMENTS, PAYMENT_AMOUNT, REPLICA_READS):
            registry.register(collector)
    registry.register(DatabaseCollector())
    return registry


@never_cache
def metrics(request):
    from asr_billing.system_api.access import client_ip

    snapshot = runtime.current()
    ip = client_ip(request.META, snapshot)
    allowed = parse_networks(snapshot.get("app", "metrics.allowed_ips"))
    if not networks_contain(allowed, ip):
        return HttpResponse(f"{ip[:64]} may not read /metrics (app['metrics.allowed_ips'])\n",
                            status=403, content_type="text/plain; charset=utf-8")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
