"""Figures of operando optical movies (matplotlib imported inside the functions).

* :func:`plot_particle_map` — the first frame with the particles outlined and numbered;
* :func:`plot_traces_vs_soc` — per-particle traces against SOC and their derivative, one
  column per half cycle (as (Sharma et al., Nano Lett. 2022) Fig. 1c);
* :func:`plot_differential_images` — differential-contrast images on a zero-centred
  diverging colour scale (as (Xu et al., Joule 2022) Fig. 2b: red = brighter = Li-poorer, blue = darker);
* :func:`plot_com_distance` — distance between a particle's centre of mass and that of its
  unreacted region against SOC (as (Lun et al.) Fig. S4);
* :func:`plot_drift` — the stage drift trace.
"""

from __future__ import annotations

import numpy as np

from ._common import _plt

__all__ = ["plot_com_distance", "plot_differential_images", "plot_drift", "plot_particle_map",
           "plot_traces_vs_soc"]


def _boundaries(labels: np.ndarray) -> np.ndarray:
    """Pixels of a label image that touch a pixel of another label (4-neighbourhood)."""
    lab = np.asarray(labels)
    edge = np.zeros(lab.shape, dtype=bool)
    dy = lab[1:, :] != lab[:-1, :]
    dx = lab[:, 1:] != lab[:, :-1]
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    return edge & (lab > 0)


def _extent(shape, pixel_size_nm):
    if pixel_size_nm is None:
        return None, "x [px]", "y [px]"
    s = pixel_size_nm * 1e-3
    return [-0.5 * s, (shape[1] - 0.5) * s, (shape[0] - 0.5) * s, -0.5 * s], "x [µm]", "y [µm]"


#: aspect ratios (height / width) beyond which an image is a strip and gets a strip layout
WIDE, TALL = 0.5, 2.0


def _map_figsize(h: int, w: int) -> tuple[float, float]:
    """Figure size [in] for one image of ``h`` x ``w`` pixels with its labels: never a sliver, never a tower."""
    a = h / max(w, 1)
    if a < WIDE:  # wide strip: wider figure, height for the image, title and x labels
        return 9.0, max(2.4, 9.0 * a + 1.4)
    if a > TALL:  # tall strip: capped height, width for the y labels
        return max(3.2, 8.0 / a + 2.0), 8.0
    return 6.0, 6.0 * a + 0.4


def _few_ticks(ax, h: int, w: int) -> None:
    """Fewer ticks on the short side of a strip, so its labels do not run into each other."""
    from matplotlib.ticker import MaxNLocator

    a = h / max(w, 1)
    if a > TALL:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=2))
    elif a < WIDE:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=3))


