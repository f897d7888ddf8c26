"""Benchmarks of btvqvae: the thesis sweep and its summary.

``python -m benchmarks.thesis``     runs dataset × model × seed cells into a JSON-lines file
                                    (resumable, local processes or a dask cluster);
``python -m benchmarks.summarize``  turns such files into Markdown tables and PNG figures.

Modules: :mod:`~benchmarks.presets` (dataset panels), :mod:`~benchmarks.models` (what each
model name builds), :mod:`~benchmarks.cells` (one cell: load, fit, evaluate, time, measure),
:mod:`~benchmarks.records` (the JSON-lines schema, settings hash, resume),
:mod:`~benchmarks.anchors` (published accuracies), :mod:`~benchmarks.figures` (plots).
"""
