"""The README's Python examples run as written (with a 5-step training budget)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_quickstart_runs(capsys):
    if not README.is_file():
        pytest.skip("README.md is not in this checkout")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2, "the quickstart and the pretrained example"
    trained = blocks[0].count("random_state=0)")
    assert trained >= 1
    code = "\n".join(blocks).replace("random_state=0)", "random_state=0, max_steps=5)")
    exec(compile(code, str(README), "exec"), {})
    printed = capsys.readouterr().out.split()
    assert len(printed) >= 3 and all(0.0 <= float(v) <= 1.0 for v in printed[-3:])