def _panels(h: int, w: int, n: int, *, panel_in: float = 3.0) -> tuple[int, int, tuple[float, float], str]:
    """Rows, columns, figure size and colour-bar side for ``n`` images of ``h`` x ``w`` pixels.

    Square-ish images go four to a row; wide strips stack in one column with
    the colour bar below; tall strips stand in one row, of capped height.
    """
    a = h / max(w, 1)
    if a < WIDE:
        ncol, pw = 1, 2.4 * panel_in
        ph = max(0.6, pw * a)
        nrow = n
        return nrow, ncol, (pw + 1.0, nrow * (ph + 0.75) + 1.3), "bottom"
    ncol = min(n, 8) if a > TALL else min(n, 4)
    nrow = -(-n // ncol)
    ph = min(panel_in * a, 2.2 * panel_in) if a > TALL else panel_in * a
    pw = max(1.6, ph / a + 0.9) if a > TALL else panel_in
    return nrow, ncol, (ncol * pw + 1.3, nrow * (ph + 0.75) + 0.3), "right"


def plot_particle_map(image, labels, *, particles=None, pixel_size_nm=None, ax=None):
    """The first frame in grey with every particle outlined, tinted and numbered.

    Parameters
    ----------
    image : array_like, shape (y, x)
        The frame the particles were found on.
    labels : array_like of int, shape (y, x)
    particles : pandas.DataFrame, optional
        Table with ``label``, ``centroid_y_px``, ``centroid_x_px`` and
        ``touches_edge``; particles cut by the image edge get a bracketed
        grey number. Without it, centroids are computed from ``labels``.
    pixel_size_nm : float, optional
        Axes in µm instead of pixels.
    """
    plt = _plt()
    img = np.asarray(image, dtype=float)
    lab = np.asarray(labels)
    h, w = lab.shape
    if ax is None:
        _, ax = plt.subplots(figsize=_map_figsize(h, w), layout="constrained")
    extent, xl, yl = _extent(lab.shape, pixel_size_nm)
    finite = img[np.isfinite(img)]
    lo, hi = (np.percentile(finite, [0.5, 99.5]) if finite.size else (0.0, 1.0))
    ax.imshow(img, cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1, extent=extent, interpolation="nearest")
    tint = np.ma.masked_where(lab == 0, (lab % 20).astype(float))
    ax.imshow(tint, cmap="tab20", vmin=0, vmax=19, alpha=0.3, extent=extent, interpolation="nearest")
    edge = np.ma.masked_where(~_boundaries(lab), np.ones(lab.shape))
    ax.imshow(edge, cmap="autumn", vmin=0, vmax=1, extent=extent, interpolation="nearest")
    if particles is None:
        ids = np.unique(lab[lab > 0])
        yy, xx = np.nonzero(lab)
        idx = np.searchsorted(ids, lab[yy, xx])
        n = np.bincount(idx, minlength=ids.size)
        cy = np.bincount(idx, weights=yy, minlength=ids.size) / np.maximum(n, 1)
        cx = np.bincount(idx, weights=xx, minlength=ids.size) / np.maximum(n, 1)
        rows = zip(ids, cy, cx, [False] * ids.size)
    else:
        rows = zip(particles["label"], particles["centroid_y_px"], particles["centroid_x_px"],
                   particles["touches_edge"] if "touches_edge" in particles else [False] * len(particles))
    from matplotlib import patheffects

    scale = pixel_size_nm * 1e-3 if pixel_size_nm is not None else 1.0
    outline = [patheffects.withStroke(linewidth=2, foreground="black")]
    for label, y, x, edge_cut in rows:
        ax.text(x * scale, y * scale, f"({label})" if edge_cut else str(label), ha="center", va="center",
                fontsize=8, color="0.7" if edge_cut else "white", fontweight="bold", path_effects=outline)
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    _few_ticks(ax, h, w)
    sep = "\n" if h / max(w, 1) > TALL else " "  # a tall strip's title in two lines, inside the figure
    ax.set_title(f"{int(np.unique(lab[lab > 0]).size)} particles{sep}(bracketed: cut by the image edge)", fontsize=9)
    return ax


def plot_traces_vs_soc(traces, *, column="contrast", half_cycles=None, max_half_cycles=4, axes=None):
    """Per-particle traces against SOC (top) and their derivative d/dSOC (bottom), a column per half cycle.

    Parameters
    ----------
    traces : pandas.DataFrame
        Long table with ``particle``, ``soc``, ``half_cycle``, ``direction``,
        ``column`` and ``d_{column}_dsoc`` (as the optical pipeline writes).
    column : str
        The trace to show (``"contrast"`` or ``"intensity"``).
    half_cycles : sequence of int, optional
        Which half cycles (default: the first ``max_half_cycles`` with data).
    axes : array of Axes, shape (2, n), optional

    Returns
    -------
    numpy.ndarray of Axes, shape (2, n)
    """
    plt = _plt()
    t = traces[traces["half_cycle"] >= 0]
    if half_cycles is None:
        half_cycles = sorted(t["half_cycle"].unique())[:max_half_cycles]
    half_cycles = list(half_cycles) or [None]
    if axes is None:
        _, axes = plt.subplots(2, len(half_cycles), figsize=(3.2 * len(half_cycles) + 0.8, 5.2), sharex="col",
                               sharey="row", layout="constrained", squeeze=False)
    axes = np.asarray(axes).reshape(2, -1)
    deriv = f"d_{column}_dsoc"
    particles = np.unique(traces["particle"])
    colours = plt.cm.turbo(np.linspace(0.05, 0.95, max(particles.size, 1)))
    colour = dict(zip(particles, colours))
    for j, k in enumerate(half_cycles):
        top, bottom = axes[0, j], axes[1, j]
        if k is None:
            top.text(0.5, 0.5, "no half cycle in the movie", ha="center", va="center", transform=top.transAxes)
            continue
        g = t[t["half_cycle"] == k]
        for p, gp in g.groupby("particle"):
            top.plot(gp["soc"], gp[column], lw=0.9, color=colour[p])
            if deriv in gp:
                bottom.plot(gp["soc"], gp[deriv], lw=0.9, color=colour[p])
        direction = g["direction"].iloc[0] if len(g) else ""
        top.set_title(f"half cycle {k}: {direction}", fontsize=9)
        bottom.set_xlabel("state of charge")
        bottom.axhline(0, color="0.6", lw=0.6)
    axes[0, 0].set_ylabel(column if column != "contrast" else "contrast (I − I₁)/I₁")
    axes[1, 0].set_ylabel(f"d {column} / d SOC")
    return axes


def plot_differential_images(images, *, titles=None, pixel_size_nm=None, vmax=None, axes=None):
    """Differential-contrast images on one zero-centred diverging colour scale.

    Parameters
    ----------
    images : array_like, shape (n, y, x)
        Differential contrast (NaN where undefined: shown in light grey).
    titles : sequence of str, optional
        One per image (e.g. the time or SOC).
    pixel_size_nm : float, optional
    vmax : float, optional
        Colour-scale limit (the scale is ``[-vmax, vmax]``, white at 0); default
        the 99th percentile of ``|contrast|``.

    Returns
    -------
    numpy.ndarray of Axes
    """
    plt = _plt()
    imgs = np.asarray(images, dtype=float)
    if imgs.ndim == 2:
        imgs = imgs[None]
    n = imgs.shape[0]
    if vmax is None:
        finite = np.abs(imgs[np.isfinite(imgs)])
        vmax = float(np.percentile(finite, 99)) if finite.size else 1.0
        vmax = vmax if vmax > 0 else 1.0
    h, w = imgs.shape[1:]
    nrow, ncol, figsize, side = _panels(h, w, n)
    if axes is None:
        fig, axes = plt.subplots(nrow, ncol, figsize=figsize, layout="constrained", squeeze=False)
    else:
        fig = np.asarray(axes).ravel()[0].figure
    axes = np.asarray(axes).ravel()
    extent, xl, yl = _extent((h, w), pixel_size_nm)
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.85")
    im = None
    for j, ax in enumerate(axes):
        if j >= n:
            ax.set_axis_off()
            continue
        im = ax.imshow(imgs[j], cmap=cmap, vmin=-vmax, vmax=vmax, extent=extent, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[j], fontsize=9)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        _few_ticks(ax, h, w)
    if im is not None:
        # beside square images, below stacked wide strips: always as long as the panels, never cut
        fig.colorbar(im, ax=list(axes[:n]), location=side, shrink=1.0 if side == "bottom" else 0.9,
                     aspect=30 if side == "bottom" else 20, label="differential contrast (I − I₁)/I₁")
    return axes


def plot_com_distance(table, *, ax=None, column=None, directions=("charge",)):
    """Distance between each particle's centre of mass and that of its unreacted region against SOC.

    Parameters
    ----------
    table : pandas.DataFrame
        With ``particle``, ``soc``, ``half_cycle`` and ``com_distance_nm``
        (or ``com_distance_px``).
    column : str, optional
        Which distance column (default: nm when present).
    directions : sequence of str or None
        Half cycles to show by ``direction`` (default: charges, as (Lun et al.) Fig. S4;
        None: all rows).
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    if directions is not None and "direction" in table:
        table = table[table["direction"].isin(list(directions))]
    column = column or ("com_distance_nm" if "com_distance_nm" in table else "com_distance_px")
    particles = np.unique(table["particle"])
    colours = plt.cm.turbo(np.linspace(0.05, 0.95, max(particles.size, 1)))
    for c, (p, g) in zip(colours, table.groupby("particle")):
        for _, gh in g.groupby("half_cycle"):
            ax.plot(gh["soc"], gh[column], "o-", ms=2.5, lw=0.7, color=c)
    ax.set_xlabel("state of charge")
    ax.set_ylabel("COM distance, particle to unreacted region " + ("[nm]" if column.endswith("_nm") else "[px]"))
    ax.set_title("asymmetry of delithiation (unreacted: contrast below threshold)", fontsize=9)
    return ax


def plot_drift(drift, *, ax=None):
    """Stage drift against time.

    Parameters
    ----------
    drift : pandas.DataFrame
        With ``time_s``, ``drift_y_px``, ``drift_x_px``.
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.2), layout="constrained")
    t = np.asarray(drift["time_s"], dtype=float) / 60.0
    ax.plot(t, drift["drift_y_px"], label="y")
    ax.plot(t, drift["drift_x_px"], label="x")
    ax.set_xlabel("time [min]")
    ax.set_ylabel("drift [px]")
    ax.legend(frameon=False)
    return ax
