"""Small SVG plots for the widgets: a line chart, a contour plot, a heatmap. Arrays in, SVG strings out.

Plain string building on NumPy (no matplotlib), so a redraw costs a millisecond or two and every figure is
a self-contained ``<svg>`` that an ``HTML`` widget, a static HTML snapshot or an XML parser can take.
"""

import base64
import html
import itertools
import struct
import zlib

import numpy as np

FONT = 'font-family="sans-serif" font-size="11"'
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_LOW_TO_HIGH = np.array([(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)], float)
_NEGATIVE_TO_POSITIVE = np.array([(33, 102, 172), (247, 247, 247), (178, 24, 43)], float)
_figure_ids = itertools.count()
CHAR_PX = 6.5  # the width of a character of FONT, generously


def escape(text):
    """Text made safe for SVG/HTML content and attributes."""
    return html.escape(str(text), quote=True)


def number(value):
    """A short, readable number: 0.0123, 1.23e-05, 1234.5, nan."""
    return f"{value:.4g}" if np.isfinite(value) else str(value)


def _interpolate(stops, t):
    """Colours (..., 3) for t in [0, 1] on a ramp through the given RGB stops."""
    t = np.clip(np.nan_to_num(np.asarray(t, float), nan=0.5), 0, 1) * (len(stops) - 1)
    i = np.minimum(t.astype(int), len(stops) - 2)
    f = (t - i)[..., None]
    return stops[i] * (1 - f) + stops[i + 1] * f


def _hex(rgb):
    return "#%02x%02x%02x" % tuple(int(round(c)) for c in rgb)


class Axes:
    """Maps data coordinates to pixels of a width x height figure, with margins for the tick labels (the
    left one widened to fit the longest y tick label)."""

    def __init__(self, xlim, ylim, width, height, log_y=False, margin=(46, 10, 22, 30)):
        self.left, self.right, self.top, self.bottom = margin
        self.width, self.height, self.log_y = width, height, log_y
        self.xlim, self.ylim = _widen(*xlim), _widen(*(np.log10(ylim) if log_y else ylim))
        self.left = max(self.left, round(CHAR_PX * max(len(t) for t in self.y_ticks())) + 20)

    def y_ticks(self):
        """The texts at the bottom and the top of the y axis."""
        return [number(v) for v in ((10.0 ** v for v in self.ylim) if self.log_y else self.ylim)]

    def x(self, value):
        (lo, hi), span = self.xlim, self.width - self.left - self.right
        return self.left + (np.asarray(value, float) - lo) / (hi - lo) * span

    def y(self, value):
        value = np.log10(value) if self.log_y else np.asarray(value, float)
        (lo, hi), span = self.ylim, self.height - self.top - self.bottom
        return self.height - self.bottom - (value - lo) / (hi - lo) * span

    def frame(self, title, x_label, y_label, body):
        """The whole <svg>: title, plot box, tick labels at both ends of each axis, then body on top."""
        x0, x1 = self.left, self.width - self.right
        y0, y1 = self.top, self.height - self.bottom
        ylo, yhi = self.y_ticks()
        clip = f"nt-clip-{next(_figure_ids)}"  # unique: several figures share one HTML page
        ticks = [(x0, y1 + 13, "start", number(self.xlim[0])), (x1, y1 + 13, "end", number(self.xlim[1])),
                 (x0 - 4, y1, "end", ylo), (x0 - 4, y0 + 8, "end", yhi)]
        text = "".join(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{a}">{escape(s)}</text>' for x, y, a, s in ticks)
        if self.log_y:  # say so: a log axis read as a linear one misleads
            text += f'<text class="numtorch-log-scale" x="{x1}" y="14" text-anchor="end" fill="#666">log scale</text>'
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}" {FONT}>'
                f'<rect width="100%" height="100%" fill="white"/>'
                f'<defs><clipPath id="{clip}"><rect x="{x0}" y="{y0}" width="{x1 - x0}" '
                f'height="{y1 - y0}"/></clipPath></defs>'
                f'<text x="{x0}" y="14" font-weight="bold">{escape(title)}</text>'
                f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="none" stroke="#999"/>'
                f'{text}<text x="{(x0 + x1) / 2:.1f}" y="{self.height - 3}" text-anchor="middle">{escape(x_label)}</text>'
                f'<text x="10" y="{(y0 + y1) / 2:.1f}" text-anchor="middle" '
                f'transform="rotate(-90 10 {(y0 + y1) / 2:.1f})">{escape(y_label)}</text>'
                f'<g clip-path="url(#{clip})">{body}</g></svg>')


