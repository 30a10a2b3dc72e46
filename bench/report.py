"""The report: one row per workload and backend, its verdict, the text and Markdown
tables, the machine description and the chart. Nothing here knows about Kinto."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata

from bench.harness import Stats


@dataclass
class Row:
    """One workload on one backend: the baseline side, kintorm's, the verdict.

    The baseline is kinto-http unless ``baseline`` names another (the raw floor, the
    same call at another size); ``info`` is an extra side shown for reference only.
    With ``absolute`` the limit bounds kintorm's own figure, not a ratio."""

    id: str
    backend: str
    title: str
    target: str
    metric: str  # which figure the target is about: wall, cpu, memory, bytes, objects
    limit: float | None  # kintorm/baseline ratio of that figure must be <= limit
    also: tuple[tuple[str, float], ...] = ()  # more (figure, limit) pairs to meet
    baseline: str = "kinto-http"
    absolute: bool = False
    anchor: Stats | None = None
    kintorm: Stats | None = None
    info: Stats | None = None
    info_name: str = ""
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    load: tuple[float, float] | None = None  # 1-minute load average before, after

    def ratio(self, metric: str | None = None) -> float | None:
        """kintorm / baseline for ``metric`` (the target figure by default)."""
        metric = metric or self.metric
        if self.anchor is None or self.kintorm is None:
            return None
        a, k = self.anchor.metric(metric), self.kintorm.metric(metric)
        if a is None or k is None or a == 0:
            return None
        return k / a

    def judged(self) -> float | None:
        """The figure the verdict compares with ``limit`` (an absolute memory figure
        in MiB)."""
        if self.absolute:
            value = self.kintorm.metric(self.metric) if self.kintorm else None
            return value / 2**20 if value is not None and self.metric == "memory" else value
        return self.ratio()

    def verdict(self) -> str:
        """met, MISSED, n/a, skipped or FAIL (error)."""
        if self.skipped:
            return "skipped"
        if self.kintorm is not None and self.kintorm.error:
            return "FAIL (error)"
        if self.anchor is not None and self.anchor.error and self.limit == float("inf"):
            return "met (kinto-http failed)"  # the target is "works"
        checks = [(self.judged(), self.limit), *((self.ratio(m), lim) for m, lim in self.also)]
        if any(r is None or limit is None for r, limit in checks):
            return "n/a"
        return "met" if all(r <= limit for r, limit in checks) else "MISSED"  # type: ignore


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1e-4:
        return f"{value * 1e6:.2f} µs"
    if value < 0.01:
        return f"{value * 1e3:.3f} ms"
    return f"{value:.3f} s"


def _amount(stats: Stats | None, metric: str) -> str:
    if stats is None:
        return "-"
    if stats.error and stats.wall is None:
        return stats.error
    value = stats.metric(metric)
    if value is None:
        return "-"
    if metric in ("wall", "cpu"):
        return _seconds(value)
    if metric == "memory":
        return f"{value / 2**20:.2f} MiB"
    if metric == "objects":
        return f"{value:.2f}"
    return f"{int(value):,} B"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _spread(stats: Stats | None, metric: str) -> str:
    span = stats.spread(metric) if stats else None
    return "-" if span is None else f"{_seconds(span[0])} to {_seconds(span[1])}"


HEADER = (
    "id",
    "backend",
    "workload",
    "baseline",
    "baseline wall",
    "kintorm wall",
    "wall ratio",
    "baseline CPU",
    "kintorm CPU",
    "CPU ratio",
    "spread, min to max (baseline; kintorm)",
    "target figure (baseline → kintorm)",
    "load (before → after)",
    "target",
    "verdict",
)


def _target_figure(r: Row) -> str:
    a, k = r.anchor, r.kintorm
    if r.metric == "objects":
        return f"{_amount(a, 'objects')} → {_amount(k, 'objects')} per record"
    if r.metric in ("memory", "bytes"):
        return f"{_amount(a, r.metric)} → {_amount(k, r.metric)} ({_ratio(r.ratio())})"
    return "-"


