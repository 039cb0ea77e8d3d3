#!/usr/bin/env bash
# What the CI examples (Jenkinsfile, github-deploy.yml) run around `bluegreen`. Copy it to
# ci/bluegreen-ci.sh in the repository that holds deployments/.
#
#   ci/bluegreen-ci.sh install      pip-install the bluegreen that BLUEGREEN_PIP_SPEC pins, nothing that moves
#   ci/bluegreen-ci.sh check-state  refuse a spec whose locks and journals would live in the workspace
#   ci/bluegreen-ci.sh settle       after a failure, a stop or a cancel: wait (bounded) until this run's
#                                   deployment is rolled back; exit 3 when that cannot be shown
#
# Environment:
#   BLUEGREEN_PIP_SPEC  `bluegreen @ git+https://github.com/<org>/bluegreen@<commit>`: the full 40-hex commit
#                       of the release you reviewed (bluegreen is not on PyPI; a branch or a tag can be
#                       moved, a commit cannot)
#   SPEC                deployments/<service>.yaml
#   RUN_URL             this run, as bluegreen records who deployed (Jenkins: $BUILD_URL; GitHub Actions:
#                       <server>/<repository>/actions/runs/<run id>)
#   SETTLE_SECONDS      how long settle waits for a rollback in progress (default 900)
#   SETTLE_POLL_SECONDS how often it looks (default 10)
set -euo pipefail

install() {
  local pinned='^bluegreen @ git\+https://[^@ ]+@[0-9a-f]{40}$'
  if [[ ! ${BLUEGREEN_PIP_SPEC:-} =~ $pinned ]]; then
    echo "install: BLUEGREEN_PIP_SPEC must be 'bluegreen @ git+https://<host>/<org>/bluegreen@<40-hex commit>'," \
         "not '${BLUEGREEN_PIP_SPEC:-}'" >&2
    return 2
  fi
  python3 -m pip install --disable-pip-version-check --no-input "$BLUEGREEN_PIP_SPEC"
  bluegreen --version
}

check_state() {
  # A local state directory lives in the build's workspace: a second build (workspace@2, another agent,
  # another runner) sees neither the lock nor a paused deployment, and deploys behind its back.
  python3 - "$SPEC" <<'PY'
import sys

import yaml

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    state = (yaml.safe_load(f) or {}).get("state") or {}
backend = state.get("backend", "local")
if backend != "dynamodb":
    sys.exit(f"{path}: state.backend is {backend}: a CI workspace is private to one build, so locks and paused "
             "deployments kept there protect nothing; use `state: {backend: dynamodb, table: ...}`")
print(f"{path}: state in DynamoDB table {state.get('table')}: shared by every build")
PY
}

# "<status> ours|theirs" for the service's current deployment ("none theirs" when none is recorded).
current() {
  bluegreen status "$SPEC" --format json | python3 -c '
import json, os, sys
record = json.load(sys.stdin).get("deployment") or {}
ours = "(" + os.environ["RUN_URL"] + ")" in (record.get("who") or "")
print(record.get("status") or "none", "ours" if ours else "theirs")'
}

settle() {
  : "${RUN_URL:?RUN_URL must name this run, as bluegreen records it (BUILD_URL, or the Actions run URL)}"
  local deadline=$((SECONDS + ${SETTLE_SECONDS:-900})) poll=${SETTLE_POLL_SECONDS:-10} state code
  while :; do
    if ! state=$(current); then
      echo "settle: bluegreen status failed: the state of $SPEC is unknown; a person must look"
      return 3
    fi
    case "$state" in
      *" theirs")
        echo "settle: no deployment of this run is current ($state): nothing to undo"
        return 0 ;;
      "rolled-back ours")
        echo "settle: rolled back: production traffic is on the previous color"
        return 0 ;;
      "keeping-warm ours" | "succeeded ours")
        echo "settle: the deployment finished before it could be stopped: the new version is live" \
             "(\`bluegreen rollback $SPEC\` undoes it)"
        return 3 ;;
    esac
    if ((SECONDS >= deadline)); then
      echo "settle: after ${SETTLE_SECONDS:-900}s the deployment is still $state: a person must look" \
           "(\`bluegreen status $SPEC\`)"
      return 3
    fi
    # running, paused, rolling-back or rollback-failed, and ours: abort it. Exit 4 means the lock is held,
    # normally by the interrupted bluegreen still rolling back by itself, or, when that process died on
    # another machine, until its lease runs out: wait for it instead of killing it halfway.
    code=0
    bluegreen abort "$SPEC" --events json || code=$?
    case "$code" in
      0 | 2) ;;  # rolled back now, or finished meanwhile: the status, read again, says which
      1 | 4)
        echo "settle: bluegreen abort exited $code ($SPEC locked: the interrupted run still rolling back?):" \
             "waiting ${poll}s"
        sleep "$poll" ;;
      *)
        echo "settle: bluegreen abort exited $code: the state of $SPEC is unknown; a person must look"
        return 3 ;;
    esac
  done
}

case "${1:-}" in
  install) install ;;
  check-state) check_state ;;
  settle) settle ;;
  *) echo "usage: $0 install|check-state|settle" >&2; exit 2 ;;
esac
