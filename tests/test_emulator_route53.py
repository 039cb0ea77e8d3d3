"""Route53 on the realistic emulator: a change is PENDING until it has propagated (30 s of the
world's clock), then INSYNC; a DNS cutover waits for it on the injected clock, not in real time."""

from __future__ import annotations

from bluegreen.cli.main import main

from test_emulator_deploy import seeded_world


def upsert(r53, zone: str, weight: int) -> dict:
    return r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": "api.example.com", "Type": "A", "SetIdentifier": "blue", "Weight": weight, "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.10"}]}}]})["ChangeInfo"]


def test_a_record_change_is_pending_then_insync_after_30_seconds_of_the_emulators_clock(realistic_aws):
    r53 = realistic_aws.client("route53")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"]["Id"]

    first, second = upsert(r53, zone, 100), upsert(r53, zone, 50)

    assert first["Status"] == second["Status"] == "PENDING" and first["Id"] != second["Id"]
    realistic_aws.advance(29)
    assert r53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "PENDING"
    realistic_aws.advance(1)
    assert r53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    assert r53.get_change(Id=first["Id"].rsplit("/", 1)[-1])["ChangeInfo"]["Status"] == "INSYNC"  # a bare id too


def test_a_dns_cutover_waits_for_each_change_to_be_insync_on_the_injected_clock(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path, _, _ = seeded_world(realistic_aws, workdir, "api")

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    shifts = [line for line in capsys.readouterr().out.splitlines() if "api.example.com:" in line and "done in" in line]
    assert len(shifts) >= 2 and all(line.endswith("INSYNC)") for line in shifts)
    assert all(float(line.split("done in ")[1].split("s")[0]) >= 30 for line in shifts)  # virtual seconds