def table_rows(rows: list[Row]) -> list[tuple[str, ...]]:
    """The cells of ``rows``, in HEADER's order."""
    out = []
    for r in rows:
        if r.skipped:
            out.append(
                (r.id, r.backend, r.title, r.baseline, *["-"] * 8, r.skipped, r.target, "skipped")
            )
            continue
        a, k = r.anchor, r.kintorm
        timed = r.metric if r.metric in ("wall", "cpu") else "wall"
        spread = f"{_spread(a, timed)}; {_spread(k, timed)}" if a or k else "-"
        load = "-" if r.load is None else f"{r.load[0]:.2f} → {r.load[1]:.2f}"
        out.append(
            (
                r.id,
                r.backend,
                r.title,
                r.baseline,
                _amount(a, "wall"),
                _amount(k, "wall"),
                _ratio(r.ratio("wall")),
                _seconds(a.cpu) if a else "-",
                _seconds(k.cpu) if k else "-",
                _ratio(r.ratio("cpu")),
                spread,
                _target_figure(r),
                load,
                r.target,
                r.verdict(),
            )
        )
    return out


def info_note(r: Row) -> str | None:
    """The reference side (e.g. kinto-http where the baseline is the raw floor) in words."""
    if r.info is None:
        return None
    if r.info.error and r.info.wall is None:
        return f"{r.info_name} failed: {r.info.error}"
    ratio = (
        f", kintorm / {r.info_name} wall {r.kintorm.wall / r.info.wall:.2f}x"
        if r.kintorm and r.kintorm.wall and r.info.wall
        else ""
    )
    runs = len(r.info.walls)
    return (
        f"{r.info_name} (reference, {runs} run(s)): wall {_seconds(r.info.wall)}, "
        f"CPU {_seconds(r.info.cpu)}{ratio}"
    )


def render_text(rows: list[Row]) -> str:
    """A fixed-width table (cells cut at 48 characters)."""
    cells = [HEADER, *table_rows(rows)]
    widths = [min(max(len(c[i]) for c in cells), 48) for i in range(len(HEADER))]
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join(v[:48].ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(rows: list[Row]) -> str:
    """A Markdown table."""
    cells = [HEADER, *table_rows(rows)]
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(v.replace("|", "\\|") for v in c) + " |" for c in cells[1:]]
    return "\n".join(lines)


def machine() -> dict[str, str]:
    """CPU model, cores, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for dist in ("kintorm", "kinto-http", "kinto", "requests", "attrs", "cattrs"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{dist} {metadata.version(dist)}")
    commit = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        ).stdout.strip()
    return {
        "kintorm commit": commit,
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "Python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "OS": f"{platform.system()} {platform.release()}",
        "libraries": ", ".join(versions),
    }


def chart(rows: list[Row], path: str) -> None:
    """A bar per row: the judged figure (a ratio, or an absolute count), its limit a tick."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.judged() is not None]
    labels = [f"{r.id} {r.backend}\n({r.metric})" for r in shown]
    values = [r.judged() or 0.0 for r in shown]
    colors = ["tab:green" if r.verdict() == "met" else "tab:red" for r in shown]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(shown) + 2), 4.5))
    ax.bar(range(len(shown)), values, color=colors)
    for i, r in enumerate(shown):
        if r.limit is not None:
            ax.hlines(r.limit, i - 0.4, i + 0.4, colors="black", linestyles="dashed")
        ax.text(i, values[i], f"{values[i]:.2f}", ha="center", va="bottom", fontsize=8)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(shown)), labels, fontsize=8)
    ax.set_ylabel("kintorm / baseline (objects: per record; memory: MiB; log; lower is better)")
    ax.set_title("kintorm: each target figure (dashes: target)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
