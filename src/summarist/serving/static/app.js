// The compare page: everything it needs comes from this server (/v1/models, /v1/compare).
"use strict";
const $ = (id) => document.getElementById(id);
const SETTINGS = ["max_new_tokens", "num_beams", "length_penalty", "no_repeat_ngram_size"];

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("apikey").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function message(body, status) {
  if (body && body.field) return `${body.field}: ${body.message}`;
  if (body && typeof body.detail === "string") return body.detail;
  return `request failed (HTTP ${status})`;
}

async function loadModels() {
  const r = await fetch("/v1/models", { headers: headers() });
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    $("status").textContent = message(body, r.status);
    if (r.status === 401) $("keybox").open = true;
    return;
  }
  const box = $("models");
  box.querySelectorAll("label").forEach((l) => l.remove());
  for (const m of body.models) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox"; input.name = "model"; input.value = m.name; input.checked = true;
    label.append(input, " " + m.name + (m.ready ? "" : " (loading)"));
    box.append(label);
  }
  const first = body.models.find((m) => m.settings);
  for (const name of SETTINGS) {
    const input = $(name);
    if (first && input.value === "") input.value = first.settings[name];
  }
  $("max_new_tokens").max = body.limits.max_new_tokens;
  $("num_beams").max = body.limits.max_beams;
  $("text").maxLength = body.limits.max_chars;
  $("status").textContent = `${body.models.length} model(s)` + (body.auth ? " · API key required" : "");
  if (body.auth) $("keybox").open = true;
}

// The summary with its entities and numbers marked: red = not in the text, green = found
// (the tooltip shows where). Built with text nodes only: summaries are never parsed as HTML.
function markedSummary(summary, faith) {
  const p = document.createElement("div"); p.className = "summary";
  const items = [...faith.entities.map((e) => ({ ...e, what: "entity " + e.label })),
                 ...faith.numbers.map((n) => ({ ...n, what: n.kind + " " + n.value }))]
    .sort((a, b) => a.start - b.start);
  let pos = 0;
  for (const it of items) {
    if (it.start < pos) continue;
    p.append(document.createTextNode(summary.slice(pos, it.start)));
    const m = document.createElement("mark");
    m.className = it.in_source ? "sup" : "unsup";
    m.title = it.what + (it.in_source ? ": found in the text" : ": not in the text");
    m.textContent = summary.slice(it.start, it.end);
    p.append(m);
    pos = it.end;
  }
  p.append(document.createTextNode(summary.slice(pos)));
  return p;
}

function faithLine(faith) {
  const fmt = (v) => (v === null || v === undefined ? "–" : v.toFixed(0));
  const bad = faith.entities.filter((e) => !e.in_source).length + faith.numbers.filter((n) => !n.in_source).length;
  let text = `entities in text ${fmt(faith.prec_s)}% · numbers supported ${fmt(faith.num_prec_s)}%`;
  if (faith.prec_t !== null) text += ` · entity prec./recall vs reference ${fmt(faith.prec_t)}/${fmt(faith.recall_t)}%`;
  text += ` · novel bigrams ${fmt(faith.novel_2)}% · ${bad} unsupported`;
  const div = document.createElement("div"); div.className = "meta faith"; div.textContent = text;
  return div;
}

function card(result) {
  const div = document.createElement("article");
  div.className = "card"; div.dataset.model = result.model;
  const h = document.createElement("h2"); h.textContent = result.model;
  let p = document.createElement("div"); p.className = "summary"; p.textContent = result.summary;
  if (result.faithfulness) p = markedSummary(result.summary, result.faithfulness);
  const meta = document.createElement("div"); meta.className = "meta";
  let text = `${result.source_tokens} source tokens · ${result.new_tokens} new tokens · ` +
    `${Math.round(result.latency_ms)} ms` + (result.levels ? ` · map-reduce ${result.levels}` : "");
  if (result.rouge) {
    text += ` · ROUGE-1 ${result.rouge.rouge1.toFixed(1)} · ROUGE-2 ${result.rouge.rouge2.toFixed(1)}` +
      ` · ROUGE-L ${result.rouge.rougeL.toFixed(1)}`;
  }
  meta.textContent = text;
  const copy = document.createElement("button");
  copy.type = "button"; copy.className = "copy"; copy.textContent = "Copy";
  copy.addEventListener("click", () => copyText(result.summary, copy));
  div.append(h, p, meta);
  if (result.faithfulness) div.append(faithLine(result.faithfulness));
  div.append(copy);
  return div;
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {  // no clipboard API (plain http on another host): select-and-copy fallback
    const area = document.createElement("textarea");
    area.value = text; document.body.append(area); area.select();
    document.execCommand("copy"); area.remove();
  }
  button.textContent = "Copied";
  setTimeout(() => (button.textContent = "Copy"), 1200);
}

async function submit(event) {
  event.preventDefault();
  $("error").textContent = "";
  const models = [...document.querySelectorAll("input[name=model]:checked")].map((i) => i.value);
  if (!$("text").value.trim()) { $("error").textContent = "text: paste or upload a text"; return; }
  if (!models.length) { $("error").textContent = "models: choose at least one"; return; }
  const settings = {};
  for (const name of SETTINGS) {
    const v = $(name).value;
    if (v !== "") settings[name] = Number(v);
  }
  const body = { text: $("text").value, models, settings };
  if ($("reference").value.trim()) body.reference = $("reference").value;
  if ($("faithfulness").checked) body.faithfulness = true;
  $("go").disabled = true; $("go").textContent = "Summarizing…";
  try {
    const r = await fetch("/v1/compare", { method: "POST", headers: headers(), body: JSON.stringify(body) });
    const out = await r.json().catch(() => null);
    if (!r.ok) { $("error").textContent = message(out, r.status); return; }
    $("results").replaceChildren(...out.results.map(card));
    if (out.faithfulness_method) {
      const note = document.createElement("p"); note.className = "meta";
      note.textContent = "faithfulness: " + out.faithfulness_method;
      $("results").append(note);
    }
  } catch (err) {
    $("error").textContent = "network error: " + err;
  } finally {
    $("go").disabled = false; $("go").textContent = "Summarize";
  }
}

$("file").addEventListener("change", async () => {
  const f = $("file").files[0];
  if (f) $("text").value = await f.text();
  $("text").dispatchEvent(new Event("input"));
});
$("text").addEventListener("input", () => ($("chars").textContent = `${$("text").value.length} characters`));
$("apikey").addEventListener("change", () => {
  sessionStorage.setItem("summarist-key", $("apikey").value);
  loadModels();
});
$("apikey").value = sessionStorage.getItem("summarist-key") || "";
$("form").addEventListener("submit", submit);
loadModels();
