"""No argument vector and no stdin produces a traceback: exit 0 with parseable output, or exit 2
with one 'llmarch: error:' line (plus an optional hint). Hypothesis draws each command's real
options mixed with hostile values; huge-but-valid sizes answer at once with exact integers."""

from __future__ import annotations

import csv
import io
import json
import time
import tracemalloc

import pytest
from conftest import run as run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmarch_cli.specs.loader import preset_config

FUZZ = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

MODELS = ["gpt2", "llama-2-7b", "mistral-7b-v0.1", "mixtral-8x7b", "qwen2-0.5b", "gpt-oss-20b",
          "flan-t5-base", "bert-base-uncased", "bart-base", "bloom-560m", "llama", "qwen"]
HOSTILE = ["0", "-1", "-0", str(10**30), "1.5", "1e3", "nan", "inf", "-inf", "", " ", "4k", "12XB",
           "128k", "1M", "ü", "🦙", "nosuch", "--", "true", "null", "0x10", "1_000"]
SET_KEYS = ["hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
            "attention.num_heads", "attention.num_kv_heads", "attention.head_dim", "rope_theta",
            "attention.layer_types", "attention.sliding_window", "moe.top_k", "moe.num_experts",
            "vocab_size", "norm.eps", "intermediate_size", "max_context", "head.tied",
            "positions.kind", "positions.rope", "attention", "moe", "architecture", "nosuch",
            "", "a.b.c"]
SET_VALUES = ["0", "-1", "1", "2", "8", "64", "1e400", "1.5", "true", "false", "null", "NaN",
              "Infinity", '"x"', '["x"]', '["full"]', "[]", "{}", str(10**30), "99", "x", ""]


def hostile() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE), st.integers(-10**30, 10**30).map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.text(max_size=6))


def value(*good: str) -> st.SearchStrategy[str]:
    """A real value of an option (two times in three), or a hostile one."""
    if not good:
        return hostile()
    return st.integers(0, 2).flatmap(lambda i: st.sampled_from(good) if i else hostile())


FORMATS = value("auto", "table", "json", "jsonl", "csv", "tsv", "md", "xml")
SETS = st.builds(lambda k, v: f"{k}={v}", st.sampled_from(SET_KEYS),
                 st.one_of(st.sampled_from(SET_VALUES), hostile()))
WHAT_IF = [("--set", SETS), ("--gqa", value("1", "2", "4", "8", "3")), ("-f", FORMATS)]

# command prefix -> (positional strategies, [(option, value strategy), ...]); flags have None
GRAMMAR: dict[str, tuple[list, list]] = {
    "list": ([], [("--family", value("llama", "qwen", "LLAMA")),
                  ("--feature", value("moe", "gqa", "swa", "sinks")), ("-f", FORMATS)]),
    "show": ([st.sampled_from(MODELS)], WHAT_IF),
    "compare": ([st.sampled_from(MODELS), st.sampled_from(MODELS)], WHAT_IF),
    "diff": ([st.sampled_from(MODELS)], WHAT_IF),
    "params": ([st.sampled_from(MODELS)], [*WHAT_IF, ("--breakdown", None)]),
    "spec schema": ([], []),
    "spec export": ([st.sampled_from(MODELS)], [("--set", SETS), ("--gqa", value("8")),
                                                 ("-f", value("toml", "json"))]),
    "spec validate": ([value("tests/data/tiny-gqa.json", "tests/data", "-")], []),
    "kvcache": ([st.sampled_from(MODELS)], [
        ("--context", value("4k", "2k,8k", "1000000000", "128k,1M")), ("--batch", value("1", "8")),
        ("--dtype", value("fp16", "fp8", "int4")), ("--gqa", value("1", "8")), ("--mqa", None),
        ("--mha", None), ("--window", value("4096", "1")), ("--engine", value("minimal", "full")),
        ("--encoder-length", value("512", "1k")), ("--set", SETS), ("--explain", None),
        ("-f", FORMATS)]),
    "memory": ([st.sampled_from(MODELS)], [
        ("--quant", value("bf16", "q4_k_m", "nf4")), ("--kv-dtype", value("fp8", "int4")),
        ("--context", value("4k", "32k")), ("--batch", value("1", "100000")),
        ("--train", value("full", "lora", "qlora")), ("--optimizer", value("adamw", "sgd")),
        ("--checkpointing", value("none", "selective", "full")), ("--zero", value("0", "3", "4")),
        ("--tp", value("1", "2", "8")), ("--pp", value("1", "2")), ("--gpus", value("8", "16")),
        ("--rank", value("8", "64")), ("--targets", value("q,v", "all-linear", "q_proj")),
        ("--engine", value("minimal", "full")), ("--set", SETS), ("--gqa", value("8")),
        ("--explain", None), ("-f", FORMATS)]),
    "fit": ([], [
        ("--gpu", value("rtx4090", "h100x8", "m3-max", "h100x0")), ("--memory", value("24GiB", "80GB")),
        ("--context", value("4k", "32k")), ("--batch", value("1", "4")),
        ("--quant", value("q4_k_m", "bf16,int8")), ("--kv-dtype", value("fp8")),
        ("--train", value("lora", "qlora", "full")), ("--task", value("generate", "understand")),
        ("--licence", value("open")), ("--lang", value("en", "zh")), ("--explain", None),
        ("-f", FORMATS)]),
    "forward": ([st.sampled_from(["gpt2", "mixtral-8x7b", "flan-t5-base", "bert-base-uncased",
                                  "gpt-oss-20b", "mistral-7b-v0.1"])], [
        ("--tokens", value("1,2,3", "0", "5,6,7,8")), ("--seed", value("0", "7")),
        ("--dtype", value("fp32", "fp16", "bf16")), ("--show", value("attention")),
        ("--layer", value("0", "1", "99")), ("--head", value("0", "1", "99")), ("-f", FORMATS)]),
    "kernel": ([value("attention", "rope", "alibi", "norm", "activation", "moe", "lora", "quant")], [
        ("--len", value("8", "16")), ("--heads", value("4", "6")), ("--kv-heads", value("2", "3")),
        ("--window", value("3")), ("--sinks", value("0.5", "-2")), ("--head-dim", value("16", "7")),
        ("--theta", value("10000", "500000")), ("--dim", value("8", "64")),
        ("--experts", value("8")), ("--top-k", value("2", "9")),
        ("--routing", value("softmax_topk_renorm", "topk_softmax")), ("--rank", value("4", "99")),
        ("--alpha", value("16")), ("--group-size", value("32", "7")), ("--seed", value("0")),
        ("-f", FORMATS)]),
}


