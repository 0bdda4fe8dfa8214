"""Start-up hygiene: table and JSON commands never import numpy; JSON commands never import rich.

Each command runs in a fresh interpreter that prints the top-level packages it loaded, which
is deterministic where a timing test is not.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from llmarch_cli.cli.app import main
try:
    main()
except SystemExit as exit:
    code = exit.code
print("MODULES", " ".join(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
sys.exit(code)
"""


def loaded_packages(*args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          env={"PATH": "", "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    line = next(line for line in proc.stderr.splitlines() if line.startswith("MODULES "))
    return set(line.split()[1:])


@pytest.mark.parametrize("args", [
    ["--version"],
    ["params", "llama-2-7b", "--format", "json"],
    ["compare", "llama", "mistral", "--format", "json"],
    ["list", "--format", "json"],
    ["show", "gpt2", "--json"],
    ["diff", "llama-2-7b", "--gqa", "8", "--json"],
    ["params", "llama-2-7b", "--format", "tsv"],
    ["kvcache", "--gqa", "8", "--json"],
    ["memory", "llama-2-7b", "--train", "lora", "--json"],
    ["fit", "--gpu", "rtx4090", "--json"],
    ["explain", "--json"],
    ["explain", "gqa", "--json"],
    ["quiz", "--seed", "1", "--json"],
    ["params", "--all", "--format", "tsv"],
    ["kvcache", "llama-2-7b", "mistral-7b-v0.1", "-c", "4k,32k", "--json"],
    ["schema", "kvcache"],
])
def test_json_and_plain_paths_import_neither_numpy_nor_rich(args):
    loaded = loaded_packages(*args)
    assert "numpy" not in loaded
    assert "rich" not in loaded


@pytest.mark.parametrize("args", [
    ["params", "llama-2-7b", "--format", "table", "--breakdown"],
    ["compare", "llama", "mistral", "--format", "table"],
    ["show", "gpt2", "--format", "md"],
    ["explain", "gqa", "--format", "table"],
])
def test_table_paths_do_not_import_numpy(args):
    assert "numpy" not in loaded_packages(*args)
