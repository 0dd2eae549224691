"""``ds.socscope``: an xarray accessor on socscope results (quick look, provenance, kind).

Registering it imports nothing beyond xarray; matplotlib is imported when
:meth:`SocscopeAccessor.plot` is called.
"""

from __future__ import annotations

import xarray as xr

__all__ = ["SocscopeAccessor", "result_kind"]


def result_kind(ds) -> str | None:
    """``"particle"``, ``"electrode"`` or ``None`` for a Dataset that is neither socscope simulation."""
    title = str(getattr(ds, "attrs", {}).get("title", ""))
    if "single-particle" in title:
        return "particle"
    if "network-electrode" in title:
        return "electrode"
    return None


@xr.register_dataset_accessor("socscope")
class SocscopeAccessor:
    """Quick look and provenance of a socscope result: ``res.socscope.plot()``.

    Examples
    --------
    >>> res = ss.open_results("run.nc")  # doctest: +SKIP
    >>> fig = res.socscope.plot()  # doctest: +SKIP
    >>> res.socscope.provenance["command"]  # doctest: +SKIP
    """

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    @property
    def kind(self) -> str | None:
        """``"particle"``, ``"electrode"``, or ``None`` (not a socscope simulation)."""
        return result_kind(self._ds)

    @property
    def provenance(self) -> dict | None:
        """What made the result (command or call, version, inputs with SHA-256, seed, platform), or ``None``."""
        from ._provenance import read_provenance

        return read_provenance(self._ds)

    def plot(self, **kwargs):
        """The quick look of this result (see :func:`socscope.plotting.quick_look`); returns the Figure."""
        from .plotting.quicklook import quick_look

        return quick_look(self._ds, **kwargs)

    def voltage_capacity(self):
        """Voltage against charge passed as a DataFrame (see :func:`socscope.io.results.voltage_capacity_table`)."""
        from .io.results import voltage_capacity_table

        return voltage_capacity_table(self._ds)
