"""The family table: prefixes, precision refusals, position limits, mBART codes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from summarist.errors import ConfigError
from summarist.models.registry import (
    FAMILIES,
    check_precision,
    check_source_length,
    family_for,
    mbart_code,
)


@pytest.mark.parametrize(
    ("model_type", "family", "prefix"),
    [("t5", "t5", "summarize: "), ("mt5", "mt5", ""), ("bart", "bart", ""),
     ("pegasus", "pegasus", ""), ("mbart", "mbart", ""), ("encoder-decoder", "bert2bert", ""),
     ("something-new", "generic", "")],
)  # fmt: skip
def test_family_for_model_type(model_type: str, family: str, prefix: str) -> None:
    fam = family_for(SimpleNamespace(model_type=model_type))
    assert fam.name == family
    assert fam.prefix == prefix


def test_model_types_are_unique() -> None:
    seen = [t for f in FAMILIES for t in f.model_types]
    assert len(seen) == len(set(seen))


def test_fp16_refused_for_t5_with_reason() -> None:
    with pytest.raises(ConfigError, match="bf16.*overflow|overflow"):
        check_precision("fp16", family_for(SimpleNamespace(model_type="t5")))
    check_precision("fp16", family_for(SimpleNamespace(model_type="bart")))  # allowed
    check_precision("bf16", family_for(SimpleNamespace(model_type="t5")))


def test_source_length_checked_against_position_limit() -> None:
    bart = family_for(SimpleNamespace(model_type="bart"))
    config = SimpleNamespace(model_type="bart", max_position_embeddings=1024)
    assert check_source_length(None, config, bart) == 512
    assert check_source_length(1024, config, bart) == 1024
    with pytest.raises(ConfigError, match=r"--max-source-length 2048 .* 1024") as err:
        check_source_length(2048, config, bart)
    assert "use --max-source-length 1024" in str(err.value)


def test_relative_positions_have_no_limit() -> None:
    t5 = family_for(SimpleNamespace(model_type="t5"))
    assert check_source_length(4096, SimpleNamespace(model_type="t5"), t5) == 4096


def test_bert2bert_limit_comes_from_the_encoder() -> None:
    fam = family_for(SimpleNamespace(model_type="encoder-decoder"))
    config = SimpleNamespace(
        model_type="encoder-decoder", encoder=SimpleNamespace(max_position_embeddings=128)
    )
    assert check_source_length(None, config, fam) == 128
    with pytest.raises(ConfigError):
        check_source_length(129, config, fam)


def test_mbart_codes() -> None:
    assert mbart_code("de") == "de_DE"
    assert mbart_code("fr_XX") == "fr_XX"
    with pytest.raises(ConfigError, match="xx"):
        mbart_code("xx")
