// Downloading the session's results: fetched with the facilitator token in the Authorization
// header (never in a URL that could end up in a log), then saved from a blob.

/** Fetch the export as `format` ("csv" or "json"); resolves to the parsed JSON or the text. */
export async function fetchExport(session, token, format) {
  const response = await fetch(`/api/sessions/${encodeURIComponent(session)}/export?format=${format}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`export failed: HTTP ${response.status}`);
  return format === "json" ? response.json() : response.text();
}

export async function download(session, token, format, code) {
  const body = await fetchExport(session, token, format);
  const blob = format === "json"
    ? new Blob([JSON.stringify(body, null, 2)], { type: "application/json" })
    : new Blob([body], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = `attune-${code || session}.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
