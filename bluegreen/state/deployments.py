"""Typed deployment records over any `Store`: the stores keep plain dicts, callers see `Deployment`s."""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import ValidationError

from bluegreen.domain.deployment import Deployment
from bluegreen.errors import InvalidInput
from bluegreen.state.store import Store


class DeploymentRecords:
    """One service's deployment records, its `current` pointer and its history, in `store`."""

    def __init__(self, store: Store, service: str) -> None:
        self.store = store
        self.service = service

    def current(self) -> Deployment | None:
        """The in-flight or latest deployment, or None before the first one."""
        return self._load(self.store.current(self.service))

    def get(self, deployment_id: str) -> Deployment | None:
        return self._load(self.store.get_deployment(self.service, deployment_id))

    def start(self, record: Deployment) -> None:
        """Keep a new deployment and make it the current one."""
        self.save(record)
        self.store.set_current(self.service, record.id)

    def save(self, record: Deployment) -> None:
        self.store.put_deployment(self.service, record.to_record())

    def append_history(self, entry: Mapping[str, Any]) -> None:
        self.store.append_history(self.service, entry)

    def history(self, limit: int = 20) -> list[dict[str, Any]]:
        return self.store.history(self.service, limit=limit)

    def _load(self, raw: Mapping[str, Any] | None) -> Deployment | None:
        if raw is None:
            return None
        try:
            return Deployment.from_record(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(map(str, first["loc"])) or "record"
            name = raw.get("id") or raw.get("deployment_id") or "?"
            raise InvalidInput(f"{self.service}: the deployment record {name} in the {self.store.name} store "
                               f"cannot be read ({where}: {first['msg']})") from None
