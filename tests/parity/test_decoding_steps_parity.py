"""Every decode step through llmarch's latent cache gives the logits transformers computes for
the whole sequence at that position (DeepSeek-V2 checkpoints of ``test_forward_parity``: direct
and low-rank queries, greedy and group-limited routing), and llmarch's own full forward."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from test_forward_parity import CASES, TOKENS, TOLERANCE, _build  # noqa: E402

from llmarch_cli.forward.decoding import generate  # noqa: E402
from llmarch_cli.forward.hf_weights import load_hf_model  # noqa: E402
from llmarch_cli.specs.loader import resolve_model  # noqa: E402

pytestmark = pytest.mark.parity

NEW_TOKENS = 6


@pytest.mark.parametrize("case", sorted(c for c in CASES if c.startswith("deepseek_v2")))
def test_each_decode_step_gives_transformers_full_sequence_logits_at_its_position(case, tmp_path):
    reference = _build(case, tmp_path)
    model = load_hf_model(resolve_model(str(tmp_path)))
    gen = generate(model, TOKENS, NEW_TOKENS, keep_logits=True)
    sequence = TOKENS + gen.tokens[:-1]  # every token fed, the prompt then the new ones
    with torch.no_grad():
        theirs = reference(torch.tensor([sequence])).logits[0].numpy()[len(TOKENS) - 1:]
    ours_full = model.run(sequence).logits[len(TOKENS) - 1:]
    steps = np.stack(gen.logits)  # [NEW_TOKENS, V]
    assert float(np.abs(steps - theirs).max()) < TOLERANCE
    assert float(np.abs(steps - ours_full).max()) < TOLERANCE
    assert gen.tokens == [int(np.argmax(row)) for row in theirs]
