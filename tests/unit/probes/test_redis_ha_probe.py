"""The Redis probe's command line: every option lands in its own field."""

from __future__ import annotations

from tests.probes import redis_ha


def test_key_count_and_node_count_are_separate() -> None:
    """--node-count (wait-stable) once shared a field with --count (write-acked):
    write-acked wrote 3 keys where the scenario expected 200."""
    args = redis_ha.build_parser().parse_args(
        ["write-acked", "--sentinels", "10.0.0.1", "--keys-file", "k.json"]
    )
    assert args.count == 200
    assert args.node_count == 3


def test_both_counts_given() -> None:
    args = redis_ha.build_parser().parse_args(
        ["wait-stable", "--sentinels", "10.0.0.1", "--node-count", "5", "--count", "7"]
    )
    assert (args.node_count, args.count) == (5, 7)
