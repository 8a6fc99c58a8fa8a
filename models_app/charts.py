"""Plotly figures for comparing versions: pure functions, plain data in, a figure out.

Views query (``.values()`` rows), call a builder here and put ``render(figure)`` into a
partial; plotly.js itself is served as a static file from the installed plotly package.
Every builder takes the version labels in the order of the compare table, so a version
keeps its colour from one chart to the next.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models_app.comparison import direction_label, format_number

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
# Ten distinct colours for at most ten versions; the first is the site's primary blue.
PALETTE = (
    "#3b5bdb",
    "#e8590c",
    "#2b8a3e",
    "#c2255c",
    "#7048e8",
    "#0c8599",
    "#b08800",
    "#5c940d",
    "#862e9c",
    "#495057",
)
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"
# Versions that ran in these environments get their own marker on a trend chart.
# Production is drawn last so that its star stays on top of a staging marker.
HIGHLIGHTED_ENVIRONMENTS = {
    "staging": {"symbol": "diamond", "color": "#e8590c", "size": 11, "label": "Staging"},
    "production": {"symbol": "star", "color": "#2b8a3e", "size": 17, "label": "Production"},
}
THRESHOLD_COLOURS = ("#c92a2a", "#a35f00", "#5f6b7a")
MAX_LABELLED_BARS = 30
# About how many characters of legend fit in one row to the right of a chart's title.
LEGEND_ROW_CHARS = 70
# A legend column needs about this much height per entry, plus the title, the margins and the
# x axis with its (sometimes slanted) tick labels.
LEGEND_ENTRY_HEIGHT = 22
LEGEND_COLUMN_BASE = 220


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def axis_title(label: str, unit: str = "") -> str:
    """``Latency p95 (ms)``; a metric without a unit is titled by its name alone."""
    return f"{label} ({unit})" if unit else label


def _direction(higher_is_better: bool | None) -> str:
    return direction_label(higher_is_better)


def _arrow(higher_is_better: bool | None) -> str:
    return "" if higher_is_better is None else " ↑" if higher_is_better else " ↓"


def _hover_unit(unit: str) -> str:
    return "" if unit in ("", "ratio") else f" {unit}"


def _base_layout(
    figure: go.Figure, title: str, subtitle: str, height: int, series: Sequence[str] = ()
) -> go.Figure:
    if sum(len(name) + 6 for name in series) > LEGEND_ROW_CHARS:
        # Too many or too long names for one row beside the title: a column on the right,
        # in a figure tall enough for the whole column (plotly scrolls a legend that is not).
        height = max(height, LEGEND_COLUMN_BASE + LEGEND_ENTRY_HEIGHT * len(series))
        legend = {
            "orientation": "v",
            "x": 1.02,
            "xanchor": "left",
            "y": 1,
            "yanchor": "top",
            "tracegroupgap": 2,
        }
    else:
        # Beside the title, below plotly's tool bar, so it never covers a panel's own title.
        legend = {
            "orientation": "h",
            "yref": "container",
            "y": 1 - 34 / height,
            "yanchor": "top",
            "xanchor": "right",
            "x": 1,
        }
    figure.update_layout(
        template="plotly_white",
        title={
            "text": title,
            "subtitle": {"text": subtitle, "font": {"size": 12, "color": "#5f6b7a"}},
            "x": 0,
            "xanchor": "left",
            "font": {"size": 15},
        },
        font={"family": FONT, "size": 12, "color": "#1d2330"},
        height=height,
        margin={"l": 64, "r": 24, "t": 84, "b": 48},
        legend=legend,
        hoverlabel={"font": {"family": FONT}},
        bargap=0.22,
        bargroupgap=0.06,
    )
    return figure


def _joined_directions(directions: Iterable[bool | None]) -> str:
    known = {value for value in directions if value is not None}
    if known == {True}:
        return _direction(True)
    if known == {False}:
        return _direction(False)
    if known:
        return "↑ higher is better · ↓ lower is better"
    return ""


def render(figure: go.Figure) -> str:
    """The figure as an HTML fragment: a div and the inline script that draws it."""
    return figure.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG)


# --- grouped bars: selected metrics per version ------------------------------------------------


def metric_bars(
    versions: Sequence[str],
    metrics: Sequence[Mapping[str, Any]],
    values: Mapping[tuple[str, str], float | None],
) -> go.Figure:
    """Grouped bars: a group per metric, a bar per version.

    ``metrics`` are {id, label, unit, higher_is_better} in display order; ``values`` maps
    (version label, metric id) to a value. Metrics of different units get their own row of
    the figure with its own axis, so milliseconds never dwarf a ratio. A missing value is
    no bar, never a zero.
    """
    units: list[str] = []
    for metric in metrics:
        unit = metric.get("unit") or ""
        if unit not in units:
            units.append(unit)
    rows = max(len(units), 1)
    figure = make_subplots(rows=rows, cols=1, vertical_spacing=0.14 if rows > 1 else 0.1)
    # Numbers on the bars while they still fit; the hover always has them.
    label_bars = len(versions) * len(metrics) <= MAX_LABELLED_BARS
    for row, unit in enumerate(units, start=1):
        group = [metric for metric in metrics if (metric.get("unit") or "") == unit]
        labels = [f"{m['label']}{_arrow(m.get('higher_is_better'))}" for m in group]
        for index, version in enumerate(versions):
            heights = [values.get((version, metric["id"])) for metric in group]
            figure.add_trace(
                go.Bar(
                    name=version,
                    x=labels,
                    y=heights,
                    marker_color=colour(index),
                    legendgroup=version,
                    showlegend=row == 1,
                    customdata=[_value_text(value, unit) for value in heights],
                    hovertemplate=f"<b>{version}</b><br>%{{x}}: %{{customdata}}<extra></extra>",
                    text=[_bar_text(value) for value in heights] if label_bars else None,
                    textposition="outside",
                    textfont={"size": 10, "color": "#3a4456"},
                    cliponaxis=False,
                ),
                row=row,
                col=1,
            )
        figure.update_yaxes(title_text=unit or "value", row=row, col=1)
    directions = [metric.get("higher_is_better") for metric in metrics]
    subtitle = _joined_directions(directions)
    _base_layout(figure, "Metrics by version", subtitle, 150 + 270 * rows, versions)
    figure.update_layout(barmode="group")
    return figure


def _bar_text(value: float | None) -> str:
    return "" if value is None else format_number(value)


def _value_text(value: float | None, unit: str) -> str:
    return "missing" if value is None else format_number(value) + _hover_unit(unit)


# --- one metric across all versions of a model -------------------------------------------------


def metric_trend(
    points: Sequence[Mapping[str, Any]],
    *,
    metric: Mapping[str, Any],
    environments: Mapping[int, Iterable[str]] | None = None,
    thresholds: Sequence[tuple[str, float]] = (),
) -> go.Figure:
    """One metric per version number: ``points`` are {version, value} (value None when the
    version lacks it). Versions that ran in staging or production (``environments`` maps a
    version number to environment names) get a marker; each (label, value) of
    ``thresholds`` is a horizontal line, e.g. an approval gate."""
    environments = environments or {}
    unit = metric.get("unit") or ""
    higher = metric.get("higher_is_better")
    points = sorted(points, key=lambda point: point["version"])
    numbers = [point["version"] for point in points]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            name=metric["label"],
            x=numbers,
            y=[point["value"] for point in points],
            mode="lines+markers",
            line={"color": PALETTE[0], "width": 2},
            marker={"size": 7, "color": PALETTE[0]},
            connectgaps=False,
            customdata=[
                [f"v{point['version']}", _value_text(point["value"], unit)] for point in points
            ],
            hovertemplate="<b>%{customdata[0]}</b>: %{customdata[1]}<extra></extra>",
        )
    )
    for name, style in HIGHLIGHTED_ENVIRONMENTS.items():
        marked = [
            point
            for point in points
            if point["value"] is not None and name in set(environments.get(point["version"], ()))
        ]
        if not marked:
            continue
        figure.add_trace(
            go.Scatter(
                name=f"Ran in {style['label'].lower()}",
                x=[point["version"] for point in marked],
                y=[point["value"] for point in marked],
                mode="markers",
                marker={
                    "symbol": style["symbol"],
                    "size": style["size"],
                    "color": style["color"],
                    "line": {"color": "#ffffff", "width": 1.5},
                },
                customdata=[f"v{point['version']}" for point in marked],
                hovertemplate=f"%{{customdata}} ran in {name}<extra></extra>",
            )
        )
    for index, (label, value) in enumerate(thresholds):
        line_colour = THRESHOLD_COLOURS[index % len(THRESHOLD_COLOURS)]
        figure.add_hline(
            y=value,
            line={"color": line_colour, "dash": "dash", "width": 1.5},
            annotation_text=label,
            annotation_position="top left",
            annotation_font={"size": 11, "color": line_colour},
        )
    figure.update_xaxes(
        title_text="version",
        tickmode="array",
        tickvals=numbers,
        ticktext=[f"v{number}" for number in numbers],
    )
    figure.update_yaxes(title_text=axis_title(metric["label"], unit))
    title = f"{metric['label']} across versions"
    _base_layout(figure, title, _direction(higher), 380)
    return figure


# --- training curves -------------------------------------------------------------------------


def training_curves(
    rows: Sequence[Mapping[str, Any]],
    *,
    versions: Sequence[str],
    metrics: Sequence[Mapping[str, Any]],
) -> go.Figure:
    """A panel per stepped metric (``metrics``: {id, label, unit, higher_is_better}), step on
    x, a line per version. ``rows`` are {version, metric, step, value}."""
    columns = 1 if len(metrics) == 1 else 2
    panel_rows = max((len(metrics) + columns - 1) // columns, 1)
    figure = make_subplots(
        rows=panel_rows,
        cols=columns,
        subplot_titles=[f"{m['label']}{_arrow(m.get('higher_is_better'))}" for m in metrics],
        horizontal_spacing=0.1,
        vertical_spacing=0.16 if panel_rows > 1 else 0.1,
    )
    series: dict[tuple[str, str], dict[int, float]] = {}
    for row in rows:
        # A step logged twice keeps its later value, as the metrics table does.
        series.setdefault((row["version"], row["metric"]), {})[row["step"]] = row["value"]
    for position, metric in enumerate(metrics):
        panel_row, panel_col = position // columns + 1, position % columns + 1
        unit = metric.get("unit") or ""
        for index, version in enumerate(versions):
            points = series.get((version, metric["id"]))
            if not points:
                continue
            steps = sorted(points)
            figure.add_trace(
                go.Scatter(
                    name=version,
                    x=steps,
                    y=[points[step] for step in steps],
                    mode="lines",
                    line={"color": colour(index), "width": 2},
                    legendgroup=version,
                    showlegend=_first_panel_of(version, metrics, series) is metric,
                    hovertemplate=f"<b>{version}</b> step %{{x}}: %{{y:.4g}}"
                    f"{_hover_unit(unit)}<extra></extra>",
                ),
                row=panel_row,
                col=panel_col,
            )
        figure.update_xaxes(title_text="step", row=panel_row, col=panel_col)
        figure.update_yaxes(
            title_text=axis_title(metric["label"], unit), row=panel_row, col=panel_col
        )
    subtitle = _joined_directions(metric.get("higher_is_better") for metric in metrics)
    _base_layout(figure, "Training curves", subtitle, 150 + 300 * panel_rows, versions)
    return figure


def _first_panel_of(version: str, metrics, series) -> Mapping | None:
    """The first panel a version has a line in: its legend entry is shown there."""
    for metric in metrics:
        if series.get((version, metric["id"])):
            return metric
    return None


# --- slices ------------------------------------------------------------------------------------


def slice_bars(
    rows: Sequence[Mapping[str, Any]],
    *,
    versions: Sequence[str],
    metric: Mapping[str, Any],
) -> go.Figure:
    """One metric by slice (e.g. recall per gender and age band): a group per slice, a bar
    per version. ``rows`` are {version, slice, value}; the slice "" is the whole dataset
    and comes first as "overall"."""
    unit = metric.get("unit") or ""
    slices = sorted({row["slice"] for row in rows}, key=lambda name: (name != "", name))
    values = {(row["version"], row["slice"]): row["value"] for row in rows}
    figure = go.Figure()
    labels = [name or "overall" for name in slices]
    for index, version in enumerate(versions):
        heights = [values.get((version, name)) for name in slices]
        figure.add_trace(
            go.Bar(
                name=version,
                x=labels,
                y=heights,
                marker_color=colour(index),
                customdata=[_value_text(value, unit) for value in heights],
                hovertemplate=f"<b>{version}</b><br>%{{x}}: %{{customdata}}<extra></extra>",
            )
        )
    figure.update_xaxes(title_text="slice")
    figure.update_yaxes(title_text=axis_title(metric["label"], unit))
    title = f"{metric['label']} by slice"
    _base_layout(figure, title, _direction(metric.get("higher_is_better")), 380, versions)
    figure.update_layout(barmode="group")
    return figure
