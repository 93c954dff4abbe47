"""Plotly figures of the report, drawn from tidy panels and fitted results.

Panels arrive long (one row per period and group); they are pivoted wide only
here, at the plotting edge. Figures draw what the models returned; nothing is
estimated in this module.

Plotly renders a small subset of HTML inside labels and hover text, so every
string that comes from the data goes through `plot_text` first: plotly shows
the escaped entities as the characters themselves, and a `<script>` in a note
stays text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FATALITIES = "#b2182b"
INJURIES = "#d6791a"
TREND = "#2166ac"
SEGMENTS = "#5e3c99"
CHANGE = "#555555"
SOURCE_EDGE = "#1b7837"
#: One colour per series in multi-series charts (colour-blind-safe, Okabe-Ito order).
SERIES_COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000"]

#: Change points whose rate ratio is written above the chart; with more, a hover marker each.
MAX_LABELLED_CHANGES = 6

FONT = dict(
    family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif", size=13
)


def plot_text(value: object) -> str:
    """Data text made safe for plotly's label markup: `&`, `<`, `>` become entities."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title=dict(text=plot_text(title), x=0.01, xanchor="left", font=dict(size=16)),
        height=height,
        font=FONT,
        template="plotly_white",
        margin=dict(l=60, r=20, t=70, b=40),
        hovermode="x unified",
        legend=dict(orientation="h", yanchor="top", y=-0.08, xanchor="left", x=0.0),
    )
    return fig


def _measure(
    fig: go.Figure, x, weekly: pd.DataFrame, measure: str, colour: str, label: str, row: int
) -> None:
    """One measure's best estimate as a line over the sources' low-high band."""
    low, high = (_values(weekly[f"{measure}_{bound}"]) for bound in ("low", "high"))
    _band(fig, x, low, high, colour, f"{label}: low-high", row, label)
    _line(fig, x, _values(weekly[f"{measure}_best"]), f"{label} (best)", colour, label, row)


def _line(fig: go.Figure, x, y, name: str, colour: str, group: str, row: int) -> None:
    """An observed weekly series as a thin line in its measure's legend group."""
    fig.add_trace(
        go.Scatter(x=x, y=y, name=name, mode="lines", line=dict(color=colour, width=1.3), legendgroup=group),
        row=row,
        col=1,
    )


def _band(
    fig: go.Figure, x, low, high, colour: str, name: str, row: int, legendgroup: str, opacity: float = 0.25
) -> None:
    """A shaded low-high range, drawn only over the weeks where both bounds are known.

    One polygon per run of such weeks (upper edge forward, lower edge back),
    runs separated by gaps: filling between two lines would bridge a week with an
    unknown bound and shade a range no source gave.
    """
    x = pd.Series(pd.to_datetime(np.asarray(x))).reset_index(drop=True)
    known = ~(np.isnan(low) | np.isnan(high))
    px, py = [], []
    run_id = np.cumsum(~known)  # constant within a run of known weeks
    for run in np.unique(run_id[known]):
        idx = np.flatnonzero(known & (run_id == run))
        xs = list(x.iloc[idx])
        px += xs + xs[::-1] + [None]
        py += list(high[idx]) + list(low[idx][::-1]) + [None]
    fig.add_trace(
        go.Scatter(
            x=px,
            y=py,
            mode="lines",
            line=dict(width=0),
            fill="toself",
            fillcolor=_rgba(colour, opacity),
            name=name,
            legendgroup=legendgroup,
            hoverinfo="skip",
        ),
        row=row,
        col=1,
    )


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _values(column: pd.Series) -> np.ndarray:
    """Counts as floats with NaN for unknown, the form plotly draws gaps from."""
    return column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def reports_injuries(weekly: pd.DataFrame) -> bool:
    """Whether a weekly panel's sources report injuries: weeks without incidents are zeros, so only
    weeks with incidents tell."""
    return bool((weekly["injuries_best"].notna() & (weekly["incidents"] > 0)).any())


