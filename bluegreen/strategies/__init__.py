"""One module per deployment strategy; each turns (spec, snapshot, image) into steps.

Shared mechanics (bringing up an ECS service or an Auto Scaling group on a new version, moving
traffic in steps with bake gates, keep-warm and scale-down) live in `common`.
"""
