"""The HTTP API through TestClient: every endpoint, every bad input, keys and CORS.

Real tiny models (t5, bart) for the endpoints; caps keep generation to 8 greedy tokens.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
from fastapi.testclient import TestClient

from summarist.config.serve import ServeConfig, ServedModel
from summarist.serving import create_app
from tests.tiny_models import tiny_model
from tests.unit._serving import ScriptedSummarizer, config, wait_ready

TEXT = "Anna: Did you get the report? Ben: Yes, I got the report today. They meet at 2 pm."
CAPS = {"max_new_tokens": 8, "max_beams": 1, "max_texts": 4, "max_chars": 4000}


def tiny_config(**kw: Any) -> ServeConfig:
    models = [
        ServedModel("t5", str(tiny_model("t5"))),
        ServedModel("bart", str(tiny_model("bart"))),
    ]
    return ServeConfig(models=models, **{**CAPS, **kw})


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(tiny_config())) as c:
        wait_ready(c)
        yield c


def test_summarize_answers_summaries_token_counts_model_and_latency(client: TestClient) -> None:
    r = client.post("/v1/summarize", json={"texts": [TEXT, TEXT[:40]], "model": "t5"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "t5" and body["latency_ms"] > 0
    assert len(body["summaries"]) == 2
    for item in body["summaries"]:
        assert item["source_tokens"] > 0 and 0 <= item["new_tokens"] <= 8
        assert item["levels"] == 0 and isinstance(item["summary"], str)
    first = client.post("/v1/summarize", json={"texts": [TEXT]}).json()
    assert first["model"] == "t5"  # default: the first served model


def test_compare_runs_each_model_and_scores_against_a_reference(client: TestClient) -> None:
    body = {"text": TEXT, "models": ["t5", "bart"], "reference": "Ben got the report."}
    r = client.post("/v1/compare", json=body)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["model"] for x in results] == ["t5", "bart"]
    for x in results:
        assert x["latency_ms"] > 0 and x["source_tokens"] > 0
        assert set(x["rouge"]) == {"rouge1", "rouge2", "rougeL", "rougeLsum"}
    no_ref = client.post("/v1/compare", json={"text": TEXT}).json()["results"]
    assert len(no_ref) == 2 and all(x["rouge"] is None for x in no_ref)


def test_long_input_goes_through_map_reduce_not_truncation(client: TestClient) -> None:
    long = " ".join([TEXT] * 40)  # > 512 tokens of the t5 tokenizer, < max_chars
    r = client.post("/v1/summarize", json={"texts": [long]})
    assert r.status_code == 200, r.text
    item = r.json()["summaries"][0]
    assert item["source_tokens"] > 512 and item["levels"] >= 1


def test_models_health_ready_metrics_and_docs(client: TestClient) -> None:
    models = client.get("/v1/models").json()
    assert [m["name"] for m in models["models"]] == ["t5", "bart"]
    # each model's saved settings within the caps: max_new_tokens 8, one beam
    assert all(m["ready"] for m in models["models"])
    assert [
        (m["settings"]["max_new_tokens"], m["settings"]["num_beams"]) for m in models["models"]
    ] == [(8, 1), (8, 1)]
    assert models["limits"]["max_texts"] == 4 and models["auth"] is False
    assert client.get("/healthz").json() == {"status": "alive"}
    assert client.get("/readyz").status_code == 200
    client.post("/v1/summarize", json={"texts": [TEXT]})
    text = client.get("/metrics").text
    for family in (
        'summarist_requests_total{route="/v1/summarize",status="200"}',
        "summarist_request_seconds_bucket",
        'summarist_queue_depth{model="t5"}',
        'summarist_batch_texts_count{model="t5"}',
        'summarist_generated_tokens_total{model="t5"}',
    ):
        assert family in text
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/v1/summarize", "/v1/compare", "/v1/models"} <= set(schema["paths"])


def test_the_page_and_its_assets_come_from_the_app(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "<form" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    assert "http://" not in page.text and "https://" not in page.text


BAD = [
    ("malformed json", b'{"texts": [', "body"),
    ("not an object", b"[1, 2]", "body"),
    ("wrong type", json.dumps({"texts": "one text"}).encode(), "texts"),
    ("wrong item type", json.dumps({"texts": [3]}).encode(), "texts.0"),
    ("empty list", json.dumps({"texts": []}).encode(), "texts"),
    ("missing texts", json.dumps({"model": "t5"}).encode(), "texts"),
    ("unknown model", json.dumps({"texts": ["a"], "model": "gpt"}).encode(), "model"),
    ("a path as model", json.dumps({"texts": ["a"], "model": "/etc"}).encode(), "model"),
    ("a backend", json.dumps({"texts": ["a"], "backend": "torch"}).encode(), "backend"),
    ("beams over cap", json.dumps({"texts": ["a"], "settings": {"num_beams": 2}}).encode(), "settings.num_beams"),
    ("tokens over cap", json.dumps({"texts": ["a"], "settings": {"max_new_tokens": 9}}).encode(), "settings.max_new_tokens"),
    ("unknown setting", json.dumps({"texts": ["a"], "settings": {"do_sample": True}}).encode(), "settings.do_sample"),
    ("min over max", json.dumps({"texts": ["a"], "settings": {"min_new_tokens": 8, "max_new_tokens": 2}}).encode(), "settings"),
    ("lone surrogate", b'{"texts": ["\\ud800 text"]}', "texts"),
    ("timeout over cap", json.dumps({"texts": ["a"], "timeout_s": 1e9}).encode(), "timeout_s"),
    ("compare unknown model", json.dumps({"text": "a", "models": ["nope"]}).encode(), "models.0"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_422_naming_the_field(
    client: TestClient, case: str, body: bytes, field: str
) -> None:
    route = "/v1/compare" if case.startswith("compare") else "/v1/summarize"
    r = client.post(route, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()
    assert r.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"texts": ["a"] * 5}, "texts"),
        ({"texts": ["a", "x" * 4001]}, "texts[1]"),
    ],
)
def test_too_many_texts_or_characters_is_413(client: TestClient, body: Any, field: str) -> None:
    r = client.post("/v1/summarize", json=body)
    assert r.status_code == 413 and r.json()["field"] == field, r.text
    r = client.post("/v1/compare", json={"text": "x" * 4001})
    assert r.status_code == 413 and r.json()["field"] == "text"


def test_body_over_the_byte_cap_is_413() -> None:
    with TestClient(
        create_app(config("m", max_body_bytes=100), lambda m: ScriptedSummarizer())
    ) as c:
        r = c.post("/v1/summarize", json={"texts": ["x" * 200]})
        assert r.status_code == 413 and r.json()["field"] == "body"


def test_api_keys_are_required_on_the_api_and_checked() -> None:
    cfg = config("m", api_keys=["k-one", "k-two"])
    with TestClient(create_app(cfg, lambda m: ScriptedSummarizer())) as c:
        wait_ready(c)
        body = {"texts": ["hello there"]}
        assert c.post("/v1/summarize", json=body).status_code == 401
        bad = {"authorization": "Bearer k-three"}
        assert c.post("/v1/summarize", json=body, headers=bad).status_code == 401
        assert c.get("/metrics").status_code == 401 and c.get("/v1/models").status_code == 401
        for headers in ({"authorization": "Bearer k-one"}, {"x-api-key": "k-two"}):
            assert c.post("/v1/summarize", json=body, headers=headers).status_code == 200
        assert c.get("/v1/models", headers={"x-api-key": "k-one"}).json()["auth"] is True
        for open_path in ("/", "/healthz", "/readyz", "/static/app.js"):
            assert c.get(open_path).status_code == 200


def test_a_wrong_key_is_401_with_the_bearer_challenge_and_an_empty_bearer_is_not_a_fallback() -> (
    None
):
    cfg = config("m", api_keys=["k-one"])
    with TestClient(create_app(cfg, lambda m: ScriptedSummarizer())) as c:
        wait_ready(c)
        r = c.get("/v1/models", headers={"authorization": "Bearer nope"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        why = "missing or invalid API key"  # summarist's fields, and OpenAI's error object
        assert r.json() == {"detail": why, "field": "authorization", "message": why,
                            "error": {"message": why, "type": "authentication_error",
                                      "param": None, "code": "invalid_api_key"}}  # fmt: skip
        # "Bearer " names an (empty, wrong) key: X-API-Key beside it does not rescue it
        both = {"authorization": "Bearer ", "x-api-key": "k-one"}
        assert c.get("/v1/models", headers=both).status_code == 401
        assert c.get("/v1/models", headers={"authorization": "bearer k-one"}).status_code == 200
        basic = {"authorization": "Basic abc", "x-api-key": "k-one"}  # not a bearer: the header
        assert c.get("/v1/models", headers=basic).status_code == 200


def test_the_key_is_checked_before_the_body_on_every_api_route() -> None:
    """FastAPI parses a JSON body before dependencies run: without the key-first route class a
    malformed body without a key got 422 (400 on the OpenAI routes) and told a stranger what the
    API accepts. Every POST route of the API: 401 first, then (with the key) the body's error."""
    cfg = config("m", api_keys=["k-one"])
    app = create_app(cfg, lambda m: ScriptedSummarizer())
    posts = sorted(p for p, ops in app.openapi()["paths"].items() if "post" in ops)
    assert posts == ["/v1/chat/completions", "/v1/compare", "/v1/completions", "/v1/summarize"]
    json_type = {"content-type": "application/json"}
    with TestClient(app) as c:
        wait_ready(c)
        for path in posts:
            for body in (b'{"texts": [', b'{"texts": 3}', b"not json"):
                r = c.post(path, content=body, headers=json_type)
                assert r.status_code == 401, (path, body, r.text)
                assert r.json()["error"]["type"] == "authentication_error"
            keyed = {**json_type, "authorization": "Bearer k-one"}
            r = c.post(path, content=b'{"texts": [', headers=keyed)
            assert r.status_code in (400, 422), (path, r.text)


