"""Server-side SVG charts for the dashboard, readable at a glance and safe to embed.

Contracts:
- Every function returns one complete, well-formed `<svg>` element: `xmlns`, a fixed
  `viewBox` with `width="100%"` (it scales with its container), `role="img"`,
  `class="chart"`, an `aria-label` and a `<title>` naming the chart.
- Every text drawn (title, labels, values, tooltips) goes through `html.escape`: labels
  may be visitor texts. Long labels are shortened with "…" before escaping.
- Each data point is exactly one element with `class="mark"` and a `data-value` attribute
  holding the raw value (zero values included, drawn with zero size), so a test can count
  marks. Marks carry a `<title>` tooltip with the full label and value.
- No data draws the centred text `NO_DATA` (in the language of `texts`) and no marks.
- Every chart takes `texts` (a `lotse.translations.Translator`): "No data" and the
  numbers in its language's format ("42,0 %" in German); titles and labels come in
  already translated. Without it: English.
- Values must be finite and non-negative (interval rows: 0 <= low <= rate <= high <= 1);
  anything else raises `ValueError`: a chart that silently hides bad numbers misleads.
- Colours come from `PALETTE`, each at least 4.5:1 against white (and white text on it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

from lotse.translations import N_, Translator

NO_DATA = N_("No data")  # shown in the language of `texts`
PLAIN = Translator("en", Path("."), "")  # English without a catalogue
PALETTE = ("#1f5fa8", "#b34700", "#6a3d9a", "#2e7d32", "#a61b1b", "#595959")
INK = "#1a1a1a"
MUTED = "#595959"
GRID = "#d0d0d0"
WHITE = "#ffffff"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

WIDTH = 640
PAD = 12
TITLE_HEIGHT = 34
ROW_HEIGHT = 28
BAR_HEIGHT = 18
LABEL_WIDTH = 190
LABEL_CHARS = 26
COLUMN_LABEL_CHARS = 12
CHAR_WIDTH = 6.5  # rough width of one 12px character, for layout only
MAX_LABELED_COLUMNS = 15
TOLERANCE = 1e-9


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def _num(value: float) -> str:
    """Coordinates: two decimals at most, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _data_value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def format_value(
    value: float, unit: str = "", percent: bool = False, texts: Translator = PLAIN
) -> str:
    """`0.42` -> "42.0 %" with `percent`; else "12", "3.5", "1234" plus " unit"; in
    German with a decimal comma ("42,0 %", "3,5")."""
    if percent:
        text = f"{value * 100:.1f} %"
    elif float(value).is_integer():
        text = str(int(value))
    else:
        text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if texts.language == "de":
        text = text.replace(".", ",")
    return f"{text} {unit}" if unit else text


def _text(x: float, y: float, content: str, anchor: str = "start", **attrs: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attrs.items())
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'
    )


def _mark(tag: str, value: float, tooltip: str, **attrs: float | str) -> str:
    shape = "".join(
        f' {name.replace("_", "-")}="{_num(v) if isinstance(v, float | int) else v}"'
        for name, v in attrs.items()
    )
    return (
        f'<{tag} class="mark" data-value="{_data_value(value)}"{shape}>'
        f"<title>{escape(_short(tooltip, 300))}</title></{tag}>"
    )


def _svg(title: str, height: float, body: Sequence[str]) -> str:
    name = escape(title)
    return "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'aria-label="{name}" width="100%" viewBox="0 0 {WIDTH} {_num(height)}" '
            f'font-family="{FONT}" font-size="12" fill="{INK}">',
            f"<title>{name}</title>",
            _text(PAD, 22, _short(title, 80), font_size="15", font_weight="600"),
            *body,
            "</svg>",
        ]
    )


def _no_data(title: str, texts: Translator) -> str:
    height = TITLE_HEIGHT + 80
    words = texts(NO_DATA)
    return _svg(title, height, [_text(WIDTH / 2, height / 2 + 16, words, "middle", fill=MUTED)])


def _check(values: Sequence[float]) -> None:
    for value in values:
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"chart values must be finite and non-negative, got {value!r}")


def _bar(x: float, y: float, width: float, value: float, tooltip: str, colour: str,
         **attrs: str) -> str:  # fmt: skip
    """One horizontal bar (a mark) of `width`, vertically centred on `y`."""
    return _mark(
        "rect", value, tooltip, x=x, y=y - BAR_HEIGHT / 2, width=width, height=BAR_HEIGHT,
        fill=colour, stroke=WHITE, stroke_width="1", **attrs,
    )  # fmt: skip


