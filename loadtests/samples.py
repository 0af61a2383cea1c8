"""Per-request samples (time, tier, name, branch, region, link, outcome, ms).

Locust's own stats cannot break results down by branch, link class or time
with drill markers, so every JSON-RPC call is also recorded here. Workers
buffer samples and append them to one JSON-lines file under flock, about
once a second (a worker on a branch node sends them to the master, which
appends them); the analysis reads them back after the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from loadtests.jsonl import LineSink


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # epoch seconds when the reply (or the error) came
    tier: str
    name: str
    branch: str
    region: str
    link: str
    outcome: str  # ok / failed / unknown
    ms: float

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def row(self) -> list[object]:
        return [
            round(self.t, 3),
            self.tier,
            self.name,
            self.branch,
            self.region,
            self.link,
            self.outcome,
            round(self.ms, 1),
        ]


class SampleWriter:
    """Buffers samples and appends them about once a second: to a file, or to ``send`` (a remote worker)."""

    def __init__(
        self,
        path: str | Path | None = None,
        flush_every: float = 1.0,
        max_buffer: int = 2000,
        send: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.sink = LineSink(path, send)
        self.flush_every = flush_every
        self.max_buffer = max_buffer
        self._buf: list[str] = []
        self._last = time.monotonic()

    def add(self, sample: Sample) -> None:
        self._buf.append(json.dumps(sample.row(), separators=(",", ":")))
        if len(self._buf) >= self.max_buffer or time.monotonic() - self._last >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        self._last = time.monotonic()
        if not self._buf:
            return
        lines, self._buf = self._buf, []
        self.sink.write(lines)


def read_samples(paths: Iterable[str | Path]) -> list[Sample]:
    out: list[Sample] = []
    for path in paths:
        p = Path(path)
        if p.exists():
            out.extend(_parse(p))
    out.sort(key=lambda s: s.t)
    return out


def _parse(path: Path) -> Iterator[Sample]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                t, tier, name, branch, region, link, outcome, ms = json.loads(line)
            except ValueError:
                continue
            yield Sample(
                float(t), str(tier), str(name), str(branch), str(region), str(link), str(outcome), float(ms)
            )
