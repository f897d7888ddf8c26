"""Named dataset panels of the benchmark (``--datasets thesis``, ``quick``, ...).

The development panel in ``../shared/data/ucr`` holds 20 UCR-2018 problems:

- ``thesis``: the 6 of the thesis' 10 datasets (SPEC §6) that are in the panel;
- ``quick``: the 12 smaller equal-length problems without missing values;
- ``equal``: ``thesis`` + ``quick``, the 18 equal-length problems of the headline statistic;
- ``irregular``: DodgerLoopDay (missing values) and GesturePebbleZ1 (unequal lengths), run
  through the loader's handling and reported apart from the 18;
- ``all`` (alias ``panel``): all 20.

``--quick`` uses two small problems: SyntheticControl and ECG200 from ``--data-dir``, or the
aeon-bundled GunPoint and ItalyPowerDemand when no ``--data-dir`` is given.
"""

from __future__ import annotations

THESIS = ("ElectricDevices", "ECG5000", "FordA", "FordB", "ChlorineConcentration", "ShapesAll")
QUICK = ("DistalPhalanxOutlineAgeGroup", "ECG200", "Earthquakes", "FaceAll", "Lightning2",
         "MedicalImages", "Plane", "Strawberry", "SwedishLeaf", "SyntheticControl",
         "TwoLeadECG", "Wine")
EQUAL = THESIS + QUICK
IRREGULAR = ("DodgerLoopDay", "GesturePebbleZ1")
ALL = EQUAL + IRREGULAR

PRESETS = {"thesis": THESIS, "quick": QUICK, "equal": EQUAL, "irregular": IRREGULAR,
           "all": ALL, "panel": ALL}

QUICK_MODE_DATASETS = ("SyntheticControl", "ECG200")
QUICK_MODE_BUNDLED = ("GunPoint", "ItalyPowerDemand")


def resolve_datasets(names) -> list[str]:
    """Expand preset names (case-insensitive) among dataset names; order kept, duplicates dropped.

    >>> resolve_datasets(["irregular", "Wine", "DodgerLoopDay"])
    ['DodgerLoopDay', 'GesturePebbleZ1', 'Wine']
    """
    out: list[str] = []
    for name in names:
        for dataset in PRESETS.get(name.lower(), (name,)):
            if dataset not in out:
                out.append(dataset)
    return out


def quick_datasets(data_dir) -> tuple[str, ...]:
    """The two datasets of ``--quick``: from ``data_dir`` if given, else aeon's bundled ones."""
    return QUICK_MODE_BUNDLED if data_dir is None else QUICK_MODE_DATASETS