def _widen(lo, hi):
    """A non-empty range: a flat series still gets a plot box."""
    lo, hi = float(lo), float(hi)
    return (lo - 0.5, hi + 0.5) if hi - lo < 1e-12 * max(1.0, abs(lo)) else (lo, hi)


def _points(axes, xs, ys):
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(axes.x(xs), axes.y(ys)))


def line_chart(series, title="loss", width=360, height=200, x_label="step", y_label="loss", log_y=None):
    """Curves on one chart. series: (label, values, colour) triples, values[k] drawn at step k + 1.

    log_y: a log scale for y; by default when every value is positive and they span over a factor 100.
    Non-finite values (a diverged run) are left out of the line and named in the legend.
    """
    finite = np.concatenate([np.asarray(v, float) for _, v, _ in series] + [np.zeros(0)])
    finite = finite[np.isfinite(finite)]
    n = max((len(v) for _, v, _ in series), default=0)
    if finite.size == 0:
        axes = Axes((1, max(n, 1)), (0, 1), width, height)
        note = "no steps yet: press Step" if n == 0 else "no finite values: the run diverged"
        body = f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#666">{note}</text>'
        return axes.frame(title, x_label, y_label, body)
    if log_y is None:
        log_y = finite.min() > 0 and finite.max() > 100 * finite.min()
    axes = Axes((1, max(n, 1)), (finite.min(), finite.max()), width, height, log_y=log_y)
    body = []
    for i, (label, values, colour) in enumerate(series):
        values = np.asarray(values, float)
        steps = np.arange(1, len(values) + 1)
        keep = np.isfinite(values) & ((values > 0) if log_y else True)
        if len(values) > 2 * width:  # more points than pixels: thin out, keep the last one
            keep &= np.isin(steps, np.unique(np.linspace(1, len(values), 2 * width).astype(int)))
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                    f'points="{_points(axes, steps[keep], values[keep])}"/>')
        if keep.sum() <= 30:  # few points: mark each (a single one has no line)
            body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>'
                     for x, y in zip(axes.x(steps[keep]), axes.y(values[keep]))]
        if len(series) > 1 or not keep.all():
            note = "" if np.isfinite(values).all() else " (diverged)"
            body.append(f'<text x="{width - axes.right - 6}" y="{axes.top + 14 + 13 * i}" fill="{colour}" '
                        f'text-anchor="end">{escape(label)}{note}</text>')
    return axes.frame(title, x_label, y_label, "".join(body))


