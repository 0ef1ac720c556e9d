"""Request and response bodies, with the server's caps as pydantic field limits.

The request models are built per app (`build_schemas`) so that the caps of its `ServeConfig`
and the names of the models it serves appear in the OpenAPI schema: a request names a model
only from that enum, never a path, hub id or backend, and unknown fields are refused (422).
Texts per request and characters per text are not schema limits: past them the answer is 413
(see `app.check_sizes`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from summarist.config.docs import field_docs
from summarist.config.generation import GenerationSettings
from summarist.config.serve import ServeConfig
from summarist.serving.openai_schemas import OpenAIModel


class FoundEntity(BaseModel):
    text: str
    label: str = Field(description="spaCy label, or SPAN from the capitalised-span rule.")
    start: int = Field(description="Character offsets in the summary.")
    end: int
    in_source: bool
    source_span: list[int] | None = Field(None, description="[start, end) in the source.")
    in_reference: bool | None = None


class FoundNumber(BaseModel):
    text: str
    kind: str = Field(description="amount, percent, date or time.")
    value: str = Field(description="Normalised: 4000000, 45%, 2015-03-03, 17:00.")
    start: int
    end: int
    in_source: bool
    source_span: list[int] | None = None


class Faithfulness(BaseModel):
    """The summary against its text (and reference): 0-100, null where undefined."""

    prec_s: float | None = Field(None, description="Entities found in the source (Nan et al.).")
    prec_t: float | None = Field(None, description="Entities found in the reference.")
    recall_t: float | None = Field(None, description="Reference entities found in the summary.")
    num_prec_s: float | None = Field(None, description="Numbers the source supports.")
    unsupported_entity: float | None = None
    unsupported_number: float | None = None
    novel_1: float | None = None
    novel_2: float | None = None
    repeated_1: float | None = None
    repeated_2: float | None = None
    entities: list[FoundEntity] = []
    numbers: list[FoundNumber] = []


class SummaryOut(BaseModel):
    summary: str
    source_tokens: int
    new_tokens: int
    levels: int = Field(description="Map-reduce levels: 0 when the text fitted the model.")
    faithfulness: Faithfulness | None = Field(None, description="When asked for.")


class SummarizeResponse(BaseModel):
    model: str
    summaries: list[SummaryOut]
    latency_ms: float = Field(description="Server-side time from arrival to answer.")
    faithfulness_method: str | None = Field(None, description="How entities were found.")


class CompareResult(BaseModel):
    model: str
    summary: str
    source_tokens: int
    new_tokens: int
    levels: int
    latency_ms: float
    rouge: dict[str, float] | None = Field(
        None, description="F1 (0-100) against the reference, when one was given."
    )
    faithfulness: Faithfulness | None = Field(None, description="When asked for.")


class CompareResponse(BaseModel):
    results: list[CompareResult]
    latency_ms: float
    faithfulness_method: str | None = Field(None, description="How entities were found.")


class ModelInfo(BaseModel):
    name: str
    backend: str
    ready: bool
    source_limit: int | None
    settings: dict[str, Any] | None = Field(None, description="The model's default settings.")


class Limits(BaseModel):
    max_texts: int
    max_chars: int
    max_body_bytes: int
    max_new_tokens: int
    max_beams: int
    timeout_s: float


class ModelsResponse(BaseModel):
    """summarist's own listing (`models`, `limits`, `auth`) and OpenAI's (`object`, `data`),
    so that `openai.OpenAI(...).models.list()` works on the same route."""

    models: list[ModelInfo]
    limits: Limits
    auth: bool = Field(description="True when requests need an API key.")
    object: Literal["list"] = "list"
    data: list[OpenAIModel] = Field(default_factory=list, description="OpenAI's model list.")


# The `GenerationSettings` fields a request may set, with the server's bounds on each (`config`
# gives the caps); the others (early_stopping, do_sample) stay as the model saved them.
REQUEST_LIMITS: dict[str, Callable[[ServeConfig], dict[str, float]]] = {
    "max_new_tokens": lambda c: {"ge": 1, "le": c.max_new_tokens},
    "min_new_tokens": lambda c: {"ge": 0, "le": c.max_new_tokens},
    "num_beams": lambda c: {"ge": 1, "le": c.max_beams},
    "length_penalty": lambda c: {"ge": -10.0, "le": 10.0},
    "no_repeat_ngram_size": lambda c: {"ge": 0, "le": 10},
    "repetition_penalty": lambda c: {"ge": 1.0, "le": 10.0},
}


def settings_model(config: ServeConfig) -> type[BaseModel]:
    """The request's `settings`: `GenerationSettings` fields (type and doc from the dataclass),
    each optional, within the bounds of `REQUEST_LIMITS`; unknown fields refused."""
    types = get_type_hints(GenerationSettings)
    docs = field_docs(GenerationSettings)
    fields: dict[str, Any] = {
        f.name: (
            types[f.name] | None,
            Field(None, description=docs.get(f.name), **REQUEST_LIMITS[f.name](config)),
        )
        for f in dataclasses.fields(GenerationSettings)
        if f.name in REQUEST_LIMITS
    }
    return create_model(
        "Settings",
        __config__=ConfigDict(extra="forbid"),
        __doc__="Decoding settings of this request; unset fields keep the model's own.",
        **fields,
    )


@dataclass(frozen=True)
class Schemas:
    settings: type[BaseModel]
    summarize: type[BaseModel]
    compare: type[BaseModel]


def build_schemas(config: ServeConfig) -> Schemas:
    """Request models whose limits are `config`'s caps and whose model enum is its names."""
    names = tuple(config.names)
    ModelName = Literal[names]  # type: ignore[valid-type]
    strict = ConfigDict(extra="forbid")

    Settings = settings_model(config)

    class SummarizeRequest(BaseModel):
        model_config = strict
        texts: list[str] = Field(
            min_length=1,
            description=f"Texts to summarize (at most {config.max_texts}, each at most "
            f"{config.max_chars} characters; 413 past either).",
        )
        model: ModelName | None = Field(None, description="Served model (default: the first).")  # type: ignore[valid-type]
        settings: Settings | None = None
        timeout_s: float | None = Field(None, ge=0.1, le=config.timeout_s)
        faithfulness: bool = Field(
            False, description="Also check each summary against its text (entities, numbers)."
        )

        _texts = field_validator("texts")(check_texts)

    class CompareRequest(BaseModel):
        model_config = strict
        text: str = Field(description=f"Text to summarize (at most {config.max_chars} chars).")
        models: list[ModelName] | None = Field(  # type: ignore[valid-type]
            None, min_length=1, description="Served models to compare (default: all)."
        )
        settings: Settings | None = None
        reference: str | None = Field(None, description="A reference summary for ROUGE.")
        timeout_s: float | None = Field(None, ge=0.1, le=config.timeout_s)
        faithfulness: bool = Field(
            False, description="Also check each summary against the text (and the reference)."
        )

        _text = field_validator("text", "reference")(check_text)

        @field_validator("models")
        @classmethod
        def no_repeats(cls, value: list[str] | None) -> list[str] | None:
            if value is not None and len(set(value)) != len(value):
                raise ValueError("a model is named twice")
            return value

    return Schemas(Settings, SummarizeRequest, CompareRequest)


def check_text(value: str | None) -> str | None:
    """Text the tokenizer can read: encodable as UTF-8 (no lone surrogates)."""
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ValueError(f"not valid Unicode text at character {err.start}") from None
    return value


def check_texts(value: list[str]) -> list[str]:
    for i, text in enumerate(value):
        try:
            check_text(text)
        except ValueError as err:
            raise ValueError(f"text {i}: {err}") from None
    return value
