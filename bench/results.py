"""Samples, rows and the three outputs: a printed table, results.json and a PNG plot."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Sample:
    """Repeated measurements of one side (seconds, or bytes when ``unit`` is "bytes")."""

    values: list[float] = field(default_factory=list)
    unit: str = "ms"

    def add(self, value: float) -> None:
        self.values.append(value)

    def _scale(self, value: float) -> float:
        return value * 1000 if self.unit == "ms" else value

    @property
    def median(self) -> float:
        return self._scale(statistics.median(self.values))

    @property
    def p95(self) -> float:
        ordered = sorted(self.values)
        index = min(len(ordered) - 1, max(0, round(0.95 * (len(ordered) - 1))))
        return self._scale(ordered[index])

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "n": len(self.values),
            "median": round(self.median, 3),
            "min": round(self._scale(min(self.values)), 3),
            "max": round(self._scale(max(self.values)), 3),
            "p95": round(self.p95, 3),
        }


@dataclass
class Row:
    """One line of the table: gitsync beside plain git on the same change."""

    key: str  # stable id, e.g. "1.edit-sync"
    title: str
    size: int  # records in the client file (or copies, for the round rows)
    gitsync: Sample
    git: Sample
    goal: float  # the ratio gitsync / git must be <= goal
    extra: dict[str, Any] = field(default_factory=dict)
    goal_on: str = "ratio"  # or "gitsync": the goal bounds gitsync's own number (growth rows)

    @property
    def ratio(self) -> float:
        return self.gitsync.median / self.git.median if self.git.median else float("inf")

    @property
    def met(self) -> bool:
        value = self.gitsync.median if self.goal_on == "gitsync" else self.ratio
        return value <= self.goal

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "size": self.size,
            "gitsync": self.gitsync.as_dict(),
            "git": self.git.as_dict(),
            "ratio": round(self.ratio, 3),
            "goal": f"{'gitsync growth' if self.goal_on == 'gitsync' else 'ratio'}"
            f" <= {self.goal:g}",
            "met": self.met,
            "extra": self.extra,
        }


def _fmt(sample: Sample) -> str:
    d = sample.as_dict()
    if sample.unit == "bytes":
        return f"{d['median']:,.0f} B ({d['min']:,.0f}-{d['max']:,.0f})"
    if sample.unit == "x":
        return f"x{d['median']:.2f}"
    return f"{d['median']:,.0f} ms ({d['min']:,.0f}-{d['max']:,.0f})"


def print_table(rows: list[Row], header: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=header, show_lines=False)
    for column in (
        "row",
        "size",
        "gitsync median (min-max)",
        "plain git median (min-max)",
        "ratio",
        "goal",
        "",
    ):
        table.add_column(column, justify="right" if column in ("size", "ratio") else "left")
    for row in rows:
        table.add_row(
            row.title,
            f"{row.size:,}",
            _fmt(row.gitsync),
            _fmt(row.git),
            f"{row.ratio:.2f}",
            ("growth " if row.goal_on == "gitsync" else "") + f"<= {row.goal:g}",
            "ok" if row.met else "MISS",
        )
    Console(width=160).print(table)


def write_json(rows: list[Row], meta: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    target = out / "results.json"
    payload = {"meta": meta, "rows": [r.as_dict() for r in rows]}
    target.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def plot(rows: list[Row], out: Path) -> Path | None:
    """Cost vs size (log-log) of the rows measured at several sizes; sync rounds vs copies."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    series: dict[str, list[Row]] = {}
    for row in rows:
        if row.gitsync.unit == "ms" and not row.key.startswith("7.round"):
            series.setdefault(row.key, []).append(row)
    series = {k: v for k, v in series.items() if len({r.size for r in v}) >= 2}
    rounds = [r for r in rows if r.key.startswith("7.round")]
    panels = 1 + bool(rounds)
    fig, axes = plt.subplots(1, panels, figsize=(7 * panels, 5), squeeze=False)
    ax = axes[0][0]
    for index, (_key, items) in enumerate(sorted(series.items())):
        items = sorted(items, key=lambda r: r.size)
        color = f"C{index % 10}"
        sizes = [r.size for r in items]
        ax.plot(
            sizes,
            [r.gitsync.median for r in items],
            "o-",
            color=color,
            label=f"{items[0].title} gitsync",
        )
        ax.plot(sizes, [r.git.median for r in items], "s--", color=color, label="  plain git")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("records in the client file")
    ax.set_ylabel("median ms")
    ax.set_title("Cost vs size")
    ax.grid(True, which="both", alpha=0.3)
    if series:
        ax.legend(fontsize=7)
    if rounds:
        ax2 = axes[0][1]
        rounds = sorted(rounds, key=lambda r: r.size)
        ax2.plot(
            [r.size for r in rounds], [r.gitsync.median for r in rounds], "o-", label="gitsync"
        )
        ax2.plot([r.size for r in rounds], [r.git.median for r in rounds], "s--", label="plain git")
        ax2.set_xlabel("sync copies (each sends one change, then all receive)")
        ax2.set_ylabel("median ms per round")
        ax2.set_title("Sync round vs copies")
        ax2.grid(True, alpha=0.3)
        ax2.legend()
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    target = out / "cost-vs-size.png"
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target
