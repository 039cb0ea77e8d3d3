"""boto3 sessions and clients, made in one place.

Every client honours `--endpoint-url` / `AWS_ENDPOINT_URL` (the local emulator), uses botocore's
own retry modes for throttling, and can have every operation recorded (for the read-only proof,
the calls-per-deploy benchmark and the IAM policy check).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bluegreen.adapters.aws.td_cache import TaskDefinitions, cache_dir


@dataclass
class CallLog:
    """Every AWS operation made through an `Aws`, as `service:Operation` strings, in order."""

    calls: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)

    def counts(self) -> Counter[str]:
        return Counter(self.calls)

    def __len__(self) -> int:
        return len(self.calls)


# How long a service discovery read stands in for the read before its first update: the plan-to-first-
# update gap of a deploy (seconds), never a bake or a keep-warm wait, after which it would be stale.
SEEN_SERVICE_TTL = 60.0

# How long discovery's alarm states stand in for the pre-flight alarm check (seconds): the plan-to-first-
# step gap of a deploy. Taken once: every later alarm gate (the bakes) reads the alarms again.
SEEN_ALARMS_TTL = 10.0

# IAM's service prefix differs from botocore's service name for a few services.
_IAM_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "monitoring": "cloudwatch",
               "cloudwatch": "cloudwatch", "autoscaling": "autoscaling", "route53": "route53"}


_LOADER: Any = None
_LOADER_LOCK = threading.Lock()


def _botocore_session() -> Any:
    """A new botocore session that shares this process's one model loader.

    Service models are read-only data and botocore's loader keeps every file it has parsed, so a
    shared loader parses each model (EC2's is megabytes of JSON) once per process however many
    sessions are made: one per region, per assumed role, per run of an embedding program.
    """
    global _LOADER
    import botocore.loaders
    import botocore.session

    with _LOADER_LOCK:
        if _LOADER is None:
            _LOADER = botocore.loaders.create_loader()
    session = botocore.session.Session()
    session.register_component("data_loader", _LOADER)
    return session


def _boto3_session(**kwargs: Any) -> Any:
    import boto3

    session = boto3.Session(botocore_session=_botocore_session(), **kwargs)
    with _LOADER_LOCK:  # boto3 appends its own data folder to the (shared) loader's path each time
        paths = _LOADER.search_paths
        paths[:] = list(dict.fromkeys(paths))
    return session


class Aws:
    """A lazily built boto3 session plus a cache of clients for one region."""

    def __init__(
        self,
        region: str | None = None,
        *,
        endpoint_url: str | None = None,
        profile: str | None = None,
        role_arn: str | None = None,
        retry_mode: str = "standard",
        max_attempts: int = 5,
        log: CallLog | None = None,
        task_definitions: TaskDefinitions | None = None,
    ) -> None:
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.profile = profile
        self.role_arn = role_arn
        self.retry_mode = retry_mode
        self.max_attempts = max_attempts
        self.log = log if log is not None else CallLog()
        self.task_definitions = (task_definitions if task_definitions is not None
                                 else TaskDefinitions(cache_dir(os.environ, self.endpoint_url)))
        # ECS services as discovery just read them, each taken once by the first update (see `take_service`)
        self._seen_services: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._seen_alarms: dict[str, tuple[float, str]] = {}  # alarm name -> (when, StateValue), see `take_alarms`
        self._clients: dict[str, Any] = {}
        self.max_pool_connections = 10  # botocore's default; discovery raises it with its threads
        self._session: Any = None
        self._lock = threading.Lock()

    def for_region(self, region: str) -> "Aws":
        if region == self.region:
            return self
        return Aws(region, endpoint_url=self.endpoint_url, profile=self.profile, role_arn=self.role_arn,
                   retry_mode=self.retry_mode, max_attempts=self.max_attempts, log=self.log,
                   task_definitions=self.task_definitions)

    def want_connections(self, n: int) -> None:
        """Keep `n` connections per client (for clients made from now on): one per thread that calls."""
        with self._lock:
            self.max_pool_connections = max(self.max_pool_connections, n)

    def saw_service(self, cluster: str, service: dict[str, Any]) -> None:
        """Remember a service as discovery read it: the first update of this run needs no second read."""
        with self._lock:
            self._seen_services[(cluster, service["serviceName"])] = (time.monotonic(), service)

    def take_service(self, cluster: str, name: str) -> dict[str, Any] | None:
        """The service as discovery read it, once and while fresh; None after that (the update reads it again)."""
        with self._lock:
            seen = self._seen_services.pop((cluster, name), None)
        if seen is None or time.monotonic() - seen[0] > SEEN_SERVICE_TTL:
            return None
        return seen[1]

    def saw_alarms(self, states: dict[str, str]) -> None:
        """Remember alarm states as discovery read them: the deploy's pre-flight check needs no second read."""
        now = time.monotonic()
        with self._lock:
            self._seen_alarms.update({name: (now, state) for name, state in states.items()})

    def take_alarms(self, names: list[str]) -> dict[str, str] | None:
        """The states of all of `names` as discovery read them, once and while fresh; None when one of
        them was not read or is stale (the caller reads them again)."""
        with self._lock:
            seen = {name: self._seen_alarms.pop(name, None) for name in names}
        if any(s is None or time.monotonic() - s[0] > SEEN_ALARMS_TTL for s in seen.values()):
            return None
        return {name: s[1] for name, s in seen.items() if s is not None}

    def _make_session(self) -> Any:
        session = _boto3_session(profile_name=self.profile, region_name=self.region)
        if not self.role_arn:
            return session
        sts = session.client("sts", endpoint_url=self.endpoint_url, region_name=self.region)
        creds = sts.assume_role(RoleArn=self.role_arn, RoleSessionName="bluegreen")["Credentials"]
        return _boto3_session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.region,
        )

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                from botocore.config import Config

                if self._session is None:
                    self._session = self._make_session()
                config = Config(retries={"mode": self.retry_mode, "max_attempts": self.max_attempts},
                                connect_timeout=5, read_timeout=30, max_pool_connections=self.max_pool_connections)
                client = self._session.client(service, endpoint_url=self.endpoint_url,
                                              region_name=self.region, config=config)
                client.meta.events.register("before-call.*.*", self._on_call)
                self._clients[service] = client
            return self._clients[service]

    def _on_call(self, model: Any, **_: Any) -> None:
        self.log.record(f"{model.service_model.service_name}:{model.name}")


# ... and the action name differs from the operation's for a few operations.
_IAM_OPERATION = {"lambda:Invoke": "InvokeFunction"}


def iam_action(call: str) -> str:
    """`elbv2:ModifyListener` -> `elasticloadbalancing:ModifyListener` (the IAM action name)."""
    service, operation = call.split(":", 1)
    operation = _IAM_OPERATION.get(call, operation)
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


READ_ONLY_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Lookup", "Head", "Search", "Test")


def is_read_only(call: str) -> bool:
    operation = call.split(":", 1)[1]
    return operation.startswith(READ_ONLY_PREFIXES) and operation != "GetAuthorizationToken"