def test_the_openapi_document_declares_the_api_key_on_exactly_the_keyed_routes() -> None:
    keyed = create_app(config("m", api_keys=["k-one"]), lambda m: ScriptedSummarizer()).openapi()
    schemes = keyed["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer",
                                 "description": "`Authorization: Bearer KEY`"}  # fmt: skip
    assert schemes["apiKey"]["in"] == "header" and schemes["apiKey"]["name"] == "X-API-Key"
    secured = {
        (path, method)
        for path, ops in keyed["paths"].items()
        for method, op in ops.items()
        if op.get("security") == [{"bearer": []}, {"apiKey": []}]
    }
    assert secured == {("/v1/summarize", "post"), ("/v1/compare", "post"),
                       ("/v1/models", "get"), ("/metrics", "get"),
                       ("/v1/chat/completions", "post"), ("/v1/completions", "post")}  # fmt: skip
    open_doc = create_app(config("m"), lambda m: ScriptedSummarizer()).openapi()
    assert "securitySchemes" not in open_doc.get("components", {})
    assert not any("security" in op for ops in open_doc["paths"].values() for op in ops.values())


def test_request_settings_are_the_generation_settings_fields_within_the_server_caps() -> None:
    import dataclasses

    from summarist.config.docs import field_docs
    from summarist.config.generation import GenerationSettings
    from summarist.serving.schemas import REQUEST_LIMITS, settings_model

    cfg = config("m", max_new_tokens=40, max_beams=3)
    schema = settings_model(cfg).model_json_schema()
    names = [f.name for f in dataclasses.fields(GenerationSettings)]
    assert list(schema["properties"]) == [n for n in names if n in REQUEST_LIMITS]
    # sampling and stop strings are the OpenAI routes' (temperature, top_p, seed, stop)
    sampling = {"do_sample", "temperature", "top_p", "sample_seed", "stop"}
    assert set(names) - set(REQUEST_LIMITS) == {"early_stopping", *sampling}
    docs = field_docs(GenerationSettings)
    for name, prop in schema["properties"].items():
        assert prop["description"] == docs[name]
    bounds = {n: (p["anyOf"][0]["minimum"], p["anyOf"][0]["maximum"])
              for n, p in schema["properties"].items()}  # fmt: skip
    assert bounds["max_new_tokens"] == (1, 40) and bounds["min_new_tokens"] == (0, 40)
    assert bounds["num_beams"] == (1, 3) and bounds["repetition_penalty"] == (1.0, 10.0)
    assert schema["properties"]["length_penalty"]["anyOf"][0]["type"] == "number"
    assert schema["properties"]["num_beams"]["anyOf"][0]["type"] == "integer"
    assert schema["additionalProperties"] is False