def series_figure(
    weekly: pd.DataFrame,
    title: str,
    *,
    change_points=None,
    trend=None,
    source_edges: pd.DataFrame | None = None,
    period: str = "week",
    height: int = 460,
) -> go.Figure:
    """Weekly fatalities (and injuries where known) of one series, with their low-high
    bands, the fitted trend with its interval, and the change points with segment rates.

    `weekly` is one series of a tidy panel (`week` plus the measures); `change_points`
    is a `ChangePoints` and `trend` a `TrendResult` fitted on its `fatalities_best`;
    `source_edges` (`Coverage.edges()`: source, edge, date) marks where a source's records
    start or stop inside the data, so that a change there is read as the source's.
    """
    weekly = weekly.sort_values(period)
    x = weekly[period]
    has_injuries = reports_injuries(weekly)
    rows = 2 if has_injuries else 1
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        row_heights=[0.62, 0.38] if has_injuries else [1.0],
    )

    _measure(fig, x, weekly, "fatalities", FATALITIES, "killed", 1)
    top = data_top(weekly, "fatalities")
    if trend is not None:
        fitted = trend.fitted
        high = fitted["ci_high"].to_numpy(dtype=float)
        clipped = bool(np.nanmax(high, initial=0) > top)
        _band(
            fig,
            fitted.index,
            fitted["ci_low"].to_numpy(dtype=float),
            high,
            TREND,
            "trend interval" + (" (cut at the data's range)" if clipped else ""),
            1,
            "trend",
            opacity=0.15,
        )
        fig.add_trace(
            go.Scatter(
                x=fitted.index,
                y=fitted["fitted"],
                name="trend",
                mode="lines",
                line=dict(color=TREND, width=2.2),
                legendgroup="trend",
            ),
            row=1,
            col=1,
        )
    if change_points is not None:
        _mark_change_points(fig, x.reset_index(drop=True), change_points)
    for edge in [] if source_edges is None else source_edges.itertuples():
        fig.add_vline(
            x=pd.Timestamp(edge.date),
            line=dict(color=SOURCE_EDGE, width=1.5, dash="dot"),
            annotation=dict(
                text=f"{plot_text(edge.source)} {edge.edge}", font=dict(size=10, color=SOURCE_EDGE)
            ),
            annotation_position="bottom right" if edge.edge == "starts" else "bottom left",
        )
    if has_injuries:
        _measure(fig, x, weekly, "injuries", INJURIES, "injured", 2)
        fig.update_yaxes(
            title_text=f"injured / {period}", row=2, col=1, range=[0, data_top(weekly, "injuries")]
        )
    # the axis follows the data: a trend interval of a quiet series can reach millions
    fig.update_yaxes(title_text=f"killed / {period}", row=1, col=1, range=[0, top])
    return _layout(fig, title, height)


#: Head room above the largest value a chart's y axis shows.
HEADROOM = 1.08


def data_top(weekly: pd.DataFrame, measure: str) -> float:
    """The top of a y axis drawn from the data: the largest best or high count of `measure`
    (the sources' own range) with some head room; 1 for a series of zeros. Model bands beyond
    it are cut, and their legend entries say so."""
    values = np.concatenate([_values(weekly[f"{measure}_{b}"]) for b in ("best", "high")])
    return HEADROOM * max(float(np.nanmax(values, initial=0)), 1.0)


def _mark_change_points(fig: go.Figure, periods: pd.Series, change_points) -> None:
    """Segment rates as a step line, each change as a dashed vertical line with its rate ratio."""
    segments = change_points.segments
    step_x, step_y = [], []
    for seg in segments.itertuples():
        step_x += [periods.iloc[seg.start], periods.iloc[seg.end - 1], None]
        step_y += [seg.estimate, seg.estimate, None]
    fig.add_trace(
        go.Scatter(
            x=step_x,
            y=step_y,
            name="segment rate (change points)",
            mode="lines",
            line=dict(color=SEGMENTS, width=2, dash="dot"),
            legendgroup="segments",
        ),
        row=1,
        col=1,
    )
    ratios = change_points.rate_ratios()
    labelled = len(ratios) <= MAX_LABELLED_CHANGES  # beyond that, labels overlap: hover markers only
    shapes, notes = [], []
    for change in ratios.itertuples():
        when = periods.iloc[change.location]
        shapes.append(
            dict(
                type="line",
                x0=when,
                x1=when,
                xref="x",
                y0=0,
                y1=1,
                yref="paper",
                opacity=0.7,
                line=dict(color=CHANGE, width=1, dash="dash"),
            )
        )
        notes.append(
            dict(
                x=when,
                xref="x",
                y=1.0,
                yref="paper",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=11, color=CHANGE),
                text=_ratio_label(change.ratio) if labelled else "▾",
                hovertext=(
                    f"change from {pd.Timestamp(when):%Y-%m-%d}: rate {change.before:.3g} → {change.after:.3g}"
                    f" per period, ratio {change.ratio:.3g} (95% CI {change.ci_low:.3g}–{change.ci_high:.3g})"
                ),
            )
        )
    # one layout update: adding shapes one by one re-validates the whole layout each time
    fig.update_layout(
        shapes=list(fig.layout.shapes) + shapes, annotations=list(fig.layout.annotations) + notes
    )


