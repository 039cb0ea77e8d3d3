"""State in CI: local state there shares nothing between builds, so a changing command says so, loudly.

A CI build runs in a workspace of its own (Jenkins `workspace@2`, another agent, a fresh GitHub
runner): a lock, a journal or a paused deployment kept in `.bluegreen/` there is invisible to the
next build, which can then deploy the idle color behind a pending approval. bluegreen warns (it does
not refuse: one dedicated agent with one persistent workspace is a valid set-up) and names the fix,
the DynamoDB backend in the spec's `state:` section.
"""

from __future__ import annotations

from typing import Any

from bluegreen.domain.spec import DynamoState, Spec, State


def state_backend(state: State) -> dict[str, Any]:
    """Where a spec's state lives, for `status --format json`: kind, and the table or the directory."""
    if isinstance(state, DynamoState):
        return {"kind": "dynamodb", "table": state.table, "fallback_directory": state.directory}
    return {"kind": "local", "directory": state.directory}


def local_state_warning(ci: str | None, spec: Spec, spec_path: str) -> str | None:
    """The warning for a changing command run in CI with local state; None when not in CI or state is shared."""
    if ci is None or isinstance(spec.state, DynamoState):
        return None
    return (f"WARNING: running in {ci} with local state ({spec.state.directory}/ in this workspace): another build, "
            "workspace or agent sees neither this lock nor a paused deployment, and can deploy behind it. Keep "
            f"state in DynamoDB: `state: {{backend: dynamodb, table: bluegreen-state}}` in {spec_path} "
            "(README, \"In CI\").")
