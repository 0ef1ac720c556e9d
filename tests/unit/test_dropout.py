"""`--dropout`: every rate in the model, on every architecture, for the run only."""

from __future__ import annotations

import pytest

from summarist.config.data import DataConfig
from summarist.config.train import TrainConfig
from summarist.errors import ConfigError
from summarist.models.dropout import set_dropout
from tests.tiny_models import tiny_model


def dropout_rates(model) -> list[float]:
    """Every dropout rate in the model: nn.Dropout modules and BART-style float attributes."""
    import torch

    rates = []
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            rates.append(module.p)
        rates += [getattr(module, name) for name in ("dropout", "attention_dropout",
                  "activation_dropout") if isinstance(getattr(module, name, None), float)]  # fmt: skip
    return rates


def two_train_mode_passes(model) -> tuple:
    import torch

    torch.manual_seed(0)
    ids = torch.randint(5, 60, (2, 12))
    labels = torch.randint(5, 60, (2, 6))
    model.train()
    with torch.no_grad():
        return tuple(model(input_ids=ids, labels=labels).logits for _ in range(2))


@pytest.mark.parametrize("kind", ["t5", "bart", "mbart"])
def test_zero_dropout_makes_training_passes_deterministic(kind: str) -> None:
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_model(kind))
    for module in model.modules():  # make sure there is dropout to switch off
        if hasattr(module, "p"):
            module.p = 0.3
    set_dropout(model, 0.3)
    first, second = two_train_mode_passes(model)
    assert not (first == second).all()  # dropout active: two passes differ
    before = model.config.to_dict()
    assert set_dropout(model, 0.0) == len(dropout_rates(model)) > 0  # one count per rate set
    assert set(dropout_rates(model)) == {0.0}
    first, second = two_train_mode_passes(model)
    assert (first == second).all()
    assert model.config.to_dict() == before  # the saved config keeps the model's own rates


def test_bert2bert_warm_start_dropout() -> None:
    from transformers import AutoTokenizer

    from summarist.models.bert2bert import build_bert2bert

    path = str(tiny_model("bert"))
    model = build_bert2bert(path, AutoTokenizer.from_pretrained(path))
    assert set_dropout(model, 0.0) == len(dropout_rates(model)) > 0
    assert set(dropout_rates(model)) == {0.0}
    first, second = two_train_mode_passes(model)
    assert (first == second).all()


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_out_of_range_dropout_is_refused(rate: float) -> None:
    with pytest.raises(ConfigError, match="--dropout"):
        TrainConfig(data=DataConfig(["x/"]), dropout=rate)