def _ratio_label(ratio: float) -> str:
    if np.isfinite(ratio):
        return f"×{ratio:.2g}"
    return "from 0" if ratio > 0 else "change"


def actors_figure(
    panel: pd.DataFrame,
    actors: Sequence[str],
    *,
    measure: str = "fatalities_best",
    period: str = "week",
    height: int = 420,
) -> go.Figure:
    """One line per actor of a tidy panel by actor: who the violence in the data comes from."""
    wide = panel[panel["actor"].isin(actors)].pivot_table(
        index=period, columns="actor", values=measure, aggfunc="sum", observed=True
    )
    fig = go.Figure()
    for i, actor in enumerate(actors):
        if actor not in wide:
            continue
        fig.add_trace(
            go.Scatter(
                x=wide.index,
                y=_values(wide[actor]),
                name=plot_text(actor),
                mode="lines",
                line=dict(color=SERIES_COLOURS[i % len(SERIES_COLOURS)], width=1.4),
            )
        )
    fig.update_yaxes(title_text=f"killed / {period}", rangemode="tozero")
    return _layout(fig, f"Killed per {period} by recorded actor (top {len(actors)} in the data)", height)


def incident_map(
    points: pd.DataFrame, *, title: str, status: dict | None = None, height: int = 620
) -> go.Figure:
    """Incidents at their coordinates, sized by fatalities, coloured by their region's alert status.

    `status` maps a region (as in `points["region"]`) to one of `STATUS_COLOURS`' keys;
    regions it does not name are "no alert". A plain longitude/latitude scatter with
    equal scales and region labels at the median of their points: plotly's geographic
    base maps load their outlines from a CDN, which an offline report cannot do.
    """
    status = status or {}
    fig = go.Figure()
    killed = points["fatalities_best"].astype("Float64").fillna(0).to_numpy(dtype=float)
    size = 4 + 3 * np.sqrt(np.minimum(killed, 400))
    of_point = points["region"].map(lambda r: status.get(r, "no alert")).to_numpy()
    for state, colour in STATUS_COLOURS.items():
        mask = of_point == state
        if not mask.any():
            continue
        here = points[mask]
        fig.add_trace(
            go.Scatter(
                x=here["longitude"],
                y=here["latitude"],
                mode="markers",
                name=state,
                marker=dict(size=size[mask], color=colour, opacity=0.55, line=dict(width=0.4, color="white")),
                text=[_hover(row) for row in here.itertuples()],
                hoverinfo="text",
            )
        )
    for region, here in points.groupby("region", observed=True, sort=False):
        fig.add_annotation(
            x=float(here["longitude"].median()),
            y=float(here["latitude"].median()),
            text=plot_text(region),
            showarrow=False,
            font=dict(size=11, color="#222"),
            bgcolor="rgba(255,255,255,0.7)",
        )
    fig.update_xaxes(title_text="longitude", showgrid=True)
    fig.update_yaxes(title_text="latitude", scaleanchor="x", scaleratio=1)
    _layout(fig, title, height)
    fig.update_layout(hovermode="closest")
    return fig


def _hover(row) -> str:
    killed = "unknown" if pd.isna(row.fatalities_best) else f"{row.fatalities_best:,}"
    injured = "unknown" if pd.isna(row.injuries_best) else f"{row.injuries_best:,}"
    place = ", ".join(plot_text(p) for p in (row.location, row.region) if isinstance(p, str) and p)
    note = row.notes if isinstance(row.notes, str) else ""
    note = plot_text(note[:160] + ("…" if len(note) > 160 else ""))
    return (
        f"{row.date_start:%Y-%m-%d} · {place}<br>killed {killed}, injured {injured}"
        f" · {plot_text(row.source)}" + (f"<br>{note}" if note else "")
    )


#: Map colours of a region's alert status (rising flags, falling flags only, none).
STATUS_COLOURS = {"alert: rising": "#b2182b", "alert: falling": "#2166ac", "no alert": "#8c8c8c"}
#: Weeks shown in each sparkline of the small multiples.
SPARK_WEEKS = 104


