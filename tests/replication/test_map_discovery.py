"""Discovery as a pure function over cluster scans: which edges exist, from which cluster of the
organization (never another one), joined with the console's mirror rows and DR pairs, and what a
console mirror is when its target is down, gone, promoted or still being made."""

from __future__ import annotations

import uuid

from core.db.models import DrPair, Mirror, NatsCluster
from core.replication.topology import ClusterScan, World, discover


def cluster(name: str, domain: str | None) -> NatsCluster:
    return NatsCluster(
        id=uuid.uuid4(), name=name, environment="development", jetstream_domain=domain
    )


def stream(name: str, **config) -> dict:
    return {"config": {"name": name, **config}, "state": {"last_seq": 10, "first_seq": 1}}


def mirror_of(source: str, api: str | None = None) -> dict:
    return {"name": source, **({"external": {"api": api}} if api else {})}


HUB, DR, EU = cluster("hub", "hub"), cluster("dr", "dr"), cluster("eu", None)


def scans(**reachable: dict) -> dict:
    return {
        c.id: ClusterScan(
            c,
            c.name in reachable,
            None if c.name in reachable else "down",
            reachable.get(c.name, {}),
        )
        for c in (HUB, DR, EU)
    }


def row(source: str, target: str, state: str = "active", pair: DrPair | None = None) -> Mirror:
    return Mirror(
        id=uuid.uuid4(),
        source_cluster_id=HUB.id,
        source_stream=source,
        target_cluster_id=DR.id,
        target_stream=target,
        consumer_name="jsc_mirror_x",
        spec={"filter_subjects": ["orders.eu.>"]},
        state=state,
        pair_id=pair.id if pair else None,
    )


def test_edges_across_domains_within_a_cluster_and_to_an_unknown_domain():
    world = World([HUB, DR, EU], [], [])
    edges = discover(
        world,
        scans(
            hub={
                "ORD": stream("ORD", subjects=["orders.>"]),
                "AGG": stream("AGG", sources=[{"name": "ORD"}, mirror_of("X", "$JS.far.API")]),
            },
            dr={
                "ORD_M": stream("ORD_M", mirror=mirror_of("ORD", "$JS.hub.API")),
                "ODD": stream("ODD", mirror=mirror_of("ORD", "ACME.JS.API")),
            },
            eu={"LOCAL_M": stream("LOCAL_M", mirror=mirror_of("L"))},
        ),
    )
    found = {(e.kind, e.target.name, e.target_stream, e.source_stream): e for e in edges}
    assert len(found) == 5
    cross = found[("mirror", "dr", "ORD_M", "ORD")]
    assert (cross.source_cluster, cross.source_domain, cross.problem) == (HUB, "hub", "")
    within = found[("source", "hub", "AGG", "ORD")]
    assert (within.source_cluster, within.source_domain) == (HUB, "hub")
    far = found[("source", "hub", "AGG", "X")]
    assert (far.source_cluster, far.source_domain) == (None, "far")  # no cluster of ours there
    odd = found[("mirror", "dr", "ODD", "ORD")]
    assert odd.source_cluster is None and "names no JetStream domain" in odd.problem
    local = found[("mirror", "eu", "LOCAL_M", "L")]
    assert (local.source_cluster, local.source_domain) == (EU, None)


def test_another_organizations_cluster_is_never_the_source():
    # This organization has only dr: hub (the same server another tenant registered) is unknown.
    world = World([DR], [], [])
    only_dr = {
        DR.id: ClusterScan(
            DR, True, None, {"ORD_M": stream("ORD_M", mirror=mirror_of("ORD", "$JS.hub.API"))}
        )
    }
    (edge,) = discover(world, only_dr)
    assert (edge.source_cluster, edge.source_domain, edge.row, edge.pair) == (
        None,
        "hub",
        None,
        None,
    )


