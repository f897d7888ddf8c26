"""The package's layers hold: imports go downwards only, each job has one home, docs agree."""

import ast
import inspect
import re
import warnings
from pathlib import Path

import pytest

import btvqvae
from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer

PACKAGE = Path(btvqvae.__file__).parent

#: Lower layers know nothing of higher ones (docs/architecture.md).
LAYERS = [
    {"_version", "_random", "_validation", "_jsoncodec", "nn"},
    {"readouts", "augmentations", "preprocessing", "presets", "datasets"},
    {"training", "_storage", "_weights", "pretrained"},
    {"_base", "_decoding", "estimators"},
    {"persistence", "evaluation", "monitoring", "plotting", "cli", "__main__", "__init__"},
]


def _layer(module: str) -> int:
    top = module.split(".")[0]
    return next(i for i, names in enumerate(LAYERS) if top in names)


def _modules():
    for file in sorted(PACKAGE.rglob("*.py")):
        parts = file.relative_to(PACKAGE).with_suffix("").parts
        yield ".".join(parts), file


def _imports(name: str, file: Path) -> set[str]:
    """Package modules imported by ``name`` (lazy imports inside functions included)."""
    package = name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            if node.module:
                found.add(".".join(base + node.module.split(".")))
            else:
                found.update(".".join(base + [alias.name]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("btvqvae."):
            found.add(node.module.removeprefix("btvqvae."))
    return {m for m in found if m and m != name}


GRAPH = {name: _imports(name, file) for name, file in _modules()}


def test_no_module_imports_a_layer_above_it():
    upward = [(name, dep) for name, deps in GRAPH.items() for dep in deps
              if _layer(dep) > _layer(name)]
    assert upward == []


def test_torch_modules_import_nothing_outside_nn():
    outside = [(name, dep) for name, deps in GRAPH.items() if name.startswith("nn.")
               for dep in deps if not dep.startswith("nn")]
    assert outside == []


def test_the_import_graph_has_no_cycle():
    state = {}

    def visit(node, path):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"import cycle: {' -> '.join(path + [node])}"
        state[node] = "open"
        for dep in GRAPH.get(node, ()):
            visit(dep, path + [node])
        state[node] = "done"

    for node in GRAPH:
        visit(node, [])


def test_only_nn_touches_the_quantizer_and_nothing_climbs_back_to_an_estimator():
    offenders = []
    for name, file in _modules():
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                if node.attr == "quantizer" and not name.startswith("nn."):
                    offenders.append((name, node.attr, node.lineno))
                if node.attr == "owner_":
                    offenders.append((name, node.attr, node.lineno))
    assert offenders == []


def test_no_package_file_is_longer_than_400_lines():
    long = {name: n for name, file in _modules()
            if (n := len(file.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}


@pytest.mark.parametrize("cls", [VQVAETransformer, BarlowTwinsVQVAETransformer],
                         ids=lambda c: c.__name__)
def test_every_constructor_parameter_is_documented_with_its_default(cls):
    pytest.importorskip("numpydoc")
    from numpydoc.docscrape import ClassDoc

    documented = {p.name: p.type for p in ClassDoc(cls)["Parameters"]}
    for name, param in inspect.signature(cls).parameters.items():
        assert name in documented, f"{cls.__name__} does not document {name}"
        match = re.search(r"default=(.+)$", documented[name])
        assert match, f"{cls.__name__}.{name} states no default: {documented[name]!r}"
        assert ast.literal_eval(match.group(1)) == param.default, (name, documented[name])
    assert ast.get_docstring(ast.parse(inspect.getsource(cls)).body[0]) == \
        inspect.cleandoc(cls.__doc__)


def test_shared_parameters_and_attributes_are_documented_identically():
    pytest.importorskip("numpydoc")
    testing = pytest.importorskip("sklearn.utils._testing")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # BT's own parameters are not shared
        testing.assert_docstring_consistency([VQVAETransformer, BarlowTwinsVQVAETransformer],
                                             include_params=True, include_attrs=True)
