"""Every view's table at 80 columns: no line wider than 80, and no number split across lines.

Each result is rendered twice into fixed-width consoles, at 80 columns and at 10,000 (where
nothing wraps); the numbers standing alone in the text (``0.0338``, ``256.00``, ``4,096``)
must be the same in both. A number broken over two lines ("0.033" above "8") or cut off
would change them.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from llmarch_cli.analysis.fit import fit_all
from llmarch_cli.analysis.kvcache import FP16, kv_rows, kv_terms
from llmarch_cli.analysis.memory import inference_memory
from llmarch_cli.analysis.params import count_params
from llmarch_cli.analysis.summary import compare_specs, diff_specs, preset_row
from llmarch_cli.analysis.training import training_memory
from llmarch_cli.render import views
from llmarch_cli.render.output import page_text
from llmarch_cli.specs.loader import load_preset, resolve_model
from llmarch_cli.specs.overrides import WhatIf
from llmarch_cli.specs.registry import preset_ids

NUMBER = re.compile(r"(?<![\w.\-+])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")
GIB = 1 << 30


def llama_gqa8():
    return resolve_model("llama-2-7b", WhatIf.parse(None, kv_heads=8))


def pages() -> dict[str, object]:
    from llmarch_cli.forward.runner import run_forward
    from llmarch_cli.kernels.demo import DemoOptions, run_demo
    from llmarch_cli.kernels.results import KERNELS

    llama, mixtral, gpt2 = (load_preset(p) for p in ("llama-2-7b", "mixtral-8x7b", "gpt2"))
    what_if = llama_gqa8()
    kv = kv_rows(what_if.spec, [2048, 4096, 131072], [1, 8], FP16, baseline=what_if.baseline)
    listed = [preset_row(load_preset(p)) for p in preset_ids()]
    found = {
        "params": views.params_view([count_params(llama), count_params(mixtral)], breakdown=True),
        "kvcache": views.kvcache_view(kv, [(kv[-1], kv_terms(what_if.spec, 131072, 8))]),
        "memory one": views.memory_view([inference_memory(llama, context=4096)], explain=True),
        "memory many": views.memory_view([inference_memory(llama, context=c) for c in (4096, 8192)]
                                         + [training_memory(mixtral, mode="lora")]),
        "fit": views.fit_view(fit_all([llama, mixtral, gpt2], 24 * GIB, gpus=2).rows, "24 GiB",
                              gpus=2, explain=True),
        "compare": views.compare_view(compare_specs([llama, mixtral, gpt2])),
        "diff": views.diff_view(diff_specs(llama, mixtral)),
        "show one": views.show_view([mixtral]),
        "show many": views.show_view([llama, gpt2]),
        "list": views.list_view(listed),
        "forward": views.forward_view(run_forward(resolve_model("mixtral-8x7b"), [5, 6, 7, 8],
                                                  show=(0, 1))),
    }
    for name in KERNELS:
        found[f"kernel {name}"] = views.kernel_view(run_demo(DemoOptions(name=name)))
    return found


PAGES = pages()


def numbers(text: str) -> Counter:
    return Counter(NUMBER.findall(text))


@pytest.mark.parametrize("fmt", ["table", "md"])
@pytest.mark.parametrize("name", PAGES)
def test_at_80_columns_no_line_is_wider_and_no_number_is_split(name, fmt, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    narrow = page_text(PAGES[name], fmt)
    monkeypatch.setenv("COLUMNS", "10000")
    wide = page_text(PAGES[name], fmt)
    if fmt == "table":
        assert max(len(line) for line in narrow.splitlines()) <= 80, narrow
    assert numbers(narrow) == numbers(wide), narrow


def test_forward_probabilities_and_small_statistics_keep_their_precision():
    result = run_forward_once()
    text = page_text(views.forward_view(result), "table")
    for token in result.top_next_tokens:
        assert f"{token.prob:.4g}" in text
    small = [layer.mean for layer in result.layers if 0 < abs(layer.mean) < 0.1]
    assert all(f"{m:.3g}" in text for m in small)


def run_forward_once():
    from llmarch_cli.forward.runner import run_forward

    return run_forward(resolve_model("gpt2"), [1, 2, 3])