def _row_label(y: float, label: str, **attrs: str) -> str:
    return _text(PAD + LABEL_WIDTH - 8, y + 4, _short(label, LABEL_CHARS), "end", **attrs)


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float]],
    unit: str = "",
    percent: bool = False,
    texts: Translator = PLAIN,
    quoted: bool = False,
) -> str:
    """Horizontal bars, label at the left, value at the bar's end.

    With `percent`, values are fractions (0.42 is shown as "42.0 %") on a scale of at
    least 100 %, so percentage charts compare across the page. One mark per bar.
    `quoted`: the labels are what people wrote, marked translate="no" (data, in
    whatever language it was written).
    """
    if not bars:
        return _no_data(title, texts)
    _check([value for _, value in bars])
    largest = max(value for _, value in bars)
    scale = max(largest, 1.0) if percent else (largest or 1.0)
    x0, plot = PAD + LABEL_WIDTH, WIDTH - 2 * PAD - LABEL_WIDTH - 80
    body = []
    for i, (label, value) in enumerate(bars):
        y = TITLE_HEIGHT + i * ROW_HEIGHT + ROW_HEIGHT / 2
        width = value / scale * plot
        shown = format_value(value, unit, percent, texts)
        data = {"translate": "no"} if quoted else {}
        body.append(_row_label(y, label, **data))
        body.append(_bar(x0, y, width, value, f"{label}: {shown}", PALETTE[0], **data))
        body.append(_text(x0 + width + 6, y + 4, shown))
    return _svg(title, TITLE_HEIGHT + len(bars) * ROW_HEIGHT + PAD, body)


def _legend(series: Sequence[str], top: float) -> tuple[list[str], float]:
    """Swatches with series names, wrapped across lines; returns the parts and height."""
    parts, x, y = [], float(PAD), top
    for i, name in enumerate(series):
        shown = _short(name, 30)
        width = 18 + len(shown) * CHAR_WIDTH + 16
        if x + width > WIDTH - PAD and x > PAD:
            x, y = float(PAD), y + 20
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(y - 10)}" width="12" height="12" fill="{PALETTE[i]}"/>'
        )
        parts.append(_text(x + 18, y, shown))
        x += width
    return parts, y - top + 20


def stacked_bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[str],
    texts: Translator = PLAIN,
) -> str:
    """Horizontal stacked bars on one common scale, with a legend naming `series`.

    Each row holds one value per series (ValueError otherwise, or when there are more
    series than `PALETTE` colours). One mark per value; the row total ends each bar.
    """
    if not rows or not series:
        return _no_data(title, texts)
    if len(series) > len(PALETTE):
        raise ValueError(f"at most {len(PALETTE)} series, got {len(series)}")
    for label, values in rows:
        if len(values) != len(series):
            raise ValueError(f"row {label!r} has {len(values)} values for {len(series)} series")
        _check(values)
    legend, legend_height = _legend(series, TITLE_HEIGHT + 6)
    top = TITLE_HEIGHT + legend_height + 4
    scale = max(sum(values) for _, values in rows) or 1.0
    x0, plot = PAD + LABEL_WIDTH, WIDTH - 2 * PAD - LABEL_WIDTH - 60
    body = list(legend)
    for i, (label, values) in enumerate(rows):
        y = top + i * ROW_HEIGHT + ROW_HEIGHT / 2
        body.append(_row_label(y, label))
        x = float(x0)
        for j, (name, value) in enumerate(zip(series, values, strict=True)):
            width = value / scale * plot
            shown = format_value(value, texts=texts)
            tooltip = f"{label} – {name}: {shown}"
            body.append(_bar(x, y, width, value, tooltip, PALETTE[j]))
            if width >= len(shown) * CHAR_WIDTH + 8:
                body.append(_text(x + width / 2, y + 4, shown, "middle", fill=WHITE))
            x += width
        total = format_value(sum(values), texts=texts)
        body.append(_text(x + 6, y + 4, total, font_weight="600"))
    return _svg(title, top + len(rows) * ROW_HEIGHT + PAD, body)


def _check_interval(label: str, rate: float, low: float, high: float) -> None:
    _check([rate, low, high])
    if not (low - TOLERANCE <= rate <= high + TOLERANCE and high <= 1 + TOLERANCE):
        raise ValueError(f"row {label!r} needs 0 <= low <= rate <= high <= 1")


