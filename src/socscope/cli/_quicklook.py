"""What the commands share for provenance and ``--plot``: the command line, the quick-look PNG and CSV."""

from __future__ import annotations

from pathlib import Path

__all__ = ["check_plot_targets", "command_provenance", "plot_targets", "write_quick_look"]


def command_provenance(args, *, inputs=(), seed=None, settings=None) -> dict:
    """Provenance of a command: its exact command line (as given to ``main``), input files, seed."""
    from .._provenance import provenance

    return provenance(inputs=[p for p in inputs if p], seed=seed, argv=getattr(args, "argv_", None),
                      settings=settings)


def plot_targets(out: Path) -> tuple[Path, Path]:
    """The quick-look figure and voltage-capacity table written beside a results file ``run.nc``."""
    out = Path(out)
    return out.with_suffix(".png"), out.with_name(out.stem + "_voltage_capacity.csv")


def check_plot_targets(out: Path, *, overwrite: bool, inputs=()) -> None:
    """Refuse, before the run, quick-look files that exist (without ``--overwrite``) or are inputs."""
    from ..io.results import atomic_target
    from ._flags import not_an_input

    targets = plot_targets(out)
    not_an_input(targets, inputs)
    for path in targets:
        atomic_target(path, overwrite=overwrite)[1].unlink()


def write_quick_look(ds, out: Path, *, prov: dict) -> list[Path]:
    """Write ``run.png`` (the quick look) and, when the run has a voltage, ``run_voltage_capacity.csv``.

    The CSV begins with ``#`` lines holding the provenance, so it can be laid
    over measured data (``pandas.read_csv(path, comment="#")``) and still says what made it.
    """
    import json

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from ..io.results import voltage_capacity_table, write_text_atomic
    from ..plotting._common import save_figure
    from ..plotting.quicklook import quick_look

    png, csv = plot_targets(out)
    written = [save_figure(quick_look(ds), png, dpi=100, provenance=prov)]
    if "voltage" in ds and "specific_capacity" in ds and np.isfinite(np.asarray(ds.voltage.values, float)).any():
        head = "".join(f"# {line}\n" for line in json.dumps({"provenance": prov}, sort_keys=True,
                                                             default=str).splitlines())
        written.append(write_text_atomic(csv, head + voltage_capacity_table(ds).to_csv(index=False)))
    return written
