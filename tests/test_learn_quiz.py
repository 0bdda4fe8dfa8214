"""``llmarch quiz``: seeded, every answer re-derived from the spec library, graded with
--answers, bad input as one line, and the drill ending cleanly on end of input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from llmarch_cli.analysis.lora import lora_params
from llmarch_cli.analysis.params import count_params
from llmarch_cli.cli.app import app
from llmarch_cli.learn import library
from llmarch_cli.learn.quiz import LETTERS, bank, is_correct, make_quiz, parse_answer

runner = CliRunner()
SCALE = {"B": 1e9, "億": 1e8, "M": 1e6, "万": 1e4, "GiB": 2**30, "MiB": 2**20}


def run(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin)


def kv_bytes(spec, context: int) -> int:
    """Closed form (GQA paper §2, Mistral 7B §2): 2 x kv_heads x head_dim x 2 B per token held,
    a sliding layer holding at most its window."""
    a = spec.attention
    total = 0
    for layer in range(spec.num_layers):
        sliding = a.sliding_window and (a.layer_types is None or a.layer_types[layer] == "sliding")
        total += 2 * a.num_kv_heads * a.head_dim * 2 * (min(context, a.sliding_window) if sliding else context)
    return total


def chosen(q) -> str:
    return q.choices[LETTERS.index(q.answer)]


def rederive(q) -> None:
    """Check one question's answer against the spec library, without the quiz's code."""
    s = q.subject
    spec = library.find(s["model"])
    a = spec.attention
    scaled = float(q.answer) * SCALE.get(q.unit, 1) if q.kind == "number" else None
    if q.fact == "kv_heads":
        assert q.answer == a.num_kv_heads
    elif q.fact == "kv_cache":
        assert scaled == pytest.approx(kv_bytes(spec, s["context_tokens"]), rel=1e-3)
    elif q.fact == "attention_kind":
        assert chosen(q) == ("MHA" if a.num_kv_heads == a.num_heads else "MQA" if a.num_kv_heads == 1 else "GQA")
    elif q.fact == "position_kind":
        words = {"rope": "RoPE", "alibi": "ALiBi", "learned": ("Learned", "学習型"),
                 "sinusoidal": ("sinusoidal", "サイン波"), "relative_buckets": ("relative", "相対位置")}
        assert any(w in chosen(q) for w in words[spec.positions.kind])
    elif q.fact == "norm":
        assert ("RMSNorm" if spec.norm.kind == "rmsnorm" else "LayerNorm") in chosen(q)
        assert any(w in chosen(q) for w in (("pre", "プレ") if spec.norm.placement == "pre" else ("post", "ポスト")))
    elif q.fact == "ffn_kind":
        f = spec.ffn
        expected = ({"silu": "SwiGLU", "gelu": "GeGLU", "gelu_tanh": "GeGLU"}[f.activation] if f.kind == "gated"
                    else "ReLU MLP" if f.activation == "relu" else "GELU MLP")
        assert chosen(q) == expected
    elif q.fact == "ffn_ratio":
        assert q.answer == pytest.approx(spec.ffn.intermediate_size / spec.hidden_size, abs=1e-4)
    elif q.fact == "sliding_window":
        assert q.answer == (a.sliding_window or 0)
    elif q.fact in ("active_params", "total_params"):
        counts = count_params(spec)
        n = counts.active_params if q.fact == "active_params" else counts.total_params
        assert scaled == pytest.approx(n, rel=1e-3)
    elif q.fact == "lora_params":
        assert scaled == pytest.approx(lora_params(spec, 8, ["all-linear"]), rel=1e-3)
    elif q.fact.startswith("which_") or q.fact == "encoder_decoder":
        has = {"encoder_decoder": lambda x: x.architecture == "encoder-decoder",
               "which_moe": lambda x: x.moe is not None,
               "which_qk-norm": lambda x: x.attention.qk_norm or "qk-norm" in x.features,
               "which_local-global": lambda x: "local-global" in x.features
               or {"full", "sliding"} <= set(x.attention.layer_types or ()),
               }.get(q.fact, lambda x: q.fact[6:] in x.features)
        assert sorted(q.choices) == sorted([s["model"], *s["others"]])
        assert [c for c in q.choices if has(library.find(c))] == [chosen(q)] == [s["model"]]
    else:
        raise AssertionError(f"no independent derivation for {q.fact}")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_answer_of_many_quizzes_rederives_from_the_spec_library(lang):
    facts = set()
    for seed in range(40):
        for q in make_quiz(12, seed, None, lang):
            rederive(q)
            facts.add(q.fact)
    assert len(facts) >= 8


def test_every_fact_is_rederived_across_the_whole_bank():
    facts = {item.fact for item in bank()}
    for topic in {item.topic for item in bank()}:
        for q in make_quiz(len(bank(topic)), 1, topic, "en"):
            rederive(q)
    assert len(facts) >= 12


def test_same_seed_same_quiz_and_different_seeds_differ():
    first = run("quiz", "--seed", "42", "--count", "8", "--json").stdout
    assert first == run("quiz", "--seed", "42", "--count", "8", "--json").stdout
    assert first != run("quiz", "--seed", "43", "--count", "8", "--json").stdout


def test_the_issue_s_example_questions_are_in_the_bank():
    subjects = [(i.fact, dict(i.subject)) for i in bank()]
    assert ("kv_heads", {"model": "llama-3-70b"}) in subjects
    assert ("kv_cache", {"model": "mistral-7b-v0.1", "context_tokens": 32768}) in subjects
    assert ("position_kind", {"model": "bloom"}) in subjects
    assert ("active_params", {"model": "mixtral-8x7b"}) in subjects
    assert any(fact == "encoder_decoder" for fact, _ in subjects)


def test_mistral_7b_kv_cache_at_32k_in_fp16_is_its_rolling_buffer():
    item = next(i for i in bank("gqa") if dict(i.subject) == {"model": "mistral-7b-v0.1", "context_tokens": 32768})
    assert item.fact == "kv_cache"
    q = next(q for seed in range(400) for q in make_quiz(1, seed, "gqa", "en") if q.subject == dict(item.subject))
    assert q.answer == 512.0 and q.unit == "MiB"  # 32 layers x 2 x 8 x 128 x 2 B x 4,096 tokens


def test_json_has_the_fields_the_issue_names():
    data = json.loads(run("quiz", "--seed", "5", "--count", "6", "--json").stdout)
    assert len(data) == 6
    for q in data:
        assert {"question", "answer", "explanation", "topic"} <= set(q)
        assert (q["kind"] == "choice") == (q["choices"] is not None)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_answers_grade_without_prompting(lang):
    data = json.loads(run("quiz", "--seed", "9", "--count", "5", "--lang", lang, "--json").stdout)
    right = ",".join(str(q["answer"]) for q in data)
    result = run("quiz", "--seed", "9", "--count", "5", "--lang", lang, "--answers", right, "--json")
    assert result.exit_code == 0, result.output
    graded = json.loads(result.stdout)
    assert all(q["correct"] for q in graded)
    text = run("quiz", "--seed", "9", "--count", "5", "--lang", lang, "--answers", right, "-f", "table").stdout
    assert ("Score: 5/5 (100%)" if lang == "en" else "スコア:5問中5問正解(100%)") in text


def test_numeric_answers_count_within_the_tolerance():
    q = next(q for seed in range(100) for q in make_quiz(1, seed, "gqa", "en") if q.fact == "kv_cache")
    near = float(q.answer) * 1.015
    result = run("quiz", "--seed", "0", "--count", "1", "--topic", "gqa", "--json")
    assert result.exit_code == 0
    assert is_correct(q, parse_answer(q, f"{near}"))
    assert not is_correct(q, parse_answer(q, f"{float(q.answer) * 1.05}"))
    assert is_correct(q, parse_answer(q, f"{q.answer} {q.unit}"))


def test_answers_typed_with_separators_or_full_width_forms_are_read():
    numeric = next(q for q in make_quiz(20, 3, None, "ja") if q.kind == "number")
    choice = next(q for q in make_quiz(20, 3, None, "ja") if q.kind == "choice")
    assert parse_answer(numeric, "１，０２４") == "1024"
    assert parse_answer(numeric, "4,096 トークン") == "4096"
    assert parse_answer(choice, "Ｂ") == "b"


@pytest.mark.parametrize(("args", "message"), [
    (["--count", "0"], "llmarch: error: --count must be between 1 and"),
    (["--count", "100000"], "llmarch: error: --count must be between 1 and"),
    (["--seed", "1", "--count", "3", "--answers", "a,b"], "llmarch: error: --answers has 2 answer(s) for 3"),
    (["--seed", "1", "--count", "2", "--answers", "zz,zz"], "llmarch: error: --answers: answer 1 'zz'"),
    (["--lang", "de"], "llmarch: error: unknown language 'de'"),
    (["--topic", "gqaa"], "llmarch: error: unknown topic 'gqaa' (did you mean 'gqa'?)"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = run("quiz", *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines


def test_a_topic_without_presets_yet_says_so():
    if bank("hybrid"):
        pytest.skip("the library has hybrid presets now")
    result = run("quiz", "--topic", "hybrid")
    assert result.exit_code == 2
    assert "no quiz questions about hybrid yet" in result.stderr


def test_the_drill_ends_on_end_of_input_with_the_score_so_far():
    data = json.loads(run("quiz", "--seed", "4", "--count", "3", "--json").stdout)
    result = run("quiz", "--seed", "4", "--count", "3", "-f", "table", stdin=f"{data[0]['answer']}\n")
    assert result.exit_code == 0, result.output
    assert "Stopped after 1 of 3 questions." in result.stdout
    assert result.stdout.rstrip().endswith("Score: 1/1 (100%)")


def test_the_drill_asks_again_after_an_answer_it_cannot_read():
    data = json.loads(run("quiz", "--seed", "4", "--count", "1", "--json").stdout)
    result = run("quiz", "--seed", "4", "--count", "1", "-f", "table", stdin=f"??\n{data[0]['answer']}\n")
    assert "Please answer with" in result.stdout and "Score: 1/1 (100%)" in result.stdout
    ja = run("quiz", "--seed", "4", "--count", "1", "--lang", "ja", "-f", "table", stdin=f"??\n{data[0]['answer']}\n")
    assert "で答えてください。" in ja.stdout and "スコア:1問中1問正解(100%)" in ja.stdout


def test_the_commands_explanations_point_to_run():
    import re

    commands = set()
    for q in make_quiz(60, 0, None, "en"):
        commands |= set(re.findall(r"(?:Check|see): (llmarch [^;]+?)(?:;|$)", q.explanation))
    assert len(commands) >= 30
    for command in sorted(commands):
        result = run(*command.split()[1:])
        assert result.exit_code == 0, (command, result.output)
