"""The plotly figure builders: plain data in, a figure out; no database, no request."""

from models_app import charts

ACCURACY = {"id": "accuracy", "label": "Accuracy", "unit": "ratio", "higher_is_better": True}
LATENCY = {"id": "latency_p95_ms", "label": "Latency p95", "unit": "ms", "higher_is_better": False}
LOSS = {"id": "train_loss", "label": "Training loss", "unit": "", "higher_is_better": False}
VAL_LOSS = {"id": "val_loss", "label": "Validation loss", "unit": "", "higher_is_better": False}


def traces_named(figure, name):
    return [trace for trace in figure.data if trace.name == name]


# --- grouped bars ------------------------------------------------------------------------------


def test_bars_have_a_trace_per_version_and_a_group_per_metric():
    figure = charts.metric_bars(
        ["v1", "v2", "v3"],
        [ACCURACY, {**ACCURACY, "id": "f1", "label": "F1"}],
        {("v1", "accuracy"): 0.9, ("v2", "accuracy"): 0.92, ("v3", "f1"): 0.8},
    )

    assert [trace.name for trace in figure.data] == ["v1", "v2", "v3"]
    assert all(trace.type == "bar" for trace in figure.data)
    assert list(figure.data[0].x) == ["Accuracy ↑", "F1 ↑"]
    assert figure.layout.barmode == "group"
    # A missing value is no bar at all, never a zero-height one.
    assert list(figure.data[2].y) == [None, 0.8]
    assert [trace.marker.color for trace in figure.data] == list(charts.PALETTE[:3])


def test_bars_of_different_units_get_their_own_axis_titled_by_unit():
    figure = charts.metric_bars(
        ["v1", "v2"],
        [ACCURACY, LATENCY],
        {("v1", "accuracy"): 0.9, ("v1", "latency_p95_ms"): 40.0, ("v2", "latency_p95_ms"): 35.0},
    )

    assert len(figure.data) == 4  # two versions on each of two axes
    assert figure.layout.yaxis.title.text == "ratio"
    assert figure.layout.yaxis2.title.text == "ms"
    latency_bars = [trace for trace in figure.data if trace.yaxis == "y2"]
    assert [list(trace.x) for trace in latency_bars] == [["Latency p95 ↓"], ["Latency p95 ↓"]]
    # One legend entry per version, not per axis.
    assert [trace.showlegend for trace in figure.data] == [True, True, False, False]
    assert figure.layout.title.subtitle.text == "↑ higher is better · ↓ lower is better"
    assert "40 ms" in latency_bars[0].customdata


def test_bars_are_labelled_with_their_values_while_they_fit():
    few = charts.metric_bars(["v1", "v2"], [ACCURACY], {("v1", "accuracy"): 0.91234})
    versions = [f"v{n}" for n in range(1, 11)]
    many_metrics = [{**ACCURACY, "id": f"m{n}", "label": f"M{n}"} for n in range(5)]
    many = charts.metric_bars(versions, many_metrics, {})

    assert list(few.data[0].text) == ["0.9123"]
    assert list(few.data[1].text) == [""]
    assert many.data[0].text is None


# --- one metric across versions ----------------------------------------------------------------


def test_the_trend_puts_versions_on_x_and_names_the_unit_and_direction():
    figure = charts.metric_trend(
        [
            {"version": 3, "value": 41.0},
            {"version": 1, "value": 52.5},
            {"version": 2, "value": None},
        ],
        metric=LATENCY,
    )

    line = figure.data[0]
    assert list(line.x) == [1, 2, 3]
    assert list(line.y) == [52.5, None, 41.0]
    assert line.connectgaps is False
    assert list(figure.layout.xaxis.ticktext) == ["v1", "v2", "v3"]
    assert figure.layout.xaxis.title.text == "version"
    assert figure.layout.yaxis.title.text == "Latency p95 (ms)"
    assert figure.layout.title.text == "Latency p95 across versions"
    assert figure.layout.title.subtitle.text == "↓ lower is better"


def test_the_trend_marks_versions_that_ran_in_staging_or_production():
    points = [{"version": n, "value": 0.8 + n / 100} for n in range(1, 6)]

    figure = charts.metric_trend(
        points,
        metric=ACCURACY,
        environments={2: {"production"}, 3: {"staging", "production"}, 4: {"development"}},
    )

    (production,) = traces_named(figure, "Ran in production")
    (staging,) = traces_named(figure, "Ran in staging")
    assert list(production.x) == [2, 3]
    assert production.marker.symbol == "star"
    assert list(staging.x) == [3]
    # The star is drawn after (on top of) the staging marker.
    assert figure.data.index(production) > figure.data.index(staging)
    assert not traces_named(figure, "Ran in development")