def test_cors_is_off_unless_configured() -> None:
    origin = {"origin": "https://elsewhere.example"}
    with TestClient(create_app(config("m"), lambda m: ScriptedSummarizer())) as c:
        assert "access-control-allow-origin" not in c.get("/v1/models", headers=origin).headers
    cfg = config("m", cors_origins=["https://elsewhere.example"])
    with TestClient(create_app(cfg, lambda m: ScriptedSummarizer())) as c:
        got = c.get("/v1/models", headers=origin).headers
        assert got["access-control-allow-origin"] == "https://elsewhere.example"


def test_ready_only_once_every_model_is_loaded_and_warmed() -> None:
    scripted = ScriptedSummarizer()
    scripted.gate.clear()  # the warm-up generation waits
    with TestClient(create_app(config("a", "b"), lambda m: scripted)) as c:
        assert c.get("/healthz").status_code == 200
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["loading"] == ["a", "b"]
        assert c.post("/v1/summarize", json={"texts": ["x"]}).status_code == 503
        scripted.gate.set()
        wait_ready(c)
        assert c.post("/v1/summarize", json={"texts": ["x"], "model": "b"}).status_code == 200


def test_a_model_that_fails_to_load_keeps_the_service_unready() -> None:
    def broken(model: ServedModel) -> Any:
        raise OSError(f"no model at {model.path}")

    with TestClient(create_app(config("a"), broken)) as c:
        for _ in range(50):
            if c.get("/readyz").json()["error"]:
                break
        r = c.get("/readyz")
        assert r.status_code == 503 and "no model at" in r.json()["error"]


