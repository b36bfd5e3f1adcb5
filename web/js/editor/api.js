// The scenario library's HTTP API as the editor and the gallery use it (see docs/api.md).
// Every call resolves to { status, data, etag }; a network failure is status 0, never a throw.

import { store } from "../dom.js";

const KEY = "attune:admin-key";

/** The admin key typed on this tab, if the server asked for one. */
export const adminKey = {
  get: () => store.get(KEY, ""),
  set: (value) => store.set(KEY, value),
};

async function call(url, { method = "GET", body, type = "application/json", headers = {} } = {}) {
  const sent = { ...headers };
  if (body !== undefined) sent["content-type"] = type;
  const key = adminKey.get();
  if (key && method !== "GET") sent.authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(url, { method, headers: sent, body });
  } catch {
    return { status: 0, data: {}, etag: null };
  }
  const isJson = (response.headers.get("content-type") || "").startsWith("application/json");
  const data = isJson ? await response.json().catch(() => ({})) : await response.text();
  return { status: response.status, data, etag: response.headers.get("etag") };
}

const lang = (language) => `language=${encodeURIComponent(language)}`;

export const listScenarios = (language) => call(`/api/scenarios?${lang(language)}`);
export const getScenario = (id) => call(`/api/scenarios/${encodeURIComponent(id)}`);
export const emotionWords = (language) => call(`/api/emotion-words?${lang(language)}`);

/** Errors, the document as plain data, and each step as phones would receive it. */
export const checkDraft = (draft, language) =>
  call(`/api/scenario-check?${lang(language)}`, { method: "POST", body: JSON.stringify(draft) });
export const checkFile = (text, language) =>
  call(`/api/scenario-check?${lang(language)}`, { method: "POST", body: text, type: "application/yaml" });

/** Save a new scenario (no `version`) or replace the saved one at `version`. */
export function saveScenario(draft, version = null) {
  const body = JSON.stringify(draft);
  if (version === null) return call("/api/scenarios", { method: "POST", body });
  return call(`/api/scenarios/${encodeURIComponent(draft.id)}`, {
    method: "PUT", body, headers: { "if-match": `"${version}"` },
  });
}

export const deleteScenario = (id, version) =>
  call(`/api/scenarios/${encodeURIComponent(id)}`, { method: "DELETE", headers: { "if-match": `"${version}"` } });

export const draftYaml = (draft) => call("/api/scenario-yaml", { method: "POST", body: JSON.stringify(draft) });

export function startSession(scenario, language) {
  return call("/api/sessions", { method: "POST", body: JSON.stringify({ scenario, language }) });
}

/** Offer text as a file download, without a round trip. */
export function saveFile(text, name, type = "application/yaml") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
