from collections import Counter

from loadtests.collection import LINK_CLASSES
from loadtests.links import DEFAULT_PROFILES, FLAPPING, LinkProfile, assign_link_classes, toxics_for


def test_a_profile_for_each_of_the_registers_link_classes_and_flapping_lte():
    assert list(DEFAULT_PROFILES) == [*LINK_CLASSES, FLAPPING]


def test_latency_is_split_over_both_directions():
    toxics = toxics_for(LinkProfile(rtt_ms=70, jitter_ms=30, down_kbps=1250, up_kbps=250))
    by_name = {t["name"]: t for t in toxics}
    assert by_name["latency_upstream"]["attributes"] == {"latency": 35, "jitter": 15}
    assert by_name["latency_downstream"]["stream"] == "downstream"
    assert by_name["bandwidth_downstream"]["attributes"] == {"rate": 1250}
    assert by_name["bandwidth_upstream"]["attributes"] == {"rate": 250}
    assert by_name["bandwidth_upstream"]["stream"] == "upstream"
    assert "reset_peer" not in by_name


def test_fiber_has_no_bandwidth_limit_and_resets_are_optional():
    names = {t["name"] for t in toxics_for(DEFAULT_PROFILES["fiber"])}
    assert names == {"latency_upstream", "latency_downstream"}
    reset = toxics_for(LinkProfile(rtt_ms=0, reset_toxicity=0.1))
    assert [t["type"] for t in reset] == ["reset_peer"]
    assert reset[0]["toxicity"] == 0.1


def test_profiles_get_worse_from_fiber_to_flapping_lte():
    order = ["fiber", "broadband", "lte", "lte_flapping"]
    rtts = [DEFAULT_PROFILES[c].rtt_ms for c in order]
    assert rtts == sorted(rtts)


def test_assignment_follows_shares_and_is_stable():
    codes = [f"B{i:03d}" for i in range(100)]
    shares = {"fiber": 0.3, "broadband": 0.5, "lte": 0.2}
    a = assign_link_classes(codes, shares, flapping_share=0.25)
    assert a == assign_link_classes(codes, shares, flapping_share=0.25)
    counts = Counter(a.values())
    assert counts == {"fiber": 30, "broadband": 50, "lte": 15, FLAPPING: 5}


def test_register_link_wins_and_one_flapper_at_least():
    codes = ["A", "B", "C"]
    a = assign_link_classes(codes, {"fiber": 1.0}, 0.0, fixed={"A": "lte", "B": "lte"})
    assert a == {"A": "lte", "B": "lte", "C": "fiber"}
    b = assign_link_classes(codes, {"fiber": 1.0}, 0.1, fixed={"A": "lte", "B": "lte"})
    assert Counter(b.values())[FLAPPING] == 1
    assert b["C"] == "fiber"