def interval_chart(
    title: str, rows: Sequence[tuple[str, float, float, float]], texts: Translator = PLAIN
) -> str:
    """Per row (label, rate, low, high), fractions on a 0..100 % axis: a dot at the rate
    (the mark) and a whisker from low to high, with "rate (low–high)" at the right."""
    if not rows:
        return _no_data(title, texts)
    for label, rate, low, high in rows:
        _check_interval(label, rate, low, high)
    x0, plot = PAD + LABEL_WIDTH, WIDTH - 2 * PAD - LABEL_WIDTH - 130
    top = TITLE_HEIGHT + 18
    bottom = top + len(rows) * ROW_HEIGHT

    def x_of(fraction: float) -> float:
        return x0 + min(1.0, max(0.0, fraction)) * plot

    body = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(
            f'<line x1="{_num(x_of(tick))}" y1="{_num(top - 4)}" x2="{_num(x_of(tick))}" '
            f'y2="{_num(bottom)}" stroke="{GRID}" stroke-width="1"/>'
        )
        body.append(_text(x_of(tick), top - 8, f"{tick * 100:.0f} %", "middle", fill=MUTED))
    for i, (label, rate, low, high) in enumerate(rows):
        y = top + i * ROW_HEIGHT + ROW_HEIGHT / 2
        left, right = _num(x_of(low)), _num(x_of(high))
        span = f"{low * 100:.1f}–{high * 100:.1f}"
        if texts.language == "de":
            span = span.replace(".", ",")
        shown = f"{format_value(rate, percent=True, texts=texts)} ({span})"
        body.append(_row_label(y, label))
        body.append(
            f'<path class="whisker" d="M{left} {_num(y - 5)}V{_num(y + 5)}M{left} {_num(y)}'
            f'H{right}M{right} {_num(y - 5)}V{_num(y + 5)}" stroke="{MUTED}" '
            f'stroke-width="1.5" fill="none"/>'
        )
        body.append(
            _mark("circle", rate, f"{label}: {shown}", cx=x_of(rate), cy=y, r=5, fill=PALETTE[0])
        )
        body.append(_text(x0 + plot + 10, y + 4, shown))
    return _svg(title, bottom + PAD, body)


def _value_axis(
    left: float, top: float, bottom: float, scale: float, texts: Translator
) -> list[str]:
    """A baseline at 0 and a dashed line at the largest value, both labelled."""
    return [
        f'<line x1="{_num(left)}" y1="{_num(top)}" x2="{WIDTH - PAD}" y2="{_num(top)}" '
        f'stroke="{GRID}" stroke-dasharray="3 3"/>',
        _text(left - 6, top + 4, format_value(scale, texts=texts), "end", fill=MUTED),
        f'<line x1="{_num(left)}" y1="{_num(bottom)}" x2="{WIDTH - PAD}" y2="{_num(bottom)}" '
        f'stroke="{MUTED}"/>',
        _text(left - 6, bottom + 4, "0", "end", fill=MUTED),
    ]


def column_chart(
    title: str, columns: Sequence[tuple[str, float]], texts: Translator = PLAIN
) -> str:
    """Vertical columns on one scale, one mark per column, labels underneath.

    Values are written above the columns when there are at most `MAX_LABELED_COLUMNS`
    and they fit, else only in the tooltips. Labels are thinned to every n-th so that at
    most `MAX_LABELED_COLUMNS` show and none touch its neighbour.
    """
    if not columns:
        return _no_data(title, texts)
    _check([value for _, value in columns])
    height, left = 260.0, PAD + 44
    top, bottom = TITLE_HEIGHT + 20, height - 30
    plot_width, plot_height = WIDTH - PAD - left, bottom - top
    scale = max(value for _, value in columns) or 1.0
    slot = plot_width / len(columns)
    labels = [_short(label, COLUMN_LABEL_CHARS) for label, _ in columns]
    widest = max(len(label) for label in labels) * CHAR_WIDTH + 8
    # Every step-th label is drawn: at most MAX_LABELED_COLUMNS, and never touching.
    step = max(math.ceil(len(columns) / MAX_LABELED_COLUMNS), math.ceil(widest / slot))
    show_values = len(columns) <= MAX_LABELED_COLUMNS and all(
        len(format_value(value, texts=texts)) * CHAR_WIDTH <= slot for _, value in columns
    )
    body = _value_axis(left, top, bottom, scale, texts)
    for i, (label, value) in enumerate(columns):
        centre = left + slot * (i + 0.5)
        column = value / scale * plot_height
        tooltip = f"{label}: {format_value(value, texts=texts)}"
        body.append(
            _mark("rect", value, tooltip, x=centre - slot * 0.35, y=bottom - column,
                  width=slot * 0.7, height=column, fill=PALETTE[0])
        )  # fmt: skip
        if show_values:
            body.append(_text(centre, bottom - column - 5, format_value(value, texts=texts),
                              "middle"))  # fmt: skip
        if i % step == 0:
            body.append(_text(centre, bottom + 16, labels[i], "middle"))
    return _svg(title, height, body)
