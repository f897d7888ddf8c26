"""Published default-split accuracies to print next to ours (``--anchors-dir``).

``tsml_<Name>_accuracy.csv`` (tsml-eval): one row per dataset, column ``0`` is the default
UCR split (the other columns are resamples). ``tloss_results_ucr.csv`` (Franceschi et al.,
2019, T-Loss: unsupervised encoder + SVM) has one column per variant; ``Ours (combined)`` is
the one SPEC §7 quotes (ECG5000 0.936, ElectricDevices 0.732, FordA 0.935, FordB 0.810,
ShapesAll 0.875). Missing or non-numeric entries (``X``, empty) are NaN.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_ANCHORS", "load_anchors"]

DEFAULT_ANCHORS = ("MiniROCKET", "T-Loss")
TLOSS = ("tloss_results_ucr.csv", "Ours (combined)")


def _source(name: str) -> tuple[str, str]:
    return TLOSS if name.lower() in ("t-loss", "tloss") else (f"tsml_{name}_accuracy.csv", "0")


def load_anchors(anchors_dir, names=DEFAULT_ANCHORS) -> dict[str, dict[str, float]]:
    """``{anchor name: {dataset: accuracy}}``; a file that is absent is skipped with a note.

    Names other than T-Loss are tsml-eval classifiers (``MiniROCKET``, ``ROCKET``, ``HC2``,
    ``InceptionTime``, ``1NN-DTW``).
    """
    import warnings

    import pandas as pd

    anchors = {}
    for name in names:
        file, column = _source(name)
        path = Path(anchors_dir) / file
        if not path.is_file():
            warnings.warn(f"anchor {name!r}: {path} not found; column left out", stacklevel=2)
            continue
        table = pd.read_csv(path, index_col=0)
        table.columns = [str(c).strip() for c in table.columns]
        if column not in table.columns:
            raise ValueError(f"{path} has no column {column!r}; columns: "
                             f"{', '.join(table.columns)}")
        values = pd.to_numeric(table[column], errors="coerce")
        anchors[name] = {str(k).strip(): float(v) for k, v in values.dropna().items()}
    return anchors
