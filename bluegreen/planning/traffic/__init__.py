"""The traffic side of a strategy: where production traffic is, and how it moves to the new color.

`listener`: weighted forward actions on listener default actions or rules (and a test listener);
`attachment`: attaching and detaching an Auto Scaling group to one target group or classic ELB;
`dns`: Route53 weighted records, each step held at least the record's TTL. Each side reads the live
color from what AWS routes now, and checks that the wiring is the one the spec claims.
"""
