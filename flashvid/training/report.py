"""The tables' report: markdown and HTML pages with a plot per table, ours beside the paper's numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from flashvid.training.metrics import SCALES
from flashvid.training.table_specs import METRICS, PAPER


def format_markdown(n: int, result: dict[str, Any]) -> str:
    """One table as markdown: ours (composites: whole-frame metrics with their scales; real clips: IoU) beside the
    paper's rows."""
    head = "| row | " + " | ".join(f"{m} {SCALES[m][1]}" for m in METRICS) + " | real IoU |"
    lines = [f"### Table {n}: {PAPER[n]['title']}", "", "Ours:", "", head, "|---|" + "---:|" * (len(METRICS) + 1)]
    real = result.get("real", {})
    real_keys = list(real)
    for j, (row, m) in enumerate(result["rows"].items()):
        r = real.get(row, real.get(real_keys[j]) if n == 2 and j < len(real_keys) else None)
        cells = [f"{m[k] * SCALES[k][0]:.3f}" if k in m else "-" for k in METRICS]
        span = result.get("spans", {}).get(row)
        label = f"{row} [{span[0]:.2f}-{span[1]:.2f}]" if span else row
        count = result.get("real_clips", {}).get(row)
        real_cell = "-" if r is None else f"{r:.3f}" + (f" ({count} clips)" if count is not None else "")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {real_cell} |")
    lines += ["", "The paper's (its test set, its network: MSE / SAD / Grad / Conn as printed):", ""]
    lines += ["| row | MSE | SAD | Grad | Conn |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {row} | " + " | ".join(f"{v:g}" for v in vals) + " |" for row, vals in PAPER[n]["rows"].items()]
    return "\n".join(lines)


def plot(n: int, result: dict[str, Any], path: Path) -> None:
    """Composites' SAD and real clips' IoU per row: bars for settings, lines over the grades of Table 2."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(result["rows"])
    real = result.get("real", {})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    sad = [result["rows"][r].get("SAD", np.nan) * SCALES["SAD"][0] for r in rows]
    labels = ["\n".join(textwrap.wrap(r, 18)) for r in rows]
    real_labels = ["\n".join(textwrap.wrap(r, 18)) for r in real]
    if n == 2:
        axes[0].plot(range(1, len(rows) + 1), sad, "o-", color="#4477aa")
        axes[0].set_xlabel("grade of background change (1 still ... 5 strongest)")
        axes[1].plot(range(1, len(real) + 1), list(real.values()), "o-", color="#cc6677")
        axes[1].set_xlabel("grade of background change (real clips)")
        for ax in axes:
            ax.set_xticks(range(1, 6))
    else:
        axes[0].bar(range(len(rows)), sad, color="#4477aa")
        axes[0].set_xticks(range(len(rows)), labels, fontsize=7)
        axes[1].bar(range(len(real)), list(real.values()), color="#cc6677")
        axes[1].set_xticks(range(len(real)), real_labels, fontsize=7)
    axes[0].set_ylabel("SAD /1e3 (composites, whole frame)")
    axes[1].set_ylabel("IoU (real clips)")
    axes[1].set_ylim(0, 1)
    fig.suptitle(f"Table {n}: {PAPER[n]['title']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(results: dict[int, dict[str, Any]], out: Path, meta: dict[str, Any]) -> Path:
    """OUT/index.md and OUT/index.html (with table_N.png plots and sheet_N.png contact sheets) and results.json."""
    from flashvid.imageio import write_image
    from flashvid.viz import grid

    out.mkdir(parents=True, exist_ok=True)
    md = [
        "# The paper's tables on our data",
        "",
        f"Model: {meta['model']}. Composites: {meta['clips']} clips x {meta['frames']} frames at {meta['size']} px "
        "(held-apart foregrounds over held-apart real room photographs; metrics over the whole frame, scales in "
        f"the headers). Real: {meta['real_clips']} held-apart Intel clips, {meta['real_frames']} frames after a "
        "keyframe whose flash is rendered on frame 0; IoU against a person segmenter's masks. Seed "
        f"{meta['seed']}. The paper's numbers are on its own test set with its own network: compare the shape of "
        "each effect, not the values.",
        "",
    ]
    html_parts = []
    for n, r in sorted(results.items()):
        plot(n, r, out / f"table_{n}.png")
        if r.get("sheet"):
            write_image(out / f"sheet_{n}.png", grid(r["sheet"], cell_height=160))
        section = format_markdown(n, r)
        m = r.get("meta", meta)
        if m != meta:
            section += (
                f"\n\n(Built in an earlier run into this folder: model {m['model']}, {m['clips']} clips x "
                f"{m['frames']} frames at {m['size']} px, {m['real_clips']} real clips x {m['real_frames']} frames.)"
            )
        if r.get("commands"):
            section += "\n\nRe-make each trained row:\n\n" + "\n".join(f"    {c}" for c in r["commands"])
        section += f"\n\n![plot](table_{n}.png)\n\n![contact sheet](sheet_{n}.png)\n\n{r.get('sheet_caption', '')}\n"
        md += [section, ""]
        html_parts.append(_md_to_html(section))
    (out / "index.md").write_text("\n".join(md))
    html = "<html><head><meta charset='utf-8'><title>flashvid: the paper's tables</title><style>"
    html += "body{font-family:sans-serif;max-width:1100px;margin:auto} table{border-collapse:collapse} "
    html += "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right} img{max-width:100%}</style></head><body>"
    html += _md_to_html("\n".join(md[:3])) + "".join(html_parts) + "</body></html>"
    (out / "index.html").write_text(html)
    clean = {n: {k: v for k, v in r.items() if k != "sheet"} for n, r in results.items()}
    (out / "results.json").write_text(json.dumps({"meta": meta, "tables": clean}, indent=2))
    return out / "index.html"


def _md_to_html(md: str) -> str:
    """The small markdown subset the report uses: headings, paragraphs, pipe tables, images, indented code."""
    import html as h

    out: list[str] = []
    table: list[str] = []
    for line in [*md.splitlines(), ""]:
        if line.startswith("|"):
            if set(line.replace("|", "").strip()) <= set("-:"):
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            tag = "th" if not table else "td"
            table.append("<tr>" + "".join(f"<{tag}>{h.escape(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if table:
            out.append("<table>" + "".join(table) + "</table>")
            table = []
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{h.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("![") and "](" in line:
            out.append(f"<p><img src='{h.escape(line.split('](')[1].rstrip(')'))}'></p>")
        elif line.startswith("    "):
            out.append(f"<pre>{h.escape(line.strip())}</pre>")
        elif line.strip():
            out.append(f"<p>{h.escape(line)}</p>")
    return "\n".join(out)