@st.composite
def argv(draw, command: str) -> list[str]:
    """The command, its positionals, then up to five options (repeats allowed) in any order."""
    positionals, options = GRAMMAR[command]
    args = [*command.split(), *(draw(p) for p in positionals)]
    for flag, strategy in draw(st.lists(st.sampled_from(options), max_size=5)) if options else ():
        args += [flag] if strategy is None else [flag, draw(strategy)]
    if command == "forward" and "--tokens" not in args:
        args += ["--tokens", "1,2,3"]
    if command == "fit" and "--gpu" not in args and "--memory" not in args:
        args += ["--gpu", "rtx4090"]
    return args


def _strict_json(text: str):
    def reject(constant: str):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=reject)


def check(result, args: list[str]) -> None:
    """Exit 0 with parseable machine output, or exit 2 with one error line (+ hint)."""
    assert "Traceback" not in result.stderr, (args, result.stderr)
    assert result.exit_code in (0, 2), (args, result.exit_code, result.stderr)
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines and lines[0].startswith("llmarch: error: "), (args, result.stderr)
        assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), (args, result.stderr)
        assert result.stdout == "", (args, result.stdout)
        return
    fmt = args[len(args) - 1 - args[::-1].index("-f") + 1] if "-f" in args else None
    if "spec" in args[:1] or fmt is None or not result.stdout:
        return
    text = result.stdout
    if fmt == "json":
        _strict_json(text)
    elif fmt == "jsonl":
        for line in text.splitlines():
            _strict_json(line)
    elif fmt in ("csv", "tsv"):
        rows = list(csv.reader(io.StringIO(text), delimiter="," if fmt == "csv" else "\t"))
        assert rows and all(len(row) == len(rows[0]) for row in rows), (args, text)


def run(args: list[str], stdin: str | bytes | None = None):
    return run_cli(*args, stdin=stdin)


@pytest.mark.parametrize("command", GRAMMAR)
def test_any_argument_vector_exits_0_or_2_without_a_traceback(command):
    @FUZZ
    @given(args=argv(command))
    def fuzz(args):
        check(run(args), args)

    fuzz()


def _mutations(config: dict) -> st.SearchStrategy[dict]:
    """A real config with one to three keys dropped, nulled, negated or given a wrong type."""
    keys = sorted(config)
    bad = st.sampled_from([None, -1, 0, 1.5, "x", True, [], {}, 10**30, float("nan"), -(10**30)])

    @st.composite
    def mutate(draw):
        data = dict(config)
        for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3)):
            if draw(st.booleans()):
                data.pop(key, None)
            else:
                data[key] = draw(bad)
        return data

    return mutate()


CONFIG_IDS = ["gpt2", "llama-2-7b", "mistral-7b-v0.1", "mixtral-8x7b", "qwen2-0.5b", "gpt-oss-20b",
              "flan-t5-base", "bert-base-uncased", "bart-base", "bloom-560m", "gpt-neox-20b"]


