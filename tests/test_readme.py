"""The README's Python examples run as written (with a 5-step training budget)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_quickstart_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2, "the quickstart and the pretrained example"
    assert "random_state=0)" in blocks[0]  # where the 5-step budget goes in
    code = "\n".join(blocks).replace("random_state=0)", "random_state=0, max_steps=5)")
    exec(compile(code, str(README), "exec"), {})
    printed = capsys.readouterr().out.split()
    assert len(printed) >= 3 and all(0.0 <= float(v) <= 1.0 for v in printed[-3:])