def test_console_rows_and_pairs_are_joined():
    pair = DrPair(
        id=uuid.uuid4(),
        name="p",
        primary_cluster_id=HUB.id,
        standby_cluster_id=DR.id,
        active_cluster_id=HUB.id,
        streams=[{"stream": "ORD", "mirror_stream": "ORD_M"}, {"stream": "PAY"}],
    )
    made = row("ORD", "ORD_M")
    world = World([HUB, DR], [made], [pair])
    edges = discover(
        world,
        scans(
            hub={"ORD": stream("ORD"), "PAY": stream("PAY")},
            dr={
                "ORD_M": stream("ORD_M", mirror=mirror_of("ORD", "$JS.hub.API")),
                "PAY": stream("PAY", mirror=mirror_of("PAY", "$JS.hub.API")),
                "OTHER": stream("OTHER", mirror=mirror_of("ORD", "$JS.hub.API")),
            },
        ),
    )
    by_target = {e.target_stream: e for e in edges}
    assert by_target["ORD_M"].row is made and by_target["ORD_M"].pair is pair
    assert by_target["ORD_M"].filter_subjects == ["orders.eu.>"]  # from the row's request
    assert by_target["PAY"].row is None and by_target["PAY"].pair is pair  # by the pair's names
    assert by_target["OTHER"].pair is None


def test_a_console_mirror_is_an_edge_whatever_its_target_says():
    down, gone, promoted, creating, failed = (
        row("A", "A_M"),
        row("B", "B_M"),
        row("C", "C_M"),
        row("D", "D_M", state="creating"),
        row("E", "E_M", state="failed"),
    )
    world = World([HUB, DR], [down, gone, promoted, creating, failed], [])
    unreachable = discover(World([HUB, DR], [down], []), scans(hub={"A": stream("A")}))
    assert [(e.target_stream, e.target_reachable, e.absent) for e in unreachable] == [
        ("A_M", False, "")
    ]
    edges = {
        e.target_stream: e
        for e in discover(
            world,
            scans(
                hub={},
                dr={
                    "A_M": stream("A_M", mirror=mirror_of("A", "$JS.hub.API")),
                    "C_M": stream("C_M", subjects=["c.>"]),
                },
            ),
        )
    }
    assert edges["A_M"].row is down and not edges["A_M"].absent
    assert "not on 'dr' any more" in edges["B_M"].absent
    assert "no longer a mirror" in edges["C_M"].absent
    assert edges["D_M"].absent == "the mirror is being created"
    assert "could not be created" in edges["E_M"].absent


def test_a_cluster_that_is_down_keeps_the_edges_it_had():
    world = World([HUB, DR], [], [])
    seen = scans(hub={"ORD": stream("ORD")})
    seen[DR.id].remembered = {"ORD_P": {"name": "ORD_P", "mirror": mirror_of("ORD", "$JS.hub.API")}}
    (edge,) = discover(world, seen)
    assert (edge.target_stream, edge.target_reachable, edge.source_cluster, edge.row) == (
        "ORD_P",
        False,
        HUB,
        None,
    )


def test_a_console_mirror_on_a_server_registered_twice_is_one_edge_from_its_row():
    # The organization registered hub and dr twice each (another name, the same servers): the
    # mirror made from hub2 to dr2 is one edge, its source the registration it was made from.
    hub2 = NatsCluster(
        id=uuid.uuid4(),
        name="a-hub-again",
        environment="development",
        jetstream_domain="hub",
        server_identity="hub-server",
    )
    dr2 = NatsCluster(
        id=uuid.uuid4(),
        name="dr-again",
        environment="development",
        jetstream_domain="dr",
        server_identity="dr-server",
    )
    hub = NatsCluster(
        id=uuid.uuid4(),
        name="hub",
        environment="development",
        jetstream_domain="hub",
        server_identity="hub-server",
    )
    dr = NatsCluster(
        id=uuid.uuid4(),
        name="dr",
        environment="development",
        jetstream_domain="dr",
        server_identity="dr-server",
    )
    made = Mirror(
        id=uuid.uuid4(),
        source_cluster_id=hub2.id,
        source_stream="ORD",
        target_cluster_id=dr2.id,
        target_stream="ORD_M",
        consumer_name="jsc_mirror_x",
        spec={},
        state="active",
    )
    on_dr = {"ORD_M": stream("ORD_M", mirror=mirror_of("ORD", "$JS.hub.API"))}
    world = World([hub2, hub, dr, dr2], [made], [])
    edges = discover(
        world,
        {
            c.id: ClusterScan(c, True, None, on_dr if c in (dr, dr2) else {})
            for c in (hub2, hub, dr, dr2)
        },
    )
    (edge,) = edges
    assert (edge.target, edge.source_cluster, edge.row) == (dr2, hub2, made)