@FUZZ
@given(data=st.sampled_from(CONFIG_IDS).flatmap(lambda pid: _mutations(preset_config(pid))))
def test_a_mutated_real_config_on_stdin_exits_0_or_2(data):
    args = ["params", "-", "-f", "json"]
    check(run(args, json.dumps(data)), args)


FRAGMENTS = ['{"model_type": "llama"', "[meta]\nname = 1", 'model_type = "gpt2"\n', "{}", "[]",
             '{"model_type": null}', "config_json = 5", 'config_json = "{"', "architecture = 3",
             '{"architecture": "decoder"}', "\ufeff{}", "a = [" * 50, "[" * 2000, '{"a":' * 2000]


@FUZZ
@given(stdin=st.one_of(st.binary(max_size=64), st.text(max_size=64), st.sampled_from(FRAGMENTS),
                       st.lists(st.sampled_from(FRAGMENTS), max_size=3).map("\n".join)))
def test_random_bytes_json_and_toml_on_stdin_exit_0_or_2(stdin):
    args = ["params", "-", "-f", "json"]
    check(run(args, stdin), args)


def _quick(args: list[str]):
    start = time.perf_counter()
    result = run(args)
    assert time.perf_counter() - start < 2, args
    check(result, args)
    assert result.exit_code == 0, result.stderr
    return _strict_json(result.stdout)


def test_ten_thousand_layers_of_width_2_pow_20_count_exactly():
    h, layers, heads = 1 << 20, 10_000, 32
    out = _quick(["params", "llama-2-7b", "--set", "num_hidden_layers=10000",
                  "--set", f"hidden_size={h}", "-f", "json"])
    inter, vocab = 11008, 32000  # unchanged; head_dim follows hidden / heads
    assert h % heads == 0
    per_layer = 4 * h * h + 3 * h * inter + 2 * h  # q k v o (MHA), gate up down, two RMSNorms
    assert out["total_params"] == layers * per_layer + 2 * vocab * h + h


def test_a_billion_token_kv_cache_is_exact():
    out = _quick(["kvcache", "llama-2-7b", "--context", "1000000000", "-f", "json"])
    assert out[0]["bytes_per_token"] == 2 * 32 * 32 * 128 * 2  # K and V, layers, heads, dim, fp16
    assert out[0]["total_bytes"] == 524_288 * 10**9


def test_a_batch_of_100000_scales_the_kv_term_exactly():
    one = _quick(["memory", "llama-2-7b", "-c", "4k", "-f", "json"])
    many = _quick(["memory", "llama-2-7b", "-c", "4k", "--batch", "100000", "-f", "json"])
    kv = {t["name"]: t["bytes"] for t in one["terms"]}["kv_cache"]
    assert kv == 524_288 * 4096  # bf16 KV of llama-2-7b at 4k tokens
    assert {t["name"]: t["bytes"] for t in many["terms"]}["kv_cache"] == 100_000 * kv


def test_an_absurd_layer_count_is_refused_not_walked():
    result = run(["kvcache", "gpt-oss-20b", "--set", f"num_hidden_layers={10**12}"])
    check(result, [])
    assert result.exit_code == 2 and "num_layers" in result.stderr


def test_a_huge_model_at_full_scale_is_refused_before_allocating():
    tracemalloc.start()
    try:
        result = run(["forward", "llama-3.1-405b", "--tokens", "1,2", "--scale", "full"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    check(result, [])
    assert result.exit_code == 2 and "--scale tiny" in result.stderr
    assert peak < 64 << 20


@pytest.mark.parametrize("args", [
    ["kvcache", "--context", "1" + "0" * 400, "-f", "table"],
    ["kvcache", "--context", "1" + "0" * 5000],
    ["memory", "llama-2-7b", "--batch", str(10**400), "-f", "table"],
    ["params", "gpt2", "--set", f"vocab_size={10**400}", "-f", "md"],
])
def test_numbers_past_float_range_never_overflow(args):
    check(run(args), args)


@pytest.mark.parametrize("source", ["/dev/zero", "-"])
def test_an_endless_source_is_refused_after_a_bounded_read(source):
    stdin = "x" * ((16 << 20) + 2) if source == "-" else None
    result = run(["params", source], stdin)
    check(result, [])
    assert result.exit_code == 2 and "16 MiB" in result.stderr


def test_a_family_note_never_precedes_an_error():
    result = run(["params", "mixtral", "--set", "moe.top_k=99"])
    assert result.stderr.startswith("llmarch: error: ")
    assert run(["params", "mixtral"]).stderr == "mixtral -> mixtral-8x7b\n"