def test_a_run_directory_and_an_export_directory_are_served_under_their_names(
    tmp_path: Any,
) -> None:
    import shutil

    pytest.importorskip("ctranslate2", reason="the fast extra is not installed")
    from summarist.inference.backends.ctranslate2_backend import export_model

    run = tmp_path / "runs" / "t5run"
    shutil.copytree(tiny_model("t5"), run / "model")
    (run / "config.yaml").write_text("kind: train\n", encoding="utf-8")
    export = export_model(str(run), tmp_path / "ct2")
    models = [ServedModel.parse(str(run)), ServedModel.parse(f"fast={export}")]
    assert [m.name for m in models] == ["t5run", "fast"]
    with TestClient(create_app(ServeConfig(models=models, **CAPS))) as c:
        wait_ready(c)
        for name in ("t5run", "fast"):
            r = c.post("/v1/summarize", json={"texts": [TEXT], "model": name})
            assert r.status_code == 200 and r.json()["summaries"][0]["source_tokens"] > 0, r.text
        backends = {m["name"]: m["backend"] for m in c.get("/v1/models").json()["models"]}
        assert backends["t5run"] == "torch" and backends["fast"] != "torch", backends


def test_docs_page_and_its_assets_come_from_the_app() -> None:
    with TestClient(create_app(config("m"), lambda m: ScriptedSummarizer())) as c:
        page = c.get("/docs")
        assert page.status_code == 200 and "SwaggerUIBundle" in page.text
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert len(urls) == 3 and all(u.startswith("/docs/assets/") for u in urls), urls
        assert "http://" not in page.text and "https://" not in page.text
        for url in urls:
            assert c.get(url).status_code == 200, url
        assert c.get("/redoc").status_code == 404  # it would need a CDN


def test_docs_stay_open_with_api_keys_like_the_schema() -> None:
    cfg = config("m", api_keys=["k-one"])
    with TestClient(create_app(cfg, lambda m: ScriptedSummarizer())) as c:
        for path in ("/docs", "/docs/assets/swagger-ui.css", "/openapi.json"):
            assert c.get(path).status_code == 200, path


def test_readyz_is_503_once_sigterm_starts_draining_and_healthz_stays_200() -> None:
    pytest.importorskip("uvicorn", reason="the serve extra is not installed")
    from summarist.serving.server import build_server

    server = build_server(config("m"), lambda m: ScriptedSummarizer())
    with TestClient(server.config.app) as c:
        wait_ready(c)
        server.handle_exit(signal.SIGTERM, None)
        assert server.should_exit
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["draining"] is True
        assert c.get("/healthz").status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "box-1.lan"])
def test_addresses_and_host_names_are_accepted_as_host(host: str) -> None:
    assert config("m", host=host).host == host


def test_model_paths_are_checked_before_serving_and_real_ones_pass(tmp_path: Any) -> None:
    import shutil

    from summarist.errors import ModelError
    from summarist.serving.server import check_paths_and_backend

    run = tmp_path / "run"
    shutil.copytree(tiny_model("t5"), run / "model")
    (run / "config.yaml").write_text("kind: train\n")
    good = ServeConfig(
        models=[ServedModel("t5", str(tiny_model("t5"))), ServedModel("r", str(run))]
    )
    check_paths_and_backend(good)
    shutil.rmtree(run / "model")
    with pytest.raises(ModelError, match="no model/"):
        check_paths_and_backend(ServeConfig(models=[ServedModel("r", str(run))]))