def test_the_trend_draws_a_horizontal_line_per_threshold():
    figure = charts.metric_trend(
        [{"version": 1, "value": 0.9}],
        metric=ACCURACY,
        thresholds=[("Production gate ≥ 0.95", 0.95), ("Staging gate ≥ 0.9", 0.9)],
    )

    assert [shape.y0 for shape in figure.layout.shapes] == [0.95, 0.9]
    assert all(shape.y0 == shape.y1 and shape.line.dash == "dash" for shape in figure.layout.shapes)
    labels = [annotation.text for annotation in figure.layout.annotations]
    assert labels == ["Production gate ≥ 0.95", "Staging gate ≥ 0.9"]


def test_a_trend_without_markers_or_thresholds_is_a_single_line():
    figure = charts.metric_trend([{"version": 1, "value": 1.0}], metric=ACCURACY)

    assert len(figure.data) == 1
    assert not figure.layout.shapes


# --- training curves ---------------------------------------------------------------------------


def test_curves_put_a_panel_per_metric_and_a_line_per_version():
    rows = [
        {"version": "v1", "metric": "train_loss", "step": 2, "value": 0.4},
        {"version": "v1", "metric": "train_loss", "step": 1, "value": 0.7},
        {"version": "v2", "metric": "train_loss", "step": 1, "value": 0.6},
        {"version": "v2", "metric": "val_loss", "step": 1, "value": 0.65},
        # A step logged twice keeps the later value.
        {"version": "v2", "metric": "val_loss", "step": 1, "value": 0.62},
    ]

    figure = charts.training_curves(rows, versions=["v1", "v2"], metrics=[LOSS, VAL_LOSS])

    assert [(trace.name, trace.xaxis) for trace in figure.data] == [
        ("v1", "x"),
        ("v2", "x"),
        ("v2", "x2"),
    ]
    assert list(figure.data[0].x) == [1, 2]
    assert list(figure.data[0].y) == [0.7, 0.4]
    assert list(figure.data[2].y) == [0.62]
    assert figure.data[0].line.color == charts.PALETTE[0]
    assert figure.data[1].line.color == figure.data[2].line.color == charts.PALETTE[1]
    assert [trace.showlegend for trace in figure.data] == [True, True, False]
    assert figure.layout.xaxis.title.text == figure.layout.xaxis2.title.text == "step"
    assert figure.layout.yaxis.title.text == "Training loss"
    assert [a.text for a in figure.layout.annotations] == ["Training loss ↓", "Validation loss ↓"]
    assert figure.layout.title.subtitle.text == "↓ lower is better"


# --- slices ------------------------------------------------------------------------------------


def test_slice_bars_group_by_slice_with_the_overall_value_first():
    rows = [
        {"version": "v1", "slice": "gender=male", "value": 0.81},
        {"version": "v1", "slice": "", "value": 0.8},
        {"version": "v1", "slice": "gender=female", "value": 0.78},
        {"version": "v2", "slice": "gender=female", "value": 0.8},
    ]

    figure = charts.slice_bars(rows, versions=["v1", "v2"], metric={**ACCURACY, "label": "Recall"})

    assert [trace.name for trace in figure.data] == ["v1", "v2"]
    assert list(figure.data[0].x) == ["overall", "gender=female", "gender=male"]
    assert list(figure.data[1].y) == [None, 0.8, None]
    assert figure.layout.yaxis.title.text == "Recall (ratio)"
    assert figure.layout.title.text == "Recall by slice"
    assert figure.layout.title.subtitle.text == "↑ higher is better"


# --- rendering ---------------------------------------------------------------------------------


def test_render_gives_a_fragment_without_plotly_js_or_the_logo():
    html = charts.render(charts.metric_trend([{"version": 1, "value": 0.9}], metric=ACCURACY))

    assert "plotly-graph-div" in html
    assert "Plotly.newPlot" in html
    assert "<html" not in html
    assert "<script src" not in html and "cdn" not in html.lower()
    assert '"displaylogo": false' in html
    assert '"responsive": true' in html


def test_render_escapes_labels_that_look_like_markup():
    rows = [{"version": "v1", "slice": "</script><script>alert(1)</script>", "value": 0.5}]

    html = charts.render(charts.slice_bars(rows, versions=["v1"], metric=ACCURACY))

    assert "</script><script>alert(1)" not in html


def test_a_long_legend_moves_beside_the_chart_instead_of_over_the_title():
    short = charts.metric_bars(["v1", "v2"], [ACCURACY], {})
    versions = [f"fraud-classifier v{n}" for n in range(1, 11)]
    long = charts.metric_bars(versions, [ACCURACY], {})

    assert short.layout.legend.orientation == "h"
    assert long.layout.legend.orientation == "v"
    assert long.layout.legend.x > 1


def test_a_legend_column_of_ten_versions_gets_a_figure_tall_enough_for_it():
    versions = [f"fraud-classifier v{n}" for n in range(1, 11)]
    rows = [{"version": v, "slice": "age=65+", "value": 0.5} for v in versions]

    few = charts.slice_bars(rows[:2], versions=versions[:2], metric=ACCURACY)
    many = charts.slice_bars(rows, versions=versions, metric=ACCURACY)

    assert few.layout.height == 380
    assert many.layout.height >= charts.LEGEND_COLUMN_BASE + 10 * charts.LEGEND_ENTRY_HEIGHT
