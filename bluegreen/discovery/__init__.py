"""Live state -> frozen `Snapshot`, the pure half: no boto3, botocore or adapter import here.

    raw.py        `RawState`: the AWS answers, keyed for lookup (filled by `bluegreen.adapters.aws.reads`)
    names.py      what a spec names and how AWS spells it (shared with the reads)
    assemble.py   (spec, RawState, image tag, region) -> Snapshot; `offline_snapshot`
    traffic.py    load balancers, listeners, rules, target groups, classic ELB, DNS records
    compute.py    ECS services and task definitions; Auto Scaling groups and launch templates
    references.py image, alarms, roles, secret references, image parameters
    gaps.py       the findings: missing, unusable, or unreadable (naming the failed call)

`bluegreen.app.discover.discover` wires the reads and the assembly together.
"""
