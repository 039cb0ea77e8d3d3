"""bluegreen: blue/green deployments of containerised services to AWS.

Where each idea lives (the stages in order; `domain` and `planning` never touch AWS):

    specfiles/   YAML spec files -> validated `Spec` (line numbers, JSON Schema, reference)
    domain/      the data: spec, colors, durations, snapshot, steps, plan, identity, deployment record
    discovery/   live state -> frozen `Snapshot` (read-only)
    planning/    spec + snapshot -> `Plan` (pure): strategies = compute side (ecs, asg) x traffic side
                 (listener, attachment, dns), gates, shift mechanics, pre-flight checks, budgets
    execution/   runs a plan: the runner (loop, pause, keep-warm, rollback), step dispatch, gates,
                 hooks (command, Lambda, one-off ECS task), notifications (SNS, EventBridge, webhook)
    state/       locks, journals, deployment records, history (local files; a Store protocol)
    adapters/    the only code that imports boto3, botocore or docker (AWS, ECR, Docker engine)
    app/         the run context and the use cases (deploy, rollback, status, ...)
    cli/         the command line and its renderers (text, Markdown, JSON)
    iam/         the least-privilege policy a spec needs
    local/       the embedded local AWS for the demo and tests (the [local] extra)
"""

__version__ = "0.1.0"
