// The catalogue's search as you type, confirmations on admin forms, and live updates of a
// file's page through the server's long-poll notification stream. No framework, no CDN.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const q = document.getElementById("q");
  const who = document.getElementById("who");
  const rows = document.getElementById("rows");
  if (q && who && rows) {
    let timer = null;
    const refresh = async () => {
      const params = new URLSearchParams({ q: q.value, user: who.value });
      const answer = await fetch("/web/rows?" + params, { credentials: "same-origin" });
      if (answer.ok) {
        rows.innerHTML = await answer.text();
        const n = rows.querySelectorAll("a.file-link").length;
        document.getElementById("count").textContent = n + (n === 1 ? " file" : " files");
        history.replaceState(null, "", "/?" + params);
      }
    };
    q.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 150); });
    who.addEventListener("change", refresh);
    document.getElementById("search-form").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (e) => { if (!confirm(form.dataset.confirm)) e.preventDefault(); });
  }
  const page = document.querySelector("[data-events]");
  if (page) {
    const live = document.getElementById("live");
    let cursor = page.dataset.cursor;
    const wait = async () => {
      for (;;) {
        try {
          const answer = await fetch(page.dataset.events + "?since=" + cursor + "&timeout=25", { credentials: "same-origin" });
          if (answer.status === 401 || answer.status === 403 || answer.status === 404) { live.classList.add("off"); return; }
          const data = await answer.json();
          if (data.events && data.events.length) { location.reload(); return; }
          cursor = data.cursor;
        } catch (err) {
          live.classList.add("off");
          await new Promise((r) => setTimeout(r, 5000));
          live.classList.remove("off");
        }
      }
    };
    wait();
  }
});
