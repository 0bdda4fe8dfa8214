"""``llmarch explain``: every topic in both languages, live examples that the printed commands
reproduce, presets queried from the spec library, and every fact-check error corrected."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from rich.cells import cell_len
from typer.testing import CliRunner

from llmarch_cli.cli.app import app
from llmarch_cli.learn import library
from llmarch_cli.learn.lang import count_text, resolve_lang
from llmarch_cli.learn.topics import TOPICS, build_topic, read_topic
from llmarch_cli.specs.model import ArchSpec

FACTCHECK = Path(__file__).parent / "data" / "seed-factcheck.md"
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def factcheck_errors() -> dict[str, str]:
    """'Q3.1' -> claim for every row of the per-question tables whose verdict is not plainly
    'correct' (wrong, misleading, outdated, caveats and omissions)."""
    rows: dict[str, str] = {}
    question = None
    index = 0
    for line in FACTCHECK.read_text().splitlines():
        heading = re.match(r"## Q(\d+)\.", line)
        if heading:
            question, index = heading.group(1), 0
            continue
        if line.startswith("## "):
            question = None
        if question is None or not line.startswith("| ") or line.startswith(("| Claim", "|---")):
            continue
        index += 1
        claim, verdict = [cell.strip() for cell in line.strip("|").split("|")][:2]
        if verdict.strip("*") != "correct":
            rows[f"Q{question}.{index}"] = claim
    return rows


def test_the_fact_check_has_the_errors_the_article_is_known_for():
    errors = factcheck_errors()
    assert len(errors) >= 50
    assert "Sinusoidal encoding is limited" in errors["Q3.1"]
    assert "GQA was" in errors["Q5.2"]
    assert "MoE saves memory" in errors["Q15.2"]


def test_every_fact_check_error_is_corrected_by_a_topic():
    corrected = {ref: t for t in TOPICS for m in read_topic(t).get("misconceptions", []) for ref in m["refs"]}
    missing = {ref: claim for ref, claim in factcheck_errors().items() if ref not in corrected}
    assert not missing
    assert set(corrected) <= set(factcheck_errors())  # no reference to a row that is not an error
    assert corrected["Q11.2"] == "gqa" and corrected["Q7.1"] == "gpt-oss" and corrected["Q3.4"] == "positions"


def test_the_article_s_questions_and_the_later_ideas_each_have_a_topic():
    assert len(TOPICS) == 19
    assert {"mla", "qk-norm", "local-global", "hybrid"} <= set(TOPICS)
    refs = {ref.split(".")[0] for t in TOPICS for m in read_topic(t).get("misconceptions", []) for ref in m["refs"]}
    assert refs == {f"Q{n}" for n in range(1, 16)}


def test_topic_list_is_an_array_of_id_and_title():
    result = run("explain", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [row["id"] for row in data] == list(TOPICS)
    assert all(set(row) == {"id", "title"} for row in data)


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_renders_in_both_languages_as_text_and_json(topic, lang):
    data = json.loads(run("explain", topic, "--lang", lang, "--json").stdout)
    assert {"id", "title", "body", "examples", "presets", "misconceptions"} <= set(data)
    assert data["id"] == topic and data["examples"]
    assert all({"command", "result"} <= set(ex) for ex in data["examples"])
    text = run("explain", topic, "--lang", lang, "--format", "table")
    assert text.exit_code == 0, text.output
    assert data["title"] in text.stdout
    assert run("explain", topic, "--lang", lang, "--format", "md").stdout.startswith(f"# {data['title']}")


@pytest.mark.parametrize("topic", TOPICS)
def test_japanese_text_is_written_in_desu_masu_with_english_terms_kept(topic):
    en, ja = build_topic(topic, "en"), build_topic(topic, "ja")
    assert ja.body != en.body and ja.title != en.title
    assert "です" in ja.body or "ます" in ja.body
    assert re.search(r"[(][A-Za-z]", ja.body)  # an English term in parentheses
    assert all(m.fact.endswith(("。", ")")) for m in ja.misconceptions)


def _numbers(data) -> list[float]:
    if isinstance(data, bool):
        return []
    if isinstance(data, (int, float)):
        return [data]
    if isinstance(data, dict):
        return [n for v in data.values() for n in _numbers(v)]
    if isinstance(data, list):
        return [n for v in data for n in _numbers(v)]
    return []


def _examples():
    seen = {}
    for topic in TOPICS:
        for ex in build_topic(topic, "en").examples:
            if ex.command:
                seen.setdefault((ex.command, ex.result), topic)
    return sorted(seen)


@pytest.mark.parametrize(("command", "figure"), _examples())
def test_every_printed_command_runs_and_shows_the_same_figure(command, figure):
    args = command.split()[1:]
    result = run(*args)
    assert result.exit_code == 0, result.output
    numbers = _numbers(json.loads(result.stdout))
    assert any(n == pytest.approx(figure, rel=1e-9) for n in numbers), (command, figure)


def test_examples_are_the_same_figures_in_both_languages():
    for topic in TOPICS:
        en, ja = build_topic(topic, "en").examples, build_topic(topic, "ja").examples
        assert [(e.command, e.result) for e in en] == [(e.command, e.result) for e in ja]


def test_gqa_example_is_llama_2_70b_with_and_without_gqa():
    # 2 x 80 layers x kv_heads x 128 dims x 2 B x 4096 tokens (Llama 2 App. A.2.1: 64 heads, 8 KV heads)
    results = [ex.result for ex in build_topic("gqa", "en").examples]
    assert 2 * 80 * 8 * 128 * 2 * 4096 in results
    assert 2 * 80 * 64 * 128 * 2 * 4096 in results


def test_moe_example_is_mixtral_total_and_active():
    results = [ex.result for ex in build_topic("moe", "en").examples]
    assert any(46.6e9 < r < 46.8e9 for r in results)  # Mixtral abstract: 46.7B total
    assert any(12.8e9 < r < 13.0e9 for r in results)  # 12.9B active


def test_presets_are_queried_from_the_spec_library():
    specs = library.all_specs()
    assert build_topic("gqa", "en").presets == [s.id for s in specs if s.attention.num_kv_heads < s.attention.num_heads]
    assert build_topic("moe", "en").presets == [s.id for s in specs if s.moe is not None]
    assert build_topic("mistral", "en").presets == [s.id for s in specs if s.meta.family in ("mistral", "mixtral")]
    assert build_topic("mla", "en").presets == [s.id for s in specs if "mla" in s.features]


def _with_qk_norm(spec, new_id):
    """``spec`` renamed, with QK-norm switched on (a flag today, a kind once the families land)."""
    data = spec.model_dump()
    for value in (True, "heads"):
        try:
            return ArchSpec.model_validate({**data, "id": new_id,
                                            "attention": {**data["attention"], "qk_norm": value}})
        except ValidationError:
            continue
    raise AssertionError("attention.qk_norm accepts neither true nor 'heads'")


def test_a_new_preset_with_the_feature_is_picked_up_without_code_changes(monkeypatch):
    specs = library.all_specs()
    qk = _with_qk_norm(library.find("llama-3-8b"), "qk-llama")
    monkeypatch.setattr(library, "all_specs", lambda: (*specs, qk))
    assert "qk-llama" in build_topic("qk-norm", "en").presets
    from llmarch_cli.learn.quiz import bank

    assert [i for i in bank("qk-norm") if dict(i.subject)["model"] == "qk-llama"]


@pytest.mark.parametrize("topic", ["mla", "qk-norm", "local-global", "hybrid"])
def test_topics_about_features_missing_from_the_library_still_compute(monkeypatch, topic):
    without = tuple(s for s in library.all_specs() if not library.FEATURE_TESTS[topic](s))
    monkeypatch.setattr(library, "all_specs", lambda: without)
    shown = build_topic(topic, "en")
    assert shown.presets == []
    assert shown.examples  # closed forms and neighbouring presets stand in


def test_unknown_topic_is_one_line_with_the_closest_topic():
    result = run("explain", "gq")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["llmarch: error: unknown topic 'gq' (did you mean 'gqa'?)"]


def test_aliases_reach_their_topic():
    assert json.loads(run("explain", "rope", "--json").stdout)["id"] == "positions"
    assert json.loads(run("explain", "swa", "--json").stdout)["id"] == "mistral"


def test_japanese_locale_selects_japanese():
    assert resolve_lang(None) in ("en", "ja")
    data = json.loads(run("explain", "--json", env={"LANG": "ja_JP.UTF-8", "LC_ALL": ""}).stdout)
    assert data[0]["title"] == read_topic("transformer")["title"]["ja"]
    data = json.loads(run("explain", "--json", env={"LC_ALL": "ja_JP.UTF-8"}).stdout)
    assert data[0]["title"] == read_topic("transformer")["title"]["ja"]
    data = json.loads(run("explain", "--json", "--lang", "en", env={"LC_ALL": "ja_JP.UTF-8"}).stdout)
    assert data[0]["title"] == read_topic("transformer")["title"]["en"]


def test_unknown_language_is_one_line():
    result = run("explain", "gqa", "--lang", "fr")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["llmarch: error: unknown language 'fr' (choose one of en, ja)"]


def test_counts_are_written_for_the_language():
    assert count_text(46_702_792_704, "en") == "46.70 B"
    assert count_text(46_702_792_704, "ja") == "467.0億"
    assert count_text(19_988_480, "ja") == "1,998.8万"
    assert count_text(1_000_000_000_000, "ja") == "1.0兆"


def test_japanese_tables_align_with_wide_characters():
    text = run("explain", "--lang", "ja", "--format", "table").stdout
    lines = [line for line in text.splitlines() if line.startswith(("┃", "│"))]
    assert any("アテンション" in line for line in lines)
    assert len({cell_len(line) for line in lines}) == 1


def test_every_command_to_try_runs():
    commands = {c for t in TOPICS for c in build_topic(t, "en").try_commands}
    assert len(commands) >= 40
    for command in sorted(commands):
        result = run(*command.split()[1:])
        assert result.exit_code == 0, (command, result.output)


def test_commands_to_try_for_features_not_in_the_library_wait_for_them():
    tags = {t for s in library.all_specs() for t in s.features}
    shown = build_topic("mla", "en").try_commands
    assert ("llmarch list --feature mla" in shown) == ("mla" in tags)


def test_figures_are_written_for_the_language():
    en = json.loads(run("explain", "moe", "--json").stdout)["examples"][0]["text"]
    ja = json.loads(run("explain", "moe", "--lang", "ja", "--json").stdout)["examples"][0]["text"]
    assert en == "46.70 B (46,702,792,704)"
    assert ja == "467.0億 (46,702,792,704)"
