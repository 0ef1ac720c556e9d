"""The OpenAI-compatible routes on a tiny T5, in process (`TestClient`): shapes, usage, decoding
settings, the message rule, refusals in OpenAI's error shape, SSE framing, the shared batcher."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
from fastapi.testclient import TestClient

from summarist.config.generation import GenerationSettings
from summarist.config.serve import ServeConfig, ServedModel
from summarist.serving.app import create_app
from tests.tiny_models import tiny_model
from tests.unit._serving import wait_ready

TEXT = "Anna: Did you get the train tickets? Ben: Yes, I got the train tickets today."
OTHER = "Cara: Did you get lunch? Dan: Yes, I got lunch today. They meet at 2 pm."


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[TestClient, Any]]:
    config = ServeConfig(models=[ServedModel("t5", str(tiny_model("t5")))], max_new_tokens=16,
                         api_keys=["sekrit"])  # fmt: skip
    app = create_app(config)
    with TestClient(app, headers={"Authorization": "Bearer sekrit"}) as client:
        wait_ready(client)
        yield client, app.state.summarist.batchers["t5"].summarizer


def chat(client: TestClient, text: str = TEXT, **kw: Any) -> Any:
    body = {"model": "t5", "messages": [{"role": "user", "content": text}], **kw}
    return client.post("/v1/chat/completions", json=body)


def test_chat_completion_shape_and_exact_usage(served: Any) -> None:
    client, summarizer = served
    r = chat(client, max_tokens=12, temperature=0)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "t5" and body["system_fingerprint"].startswith("summarist-")
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["message"]["role"] == "assistant"
    # The same text through the Summarizer directly, greedy, 12 tokens: same text, same counts.
    direct = summarizer.summarize_detailed(
        [TEXT], GenerationSettings(max_new_tokens=12, num_beams=1, early_stopping=False,
                                   no_repeat_ngram_size=summarizer.settings.no_repeat_ngram_size)
    )  # fmt: skip
    assert choice["message"]["content"] == direct.summaries[0]
    prompt = len(summarizer.tokenizer(summarizer.prefix + TEXT)["input_ids"])
    assert body["usage"] == {"prompt_tokens": prompt, "completion_tokens": direct.new_tokens[0],
                             "total_tokens": prompt + direct.new_tokens[0]}  # fmt: skip
    expected = "length" if direct.new_tokens[0] >= 12 else "stop"
    assert choice["finish_reason"] == expected


def test_chat_equals_summarize_route_and_completions(served: Any) -> None:
    client, _ = served
    settings = {"max_new_tokens": 10, "num_beams": 1}
    own = client.post("/v1/summarize", json={"texts": [TEXT], "settings": settings}).json()
    got = chat(client, max_tokens=10, temperature=0).json()
    assert got["choices"][0]["message"]["content"] == own["summaries"][0]["summary"]
    assert got["usage"]["completion_tokens"] == own["summaries"][0]["new_tokens"]
    assert got["usage"]["prompt_tokens"] == own["summaries"][0]["source_tokens"]
    comp = client.post("/v1/completions", json={"model": "t5", "prompt": [TEXT, OTHER],
                                                "max_tokens": 10, "temperature": 0}).json()  # fmt: skip
    assert comp["object"] == "text_completion" and [c["index"] for c in comp["choices"]] == [0, 1]
    assert comp["choices"][0]["text"] == own["summaries"][0]["summary"]
    usage = comp["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_the_text_is_the_last_user_message(served: Any) -> None:
    client, _ = served
    plain = chat(client, OTHER, max_tokens=8, temperature=0).json()
    messages = [
        {"role": "system", "content": "You are a summarizer."},
        {"role": "user", "content": TEXT},
        {"role": "assistant", "content": "An earlier answer."},
        {"role": "user", "content": [{"type": "text", "text": OTHER}]},
    ]
    r = client.post("/v1/chat/completions", json={"model": "t5", "messages": messages,
                                                  "max_tokens": 8, "temperature": 0})  # fmt: skip
    assert r.json()["choices"][0]["message"]["content"] == plain["choices"][0]["message"]["content"]
    assert r.json()["usage"] == plain["usage"]


def test_sampling_with_a_seed_repeats_and_seeds_differ(served: Any) -> None:
    client, _ = served
    outs = [
        chat(client, OTHER, max_tokens=12, temperature=1.5, seed=s).json() for s in (7, 7, 8, 9)
    ]
    texts = [o["choices"][0]["message"]["content"] for o in outs]
    assert texts[0] == texts[1]
    assert len(set(texts[1:])) > 1  # a random tiny model: other seeds give other samples
    greedy = {chat(client, OTHER, max_tokens=12, temperature=0).json()["choices"][0]["message"]["content"] for _ in range(2)}  # fmt: skip
    assert len(greedy) == 1


def test_stop_cuts_the_completion_before_the_stop_sequence(served: Any) -> None:
    client, _ = served
    full = chat(client, max_tokens=16, temperature=0).json()["choices"][0]["message"]["content"]
    words = full.split()
    assert len(words) >= 3, full
    stop = words[2]
    got = chat(client, max_tokens=16, temperature=0, stop=[stop]).json()
    cut = got["choices"][0]["message"]["content"]
    assert cut == full[: full.find(stop)] and stop not in cut
    assert got["choices"][0]["finish_reason"] == "stop"
    assert got["usage"]["completion_tokens"] <= chat(client, max_tokens=16, temperature=0).json()["usage"]["completion_tokens"]  # fmt: skip


def test_unknown_fields_are_ignored(served: Any) -> None:
    client, _ = served
    a = chat(client, max_tokens=8, temperature=0).json()
    b = chat(client, max_tokens=8, temperature=0, user="u1", metadata={"x": 1}, store=False,
             parallel_tool_calls=True, frobnicate=3, n=1, presence_penalty=0).json()  # fmt: skip
    assert a["choices"][0]["message"] == b["choices"][0]["message"]


REFUSED = [
    ({"n": 2}, 400, "n"),
    ({"temperature": 2.5}, 400, "temperature"),
    ({"top_p": 0}, 400, "top_p"),
    ({"max_tokens": 17}, 400, "max_tokens"),
    ({"max_tokens": "many"}, 400, "max_tokens"),
    ({"logprobs": True}, 400, "logprobs"),
    ({"tools": [{"type": "function"}]}, 400, "tools"),
    ({"presence_penalty": 0.5}, 400, "presence_penalty"),
    ({"logit_bias": {"1": 5}}, 400, "logit_bias"),
    ({"response_format": {"type": "json_object"}}, 400, "response_format"),
    ({"stop": ["a", "b", "c", "d", "e"]}, 400, "stop"),
    ({"model": "gpt-4o"}, 404, "model"),
    ({"messages": [{"role": "system", "content": "only a system message"}]}, 400, "messages"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, 400, "messages"),
]


@pytest.mark.parametrize(("extra", "status", "param"), REFUSED, ids=[p for _, _, p in REFUSED])
def test_unsupported_values_are_openai_errors(served: Any, extra: dict[str, Any], status: int, param: str) -> None:  # fmt: skip
    client, _ = served
    body = {"model": "t5", "messages": [{"role": "user", "content": TEXT}], **extra}
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["param"] == param and err["message"] and err["type"] == "invalid_request_error"


def test_completions_refusals_and_bad_json(served: Any) -> None:
    client, _ = served
    for extra, param in (({"echo": True}, "echo"), ({"best_of": 3}, "best_of"),
                         ({"suffix": "x"}, "suffix"), ({"prompt": []}, "prompt")):  # fmt: skip
        r = client.post("/v1/completions", json={"model": "t5", "prompt": TEXT, **extra})
        assert r.status_code == 400 and r.json()["error"]["param"] == param, r.text
    r = client.post("/v1/chat/completions", content=b'{"messages": [', headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]


def test_the_api_key_is_checked_as_bearer_with_openai_shape(served: Any) -> None:
    client, _ = served
    for headers in ({"Authorization": "Bearer wrong"}, {"Authorization": ""}):
        r = client.post("/v1/chat/completions", headers=headers,
                        json={"model": "t5", "messages": [{"role": "user", "content": TEXT}]})  # fmt: skip
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert client.get("/v1/models", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_models_lists_both_shapes(served: Any) -> None:
    client, _ = served
    body = client.get("/v1/models").json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["t5"]
    assert body["data"][0]["object"] == "model" and body["data"][0]["max_model_len"] > 0
    assert [m["name"] for m in body["models"]] == ["t5"]  # summarist's own listing stays


def events(text: str) -> list[Any]:
    assert text.endswith("data: [DONE]\n\n"), text[-200:]
    chunks = [block for block in text.split("\n\n") if block]
    assert all(c.startswith("data: ") for c in chunks)
    return [json.loads(c[6:]) for c in chunks[:-1]]


def test_streaming_chat_framing_and_usage_chunk(served: Any) -> None:
    client, _ = served
    whole = chat(client, max_tokens=10, temperature=0).json()
    r = chat(client, max_tokens=10, temperature=0, stream=True, stream_options={"include_usage": True})  # fmt: skip
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    got = events(r.text)
    assert got[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(e["object"] == "chat.completion.chunk" and e["id"] == got[0]["id"] for e in got)
    content = "".join(e["choices"][0]["delta"].get("content", "") for e in got if e["choices"])
    assert content == whole["choices"][0]["message"]["content"]
    reasons = [e["choices"][0]["finish_reason"] for e in got if e["choices"]]
    assert reasons[-1] == whole["choices"][0]["finish_reason"] and reasons.count(None) == len(reasons) - 1  # fmt: skip
    assert got[-1]["choices"] == [] and got[-1]["usage"] == whole["usage"]
    assert all(e["usage"] is None for e in got[:-1])
    plain = events(chat(client, max_tokens=10, temperature=0, stream=True).text)
    assert all("usage" not in e for e in plain) and plain[-1]["choices"][0]["finish_reason"]


def test_streaming_completions_with_two_prompts(served: Any) -> None:
    client, _ = served
    r = client.post("/v1/completions", json={"model": "t5", "prompt": [TEXT, OTHER], "max_tokens": 6,
                                             "temperature": 0, "stream": True,
                                             "stream_options": {"include_usage": True}})  # fmt: skip
    got = events(r.text)
    texts: dict[int, str] = {}
    for e in got[:-1]:
        c = e["choices"][0]
        texts[c["index"]] = texts.get(c["index"], "") + c["text"]
    whole = client.post("/v1/completions", json={"model": "t5", "prompt": [TEXT, OTHER],
                                                 "max_tokens": 6, "temperature": 0}).json()  # fmt: skip
    assert texts == {c["index"]: c["text"] for c in whole["choices"]}
    assert got[-1]["usage"] == whole["usage"]


def test_routes_share_the_batcher_and_metrics(served: Any) -> None:
    client, _ = served
    before = client.get("/metrics").text
    chat(client, max_tokens=4, temperature=0)
    after = client.get("/metrics").text
    line = 'summarist_requests_total{route="/v1/chat/completions",status="200"}'

    def count(text: str) -> int:
        return int(next((x.split()[-1] for x in text.splitlines() if x.startswith(line)), 0))

    assert count(after) == count(before) + 1
    assert 'summarist_batch_texts_count{model="t5"}' in after


def test_a_vanishing_temperature_is_greedy_not_nan(served: Any) -> None:
    client, _ = served  # schemathesis found 1e-82: logits / T overflowed and sampling failed
    greedy = chat(client, max_tokens=8, temperature=0).json()["choices"][0]["message"]
    tiny = chat(client, max_tokens=8, temperature=3e-82, top_p=0.2, seed=5)
    assert tiny.status_code == 200 and tiny.json()["choices"][0]["message"] == greedy


def test_a_stop_string_no_token_can_spell_is_harmless(served: Any) -> None:
    client, _ = served  # schemathesis found "\u0007": transformers refused to preprocess it
    plain = chat(client, max_tokens=8, temperature=0).json()["choices"][0]["message"]
    got = chat(client, max_tokens=8, temperature=0, stop="\u0007")
    assert got.status_code == 200 and got.json()["choices"][0]["message"] == plain