def small_multiples(
    weekly: pd.DataFrame,
    panels: Sequence[tuple[str, str, str]],
    *,
    measure: str = "incidents",
    columns: int = 4,
) -> go.Figure:
    """One sparkline per region: the last `SPARK_WEEKS` weeks of `measure`, titled with its arrow.

    `weekly` is a tidy panel with `week`, `region` and `measure`; `panels` holds
    (panel region value, title, direction) triples in display order. The y axes
    are each region's own: the panel is for the shape, the tables for the numbers.
    """
    rows = max(1, -(-len(panels) // columns))
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[plot_text(title) for _, title, _ in panels],
        vertical_spacing=min(0.12, 0.5 / rows),
        horizontal_spacing=0.05,
    )
    last = weekly["week"].max()
    recent = weekly[weekly["week"] > last - pd.Timedelta(weeks=SPARK_WEEKS)]
    shown = recent["week"].nunique()
    colours = {"rising": FATALITIES, "falling": TREND}
    for i, (region, title, direction) in enumerate(panels):
        rows_of = recent[recent["region"] == region].sort_values("week")
        fig.add_trace(
            go.Scatter(
                x=rows_of["week"],
                y=_values(rows_of[measure]),
                mode="lines",
                line=dict(color=colours.get(direction, CHANGE), width=1.2),
                fill="tozeroy",
                fillcolor=_rgba(colours.get(direction, CHANGE), 0.12),
                name=plot_text(title),
                showlegend=False,
            ),
            row=i // columns + 1,
            col=i % columns + 1,
        )
    fig.update_xaxes(showticklabels=False, showgrid=False)
    fig.update_yaxes(rangemode="tozero", showgrid=False, nticks=3)
    fig.update_annotations(font_size=12)
    _layout(
        fig,
        f"Weekly {measure}, "
        + (f"last {SPARK_WEEKS} weeks" if shown >= SPARK_WEEKS else f"all {shown} weeks")
        + ", by region (arrow: direction)",
        150 + 120 * rows,
    )
    fig.update_layout(hovermode="closest", margin=dict(l=40, r=20, t=90, b=20))
    return fig


def fan_chart(
    observed: pd.DataFrame, forecast: pd.DataFrame, title: str, *, history_weeks: int = 52
) -> go.Figure:
    """The last `history_weeks` weeks of each measure and the forecast's fan after them.

    `observed`: a one-series weekly panel (`week` plus measures). `forecast`: the
    forecast stage's weekly table for that series, long (`measure`, `week`, `mean`,
    `q0.025` ... `q0.975`); bands 95%, 80% and 50%, median as a line.
    """
    measures = [m for m in ("incidents", "fatalities_best") if m in set(forecast["measure"])]
    fig = make_subplots(rows=len(measures), cols=1, shared_xaxes=True, vertical_spacing=0.1)
    seen = observed.sort_values("week").tail(history_weeks)
    for row, measure in enumerate(measures, 1):
        label = "incidents" if measure == "incidents" else "killed"
        colour = TREND if measure == "incidents" else FATALITIES
        fc = forecast[forecast["measure"] == measure].sort_values("week")
        _line(fig, seen["week"], _values(seen[measure]), f"{label} (observed)", colour, label, row)
        # the axis shows the observed weeks and the 80% range; a wider band is cut (its legend says so)
        shown = [_values(seen[measure])] + [fc[q].to_numpy(dtype=float) for q in ("q0.5", "q0.9") if q in fc]
        top = HEADROOM * max(float(np.nanmax(np.concatenate(shown), initial=0)), 1.0)
        for low, high, opacity, band in (
            ("q0.025", "q0.975", 0.12, "95%"),
            ("q0.1", "q0.9", 0.2, "80%"),
            ("q0.25", "q0.75", 0.3, "50%"),
        ):
            if low in fc and high in fc:
                _band(
                    fig,
                    fc["week"],
                    fc[low].to_numpy(dtype=float),
                    fc[high].to_numpy(dtype=float),
                    colour,
                    f"{label}: {band} forecast range"
                    + (" (cut)" if np.nanmax(fc[high].to_numpy(dtype=float), initial=0) > top else ""),
                    row,
                    label,
                    opacity=opacity,
                )
        fig.add_trace(
            go.Scatter(
                x=fc["week"],
                y=fc["q0.5"],
                name=f"{label}: forecast median",
                mode="lines",
                line=dict(color=colour, width=2, dash="dash"),
                legendgroup=label,
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text=f"{label} / week", row=row, col=1, range=[0, top])
    return _layout(fig, title, 260 + 200 * len(measures))
