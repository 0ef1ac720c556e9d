"""mBART at inference: the language code tags the source and is forced as the first token,
taken from --lang or from the model's saved settings, the same on torch and CTranslate2."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarist.errors import ConfigError
from summarist.inference.summarizer import Summarizer
from tests import tiny_models as tiny

TEXTS = [
    "Person1: the report is late again. Person2: I will finish it tonight, promise.",
    "Person1: lunch tomorrow? Person2: yes, call me.",
    "der bericht ist nicht fertig. ich danke dir.",
]
GREEDY = {"max_new_tokens": 8, "num_beams": 1, "no_repeat_ngram_size": 0}


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An mBART saved without a target language (like a hub checkpoint that never set one)."""
    tok = tiny.mbart_tokenizer()
    return tiny.save(
        tiny.tiny_seq2seq("mbart"), tok, tmp_path_factory.mktemp("m") / "bare", **GREEDY
    )


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An mBART saved after training in German (what `summarist train --lang de` leaves)."""
    from summarist.models.loading import set_language

    tok = tiny.mbart_tokenizer()
    model = tiny.tiny_seq2seq("mbart")
    set_language(model, tok, "de")
    return tiny.save(model, tok, tmp_path_factory.mktemp("m") / "de", **GREEDY)


def _first_tokens(s: Summarizer) -> set[str]:
    batch = [s.tokenizer(t).input_ids for t in TEXTS]
    out = s.backend.generate_ids(batch, s.settings.with_overrides(min_new_tokens=4))
    return {s.tokenizer.convert_ids_to_tokens(ids[0]) for ids in out}


def test_a_model_without_a_language_needs_lang(bare: Path) -> None:
    with pytest.raises(ConfigError, match="without a saved target language.*--lang"):
        Summarizer.from_pretrained(str(bare))
    s = Summarizer.from_pretrained(str(bare), lang="fr")
    assert s.tokenizer(TEXTS[0]).input_ids[-1] == s.tokenizer.convert_tokens_to_ids("fr_XX")
    assert _first_tokens(s) == {"fr_XX"}
    direct = s.backend.generate_ids([s.tokenizer(t).input_ids for t in TEXTS], s.settings)
    decoded = s.tokenizer.batch_decode(direct, skip_special_tokens=True)
    assert s.summarize(TEXTS) == [d.strip() for d in decoded]  # length-sorted, then restored


def test_the_saved_language_is_used_and_lang_overrides_it(german: Path) -> None:
    s = Summarizer.from_pretrained(str(german))
    de = s.tokenizer.convert_tokens_to_ids("de_DE")
    assert s.tokenizer(TEXTS[2]).input_ids[-1] == de
    assert _first_tokens(s) == {"de_DE"}
    assert _first_tokens(Summarizer.from_pretrained(str(german), lang="en")) == {"en_XX"}


def test_ctranslate2_forces_the_same_language_token(german: Path) -> None:
    ref = Summarizer.from_pretrained(str(german))
    fast = Summarizer.from_pretrained(str(german), backend="ctranslate2")
    assert fast.backend.name == "ctranslate2"
    assert _first_tokens(fast) == {"de_DE"}
    for lo in (0, 8):
        a = ref.summarize_detailed(TEXTS, min_new_tokens=lo)
        b = fast.summarize_detailed(TEXTS, min_new_tokens=lo)
        tiny.assert_varied(a.summaries)
        assert (a.summaries, a.new_tokens) == (b.summaries, b.new_tokens)


def test_unknown_language_is_a_one_line_error(bare: Path) -> None:
    with pytest.raises(ConfigError, match="no mBART language code known for 'xx'"):
        Summarizer.from_pretrained(str(bare), lang="xx")