def contour_segments(xs, ys, z, level):
    """Marching squares: the pieces of the curve z = level as an array (n, 2, 2) of [[x0, y0], [x1, y1]].

    z[i, j] is the value at (xs[j], ys[i]). Each grid cell whose corners lie on both sides of the level
    holds one piece (two on a saddle, split by the value at the cell's centre).
    """
    a, b, c, d = z[:-1, :-1], z[:-1, 1:], z[1:, 1:], z[1:, :-1]  # corners anticlockwise from (x0, y0)
    gx, gy = np.meshgrid(xs, ys)
    x0, x1, y0, y1 = gx[:-1, :-1], gx[:-1, 1:], gy[:-1, :-1], gy[1:, :-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        edges = [  # (crosses?, x, y) on the bottom, right, top and left edge of each cell
            ((a > level) != (b > level), x0 + (level - a) / (b - a) * (x1 - x0), y0),
            ((b > level) != (c > level), x1, y0 + (level - b) / (c - b) * (y1 - y0)),
            ((d > level) != (c > level), x0 + (level - d) / (c - d) * (x1 - x0), y1),
            ((a > level) != (d > level), x0, y0 + (level - a) / (d - a) * (y1 - y0)),
        ]
    crossings = sum(e[0].astype(int) for e in edges)
    centre_like_a = ((a + b + c + d) / 4 > level) == (a > level)
    pairs = [(i, j, (crossings == 2) & edges[i][0] & edges[j][0]) for i in range(4) for j in range(i + 1, 4)]
    pairs += [(0, 1, (crossings == 4) & centre_like_a), (2, 3, (crossings == 4) & centre_like_a),
              (0, 3, (crossings == 4) & ~centre_like_a), (1, 2, (crossings == 4) & ~centre_like_a)]
    pieces = [np.stack([_edge_points(edges[i], mask), _edge_points(edges[j], mask)], axis=1) for i, j, mask in pairs]
    return np.concatenate(pieces) if pieces else np.zeros((0, 2, 2))


def _edge_points(edge, mask):
    _, x, y = edge
    shape = mask.shape
    return np.stack([np.broadcast_to(x, shape)[mask], np.broadcast_to(y, shape)[mask]], axis=-1)


class ContourPlot:
    """The contour lines of z over a grid, drawn once; ``svg(paths)`` puts trajectories on top.

    xs, ys: the grid's coordinates; z[i, j] the value at (xs[j], ys[i]). Levels are spaced evenly in
    log(z - min z), so both a gentle bowl and a steep valley get lines near their bottom.
    """

    def __init__(self, xs, ys, z, width=300, height=280, levels=14, labels=("x", "y"), minimum=None):
        self.axes = Axes((xs[0], xs[-1]), (ys[0], ys[-1]), width, height, margin=(40, 10, 22, 30))
        self.labels = labels
        span = max(float(np.nanmax(z) - np.nanmin(z)), 1e-12)
        heights = np.nanmin(z) + span * np.geomspace(1e-4, 0.9, levels)
        colours = _interpolate(_LOW_TO_HIGH, np.linspace(0, 1, levels))
        self.lines = "".join(self._level(contour_segments(xs, ys, z, h), _hex(c)) for h, c in zip(heights, colours))
        if minimum is not None:
            mx, my = self.axes.x(minimum[0]), self.axes.y(minimum[1])
            self.lines += (f'<path d="M{mx - 5:.1f},{my - 5:.1f}L{mx + 5:.1f},{my + 5:.1f}M{mx - 5:.1f},{my + 5:.1f}'
                           f'L{mx + 5:.1f},{my - 5:.1f}" stroke="black" stroke-width="2"><title>minimum</title></path>')

    def _level(self, segments, colour):
        px, py = self.axes.x(segments[..., 0]), self.axes.y(segments[..., 1])
        d = "".join(f"M{a:.1f},{b:.1f}L{c:.1f},{e:.1f}" for (a, c), (b, e) in zip(px, py))
        return f'<path d="{d}" stroke="{colour}" fill="none" stroke-width="1"/>' if d else ""

    def svg(self, paths=(), title=""):
        """The plot with each path drawn on it. paths: (xs, ys, colour) triples; the start is a ring, the
        current point a dot."""
        body = [self.lines]
        for xs, ys, colour in paths:
            px, py = self.axes.x(xs), self.axes.y(ys)
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{_points(self.axes, xs, ys)}"/>'
                        f'<circle cx="{px[0]:.1f}" cy="{py[0]:.1f}" r="4" fill="white" stroke="{colour}" stroke-width="2"/>'
                        f'<circle cx="{px[-1]:.1f}" cy="{py[-1]:.1f}" r="4" fill="{colour}"/>')
        return self.axes.frame(title, *self.labels, "".join(body))


def heatmap(matrix, size=120):
    """A small heatmap of a matrix (blue negative, white zero, red positive, scaled by max |value|).

    Drawn as a PNG inside the SVG: one pixel per entry, scaled up without smoothing, so a 64 x 128 weight
    costs a few kilobytes. A vector is drawn as one row; more dimensions fold into the columns.
    """
    m = np.asarray(matrix, float)
    m = m.reshape(1, -1) if m.ndim < 2 else m.reshape(m.shape[0], -1)
    scale = np.nanmax(np.abs(m), initial=0.0) if np.isfinite(m).any() else 0.0
    rgb = _interpolate(_NEGATIVE_TO_POSITIVE, 0.5 + 0.5 * m / (scale or 1.0)).astype(np.uint8)
    rows, cols = m.shape
    cell = max(1.0, min(12.0, size / max(rows, cols)))
    width, height = max(8, round(cols * cell)), max(8, round(rows * cell))
    png = base64.b64encode(_png(rgb)).decode("ascii")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" '
            f'height="{height}"><title>{rows} x {cols}, max |value| {number(scale)}</title>'
            f'<image width="{width}" height="{height}" preserveAspectRatio="none" style="image-rendering:pixelated" '
            f'xlink:href="data:image/png;base64,{png}"/>'
            f'<rect width="{width}" height="{height}" fill="none" stroke="#999"/></svg>')


def _png(rgb):
    """The bytes of an RGB PNG image (rgb: uint8 array of shape (rows, cols, 3))."""
    rows, cols, _ = rgb.shape
    scanlines = np.concatenate([np.zeros((rows, 1), np.uint8), rgb.reshape(rows, cols * 3)], axis=1)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", cols, rows, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(scanlines.tobytes()))
            + chunk(b"IEND", b""))
