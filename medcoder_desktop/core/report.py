"""The report of ``medcoder eval --out DIR``: eval.json (the full result) and report.html.

The HTML file is self-contained (no external CSS, script, font or image; its plots are inline SVG drawn here),
so that it opens offline on any workstation. It holds codes and scores, never note text; both files are
created owner-only.
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from pathlib import Path

from medcoder_desktop.core import private_files
from medcoder_desktop.core.evaluation import CodeCount, EvalResult, Reliability
from medcoder_desktop.errors import InvalidInputError

BLUE, ORANGE, GREY = "#2563a8", "#d9661f", "#8a8f98"

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232b;
       max-width: 980px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .1em; } h2 { font-size: 1.2em; margin-top: 2em; }
.meta { color: #5b6470; margin-top: 0; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { padding: .25em .8em; border-bottom: 1px solid #dde1e6; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f2f4f7; }
svg { display: block; margin: .5em 0; font: 12px system-ui, sans-serif; }
.note { color: #5b6470; font-size: .9em; }
"""


def write_report(result: EvalResult, out_dir: Path, title: str = "medcoder evaluation") -> Path:
    """Write ``eval.json`` and ``report.html`` into ``out_dir`` (created if needed); return the HTML's path.

    Raises:
        InvalidInputError: the folder cannot be created or written.
    """
    doc = result.model_dump(mode="json") | {"items": [r.model_dump(mode="json") for r in result.items]}
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        private_files.write_private(out_dir / "eval.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        private_files.write_private(out_dir / "report.html", render_html(result, title))
    except OSError as exc:
        raise InvalidInputError(f"{out_dir}: the report cannot be written ({exc.strerror or exc}).") from exc
    return out_dir / "report.html"


def render_html(result: EvalResult, title: str = "medcoder evaluation") -> str:
    """The report as one HTML document."""
    cal = result.calibration
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{result.n} items &middot; mode {escape(result.mode)} &middot; {when}</p>',
        "<h2>Scores</h2>",
        _scores_table(result),
        "<h2>By source</h2>",
        _bar_chart([(s, [v.get("f1", 0.0), v.get("top1", 0.0)]) for s, v in result.per_source.items()],
                   ["micro F1", "top-1"]),
        _source_table(result.per_source),
        "<h2>Calibration</h2>",
    ]
    if cal and cal.n:
        parts += [
            f'<p class="note">Each ranked code\'s confidence against whether it was a gold code '
            f"({cal.n} codes). On the diagonal, a confidence of 0.8 is right 8 times out of 10. "
            f"Expected calibration error {_f(cal.ece)}, Brier score {_f(cal.brier)}.</p>",
            _reliability_chart(cal),
            _table(["confidence", "codes", "mean confidence", "share correct"],
                   [[f"{b.lo:.1f}–{b.hi:.1f}", b.count, b.confidence if b.count else _Num("–"),
                     b.accuracy if b.count else _Num("–")] for b in cal.bins]),
        ]
        several = len(result.calibration_by_source) > 1  # with one kind, the chart above is that kind's
        for source, by in result.calibration_by_source.items():
            if several and by.n:  # each kind of note apart: case reports and visit notes are not equally sure
                parts += [f"<h3>{escape(source)}</h3>",
                          f'<p class="note">{by.n} codes. Expected calibration error {_f(by.ece)}.</p>',
                          _reliability_chart(by)]
    else:
        parts.append('<p class="note">No ranked codes: nothing to calibrate.</p>')
    parts += [
        "<h2>Most frequent misses</h2>",
        '<p class="note">Gold codes that were not suggested.</p>',
        _codes_table(result.top_misses),
        "<h2>Most frequent false positives</h2>",
        '<p class="note">Suggested codes that were not gold codes.</p>',
        _codes_table(result.top_false_positives),
        "</body></html>\n",
    ]
    return "\n".join(parts)


def _f(x: float) -> str:
    return f"{x:.3f}"


class _Num(str):
    """A number already formatted: right-aligned like the others."""


def _table(head: list[str], rows: list[list[object]]) -> str:
    """A table of escaped cells; numbers are right-aligned, floats shown with 3 decimals."""

    def cell(v: object) -> str:
        attr = ' class="num"' if isinstance(v, (int, float, _Num)) else ""
        return f"<td{attr}>{escape(_f(v) if isinstance(v, float) else str(v))}</td>"

    out = ["<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    out += ["<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows]
    return "\n".join(out) + "\n</table>"


def _scores_table(r: EvalResult) -> str:
    rows: list[list[object]] = [
        ["items", r.n],
        ["micro precision", r.micro.precision], ["micro recall", r.micro.recall], ["micro F1", r.micro.f1],
        ["category (3-character) micro F1", r.category_micro.f1],
        ["gold codes that are no complete code of the active code sets", r.gold_incomplete],
        *([["micro F1, such a gold code met by one shown code beneath it", r.micro_active.f1]]
          if r.gold_incomplete and r.micro_active else []),
        ["top-1", r.top1], ["recall at 5", r.recall_at_5], ["recall at 10", r.recall_at_10],
        ["invalid codes", r.invalid_codes],
        ["non-billable codes shown", r.non_billable],
        ["milliseconds an item", _Num(f"{r.seconds_per_item * 1000:.1f}")],
    ]
    if r.calibration and r.calibration.n:
        rows += [["expected calibration error", r.calibration.ece], ["Brier score", r.calibration.brier]]
    return _table(["score", "value"], rows)


