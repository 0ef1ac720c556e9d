"""Bodies of the OpenAI-compatible routes (`/v1/chat/completions`, `/v1/completions`).

Field names, types and defaults follow the OpenAI API reference. Unknown fields are ignored, as
OpenAI's own API does (gateways and SDKs add their own); fields it defines that summarist cannot
honour (`n` > 1, logprobs, tools, penalties, ...) are refused one by one in
`openai_api.refuse_unsupported`, so a request never silently gets less than it asked for.
Like vLLM, a request may add the decoding settings of summarist's own API (`num_beams`, ...),
e.g. through the SDK's `extra_body`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LENIENT = ConfigDict(extra="ignore")


class ContentPart(BaseModel):
    model_config = LENIENT
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = LENIENT
    role: str = Field(description="system, developer, user, assistant or tool.")
    content: str | list[ContentPart] | None = None
    name: str | None = None


class StreamOptions(BaseModel):
    model_config = LENIENT
    include_usage: bool | None = Field(
        None, description="Send a last chunk with the request's usage before `data: [DONE]`."
    )


class Sampling(BaseModel):
    """What both routes share: the model, decoding, stop, streaming, and what is refused."""

    model_config = LENIENT
    model: str | None = Field(None, description="Served model (default: the first).")
    max_tokens: int | None = Field(None, ge=1, description="Most tokens generated.")
    temperature: float | None = Field(
        None,
        ge=0,
        le=2,
        description="0: greedy. Above 0: sampling at this temperature. Unset (and top_p "
        "unset): the model's saved decoding settings, e.g. beam search.",
    )
    top_p: float | None = Field(None, gt=0, le=1, description="Nucleus sampling mass.")
    seed: int | None = Field(None, description="Sampling: same seed, same completion.")
    stop: str | list[str] | None = Field(None, description="Up to 4 stop sequences.")
    n: int | None = Field(None, description="Completions per prompt: only 1.")
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    # Defined by OpenAI, refused when set to anything but "off" (openai_api.refuse_unsupported).
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, Any] | None = None
    # summarist's own decoding settings (vLLM likewise accepts its sampling parameters here).
    num_beams: int | None = Field(None, ge=1, description="summarist: beams of beam search.")
    length_penalty: float | None = Field(None, ge=-10, le=10, description="summarist.")
    no_repeat_ngram_size: int | None = Field(None, ge=0, le=10, description="summarist.")
    repetition_penalty: float | None = Field(None, ge=1, le=10, description="summarist.")
    min_tokens: int | None = Field(None, ge=0, description="summarist: fewest tokens generated.")


class ChatCompletionRequest(Sampling):
    messages: list[ChatMessage] = Field(
        min_length=1,
        description="The text to summarize is the content of the LAST message whose role is "
        "`user`; other messages are not given to the model (see docs/serving.md).",
    )
    max_completion_tokens: int | None = Field(None, ge=1, description="Same as max_tokens.")
    logprobs: bool | None = None
    top_logprobs: int | None = None
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    response_format: dict[str, Any] | None = None


class CompletionRequest(Sampling):
    prompt: str | list[str] = Field(
        description="The text to summarize, or a list of texts (one choice each, in order)."
    )
    logprobs: int | None = None
    echo: bool | None = False
    suffix: str | None = None
    best_of: int | None = None


class Usage(BaseModel):
    prompt_tokens: int = Field(description="Source tokens as the model saw them (prefix included).")
    completion_tokens: int = Field(
        description="Tokens generated (the end-of-sequence token not counted)."
    )
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop", "length"]
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    system_fingerprint: str
    choices: list[ChatChoice]
    usage: Usage


class CompletionChoice(BaseModel):
    index: int
    text: str
    finish_reason: Literal["stop", "length"]
    logprobs: None = None


class Completion(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    system_fingerprint: str
    choices: list[CompletionChoice]
    usage: Usage


class OpenAIModel(BaseModel):
    """An entry of `/v1/models` `data`, as OpenAI and vLLM list their models."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "summarist"
    max_model_len: int | None = Field(None, description="Source tokens the model reads at once.")


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """OpenAI's error shape: what the SDKs read (`openai.BadRequestError.message`, ...)."""

    error: ErrorBody
