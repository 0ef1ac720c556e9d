"""The one prompt builder: chat template or plain text, truncation of the text only, stop tokens."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from summarist.config.prompt import DEFAULT_INSTRUCTION, PromptSettings
from summarist.errors import ConfigError
from summarist.models.causal import prepare_tokenizer
from summarist.models.prompt import PromptBuilder, saved_prompt
from summarist.models.registry import family_for
from tests.tiny_models import causal_tokenizer

LONG = " ".join(["Anna: Did you get the report? Ben: Yes, I got the report today."] * 20)


def builder(family: str = "llama", **settings: object) -> PromptBuilder:
    tok = causal_tokenizer(family)
    row = family_for(SimpleNamespace(model_type=family))
    prepare_tokenizer(tok, row, family)
    return PromptBuilder(tok, PromptSettings(**settings), row)  # type: ignore[arg-type]


def test_chat_template_prompt_is_the_rendered_conversation() -> None:
    b = builder("llama", system_prompt="You summarize.")
    assert b.mode == "chat"
    text = b.tokenizer.decode(b.encode(["Anna: lunch? Ben: yes."])[0])
    assert text.startswith("<|im_start|> system\nYou summarize.<|im_end|>")
    assert f"<|im_start|> user\n{DEFAULT_INSTRUCTION}\n\n" in text
    assert text.endswith("<|im_end|> \n<|im_start|> assistant\n")  # the generation prompt


def test_plain_template_without_chat_template_and_bos_per_family() -> None:
    gpt2 = builder("gpt2")
    assert gpt2.mode == "plain"
    ids = gpt2.encode(["Anna: lunch?"])[0]
    assert ids[0] != gpt2.tokenizer.bos_token_id  # GPT-2 has no BOS convention
    assert gpt2.tokenizer.decode(ids).endswith("Summary:")
    llama = builder("llama", prompt_template="plain")
    assert llama.mode == "plain" and llama.encode(["x"])[0][0] == llama.tokenizer.bos_token_id


def test_template_without_system_role_folds_it_into_the_user_turn() -> None:
    b = builder("gemma", system_prompt="Be brief.")
    text = b.tokenizer.decode(b.encode(["Anna: lunch?"])[0])
    assert text.startswith("<s><start_of_turn> user\nBe brief.\n\n" + DEFAULT_INSTRUCTION)
    assert b.stop_ids[0] == b.tokenizer.convert_tokens_to_ids("<end_of_turn>")


@pytest.mark.parametrize("family", ["llama", "gemma", "gpt2"])
def test_truncation_cuts_the_text_only_at_a_context_of_64(family: str) -> None:
    b = builder(family)
    short = b.encode(["Anna: lunch?"], limit=64)[0]
    (cut,) = b.encode([LONG], limit=64)
    assert len(cut) == 64
    head, tail = b.parts.head, b.parts.tail
    assert cut[: len(head)] == head and cut[-len(tail) :] == tail  # instruction, tags, prompt
    text_ids = b.text_ids([LONG])[0]
    assert cut[len(head) : -len(tail)] == text_ids[: 64 - b.overhead]  # the text's beginning
    assert short[: len(head)] == head and short[-len(tail) :] == tail
    assert b.count([LONG]) == [b.overhead + len(text_ids)]


def test_instruction_longer_than_the_context_is_one_line() -> None:
    b = builder("llama", instruction=" ".join(["summarize"] * 80))
    with pytest.raises(ConfigError, match=r"instruction and template take \d+ tokens.*64-token"):
        b.encode(["Anna: lunch?"], limit=64)


def test_chat_asked_for_without_a_chat_template_is_one_line() -> None:
    with pytest.raises(ConfigError, match="--prompt-template chat: this tokenizer has no chat"):
        builder("gpt2", prompt_template="chat")


def test_targets_end_with_the_turns_stop_token_and_keep_it_when_cut() -> None:
    b = builder("llama")
    im_end = b.tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert b.stop_ids == [im_end, b.tokenizer.eos_token_id]
    (target,) = b.encode_targets(["Anna and Ben eat lunch."], 64)
    assert target[-1] == im_end and b.tokenizer.decode(target[:-1]) == "Anna and Ben eat lunch."
    (cut,) = b.encode_targets(["Anna and Ben eat lunch."], 3)
    assert len(cut) == 3 and cut[-1] == im_end
    (plain,) = builder("gpt2").encode_targets(["Anna got lunch."], 64)
    assert plain[-1] == builder("gpt2").tokenizer.eos_token_id


def test_settings_are_checked_and_round_trip() -> None:
    with pytest.raises(ConfigError, match="--prompt-template 'chatml'.*did you mean 'chat'"):
        PromptSettings(prompt_template="chatml")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"plain_template must hold \{text\}"):
        PromptSettings(plain_template="{instruction}")
    with pytest.raises(ConfigError, match="unknown prompt setting 'sytem_prompt'"):
        PromptSettings.from_dict({"sytem_prompt": "x"})
    b = builder("llama", instruction="Sum it up.")
    config = SimpleNamespace(task_specific_params={"summarization": {"prompt": b.to_dict()}})
    assert saved_prompt(config) == PromptSettings(instruction="Sum it up.")
    assert saved_prompt(SimpleNamespace(task_specific_params=None)) is None