def _source_table(per_source: dict[str, dict[str, int | float]]) -> str:
    cols = ["n", "precision", "recall", "f1", "top1", "top5"]
    return _table(["source", "items", "precision", "recall", "micro F1", "top-1", "top-5"],
                  [[s, *(v.get(c, "–") for c in cols)] for s, v in per_source.items()])


def _codes_table(codes: list[CodeCount]) -> str:
    if not codes:
        return '<p class="note">None.</p>'
    return _table(["code", "title", "times"], [[c.code, c.title or "", c.count] for c in codes])


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">\n'
            + "\n".join(body) + "\n</svg>")


def _text(x: float, y: float, s: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(s)}</text>'


def _y_axis(left: int, right: int, top: int, plot_h: int) -> list[str]:
    """Grid lines and labels for a 0..1 vertical scale."""
    out = []
    for t in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - t)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        out.append(_text(left - 6, y + 4, f"{t:.2f}", "end"))
    return out


def _bar_chart(groups: list[tuple[str, list[float]]], series: list[str]) -> str:
    """Grouped bars of scores in [0, 1], one group per source."""
    colors = [BLUE, ORANGE]
    left, top, plot_h, group_w, bar_w = 50, 30, 200, 120, 28
    width = max(420, left + group_w * len(groups) + 20)
    body = _y_axis(left, width - 10, top, plot_h)
    for i, name in enumerate(series):
        x = left + i * 110
        body.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colors[i]}"/>')
        body.append(_text(x + 16, 16, name, "start"))
    for g, (label, values) in enumerate(groups):
        x0 = left + g * group_w + (group_w - bar_w * len(values)) / 2
        for i, v in enumerate(values):
            h = plot_h * min(1.0, max(0.0, v))
            x, y = x0 + i * bar_w, top + plot_h - h
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 4}" height="{h:.1f}" fill="{colors[i]}">'
                        f"<title>{escape(f'{label}: {series[i]} {_f(v)}')}</title></rect>")
            body.append(_text(x + (bar_w - 4) / 2, y - 3, f"{v:.2f}", extra='font-size="10"'))
        short = label if len(label) <= 18 else label[:17] + "…"
        body.append(_text(left + g * group_w + group_w / 2, top + plot_h + 16, short))
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#444"/>')
    return _svg(width, top + plot_h + 26, "micro F1 and top-1 by source", body)


def _reliability_chart(cal: Reliability) -> str:
    """Observed share correct against mean confidence per bin, the diagonal, and the bins' counts below."""
    left, top, size, hist_h, gap = 56, 14, 320, 70, 46

    def px(v: float) -> float:
        return left + size * v

    def py(v: float) -> float:
        return top + size * (1 - v)

    body = _y_axis(left, left + size, top, size)
    for t in (0, 0.25, 0.5, 0.75, 1):
        body.append(f'<line x1="{px(t):.1f}" y1="{top}" x2="{px(t):.1f}" y2="{top + size}" stroke="#e3e6ea"/>')
        body.append(_text(px(t), top + size + 15, f"{t:.2f}"))
    body.append(f'<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="none" stroke="#444"/>')
    body.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" stroke="{GREY}" '
                'stroke-dasharray="5 4"><title>perfect calibration</title></line>')
    full = [b for b in cal.bins if b.count]
    most = max((b.count for b in full), default=1)
    points = " ".join(f"{px(b.confidence):.1f},{py(b.accuracy):.1f}" for b in full)
    body.append(f'<polyline points="{points}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    for b in full:
        r = 3 + 5 * (b.count / most) ** 0.5
        tip = (f"{b.lo:.1f}–{b.hi:.1f}: {b.count} codes, mean confidence {_f(b.confidence)}, "
               f"share correct {_f(b.accuracy)}")
        body.append(f'<circle cx="{px(b.confidence):.1f}" cy="{py(b.accuracy):.1f}" r="{r:.1f}" fill="{BLUE}">'
                    f"<title>{escape(tip)}</title></circle>")
    body.append(_text(left + size / 2, top + size + 32, "mean confidence"))
    body.append(_text(14, top + size / 2, "share correct", extra=f'transform="rotate(-90 14 {top + size / 2})"'))
    # bin counts under the plot, on the same confidence axis
    h0 = top + size + gap
    for b in cal.bins:
        h = hist_h * b.count / most
        body.append(f'<rect x="{px(b.lo) + 1:.1f}" y="{h0 + hist_h - h:.1f}" width="{size / len(cal.bins) - 2:.1f}" '
                    f'height="{h:.1f}" fill="{ORANGE}"><title>{b.count} codes</title></rect>')
        if b.count:
            body.append(_text(px((b.lo + b.hi) / 2), h0 + hist_h - h - 3, str(b.count), extra='font-size="10"'))
    body.append(f'<line x1="{left}" y1="{h0 + hist_h}" x2="{left + size}" y2="{h0 + hist_h}" stroke="#444"/>')
    body.append(_text(left - 6, h0 + hist_h / 2, "codes", "end"))
    return _svg(left + size + 20, h0 + hist_h + 10, "calibration: share correct against confidence", body)
