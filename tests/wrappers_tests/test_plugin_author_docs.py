"""The plugin-author guide's code runs as written, and the README links to it."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "packages" / "acrl-wrappers"
GUIDE = PACKAGE / "docs" / "writing-a-constraint-family.md"


def test_every_code_block_of_the_guide_runs_in_order():
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
    assert len(blocks) >= 4
    module = types.ModuleType("plugin_author_guide")  # importable, so classes pickle
    sys.modules[module.__name__] = module
    namespace = module.__dict__
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)  # our own docs
    c = namespace["c"]
    assert c.family == "speed-limited-torque" and c.obs_dim == 17
    assert c.obs_indices == list(range(11, 17))
    x = namespace["x"]
    assert x.shape == (4, 6) and (abs(x) <= 1.0 + 1e-12).all()


def test_the_readme_links_the_guide_and_names_the_public_helpers():
    readme = (PACKAGE / "README.md").read_text()
    assert "docs/writing-a-constraint-family.md" in readme
    guide = GUIDE.read_text()
    for name in ("obs_dim", "obs_indices", "has_closed_form", "set_spec_resolver", "infer_dim"):
        assert name in guide
