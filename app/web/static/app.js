// Cadence: small enhancements. Every page works without this file, except media upload.
"use strict";

(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  // A click on a calendar day's empty space opens the compose form for that day
  // (keyboard users have the day's "+" link).
  document.querySelectorAll(".day[data-compose]").forEach((day) => {
    day.addEventListener("click", (event) => {
      if (event.target.closest("a, button, input, select, form")) return;
      window.location.href = day.dataset.compose;
    });
  });

  // Filter forms apply as soon as a choice changes.
  document.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  const compose = document.getElementById("compose");
  if (!compose) return;

  const text = compose.querySelector("#text");
  const internalOnly = compose.querySelector("#internal_only");
  const checks = compose.querySelector("#checks");
  const channelBoxes = () => Array.from(compose.querySelectorAll('input[name="channel_ids"]'));
  const mediaIds = () =>
    Array.from(compose.querySelectorAll('input[name="media_ids"]')).map((i) => i.value);

  // Internal only: external channels cannot be chosen.
  function applyInternalOnly() {
    channelBoxes().forEach((box) => {
      if (box.dataset.audience !== "external") return;
      box.disabled = internalOnly.checked;
      if (internalOnly.checked) box.checked = false;
    });
  }
  internalOnly.addEventListener("change", () => {
    applyInternalOnly();
    schedule();
  });
  applyInternalOnly();

  // The live per-channel check: the server runs each platform's own rules.
  let timer = null;
  let seq = 0;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(runCheck, 250);
  }

  function el(tag, cls, txt) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (txt !== undefined) node.textContent = txt;
    return node;
  }

  async function runCheck() {
    const chosen = channelBoxes().filter((b) => b.checked).map((b) => b.value);
    const mine = ++seq;
    if (!chosen.length) {
      checks.replaceChildren(el("p", "hint", "Choose channels to see each one's length counter and rules."));
      return;
    }
    let answer;
    try {
      const response = await fetch("/web/validate", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({
          text: text.value,
          title: compose.querySelector("#title").value,
          link: compose.querySelector("#link").value,
          channel_ids: chosen,
          media_ids: mediaIds(),
          internal_only: internalOnly.checked,
        }),
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      answer = await response.json();
    } catch (err) {
      if (mine === seq) checks.replaceChildren(el("p", "hint", "The live check is unavailable; the rules are checked when you schedule."));
      return;
    }
    if (mine !== seq) return; // a newer check is on its way
    const rules = el("ul", "guardrails");
    (answer.guardrails || []).forEach((g) => {
      rules.append(el("li", g.action === "block" ? "over" : "problem", g.message));
    });
    const list = el("ul");
    answer.channels.forEach((c) => {
      if (ownVersion(c.channel_id)) {
        // The main text's verdict is not this channel's: its tab counts its own version.
        const item = el("li", "own");
        item.dataset.channel = c.channel_id;
        item.append(el("span", "name", c.name + " "), el("span", "platform", "(" + c.platform + ") "),
          el("span", "counter", "own version"), el("span", "", ": its count and rules are on its tab"));
        list.append(item);
        return;
      }
      const item = el("li", c.over ? "over" : c.problems.length ? "problem" : "ok");
      item.dataset.channel = c.channel_id;
      const head = el("div");
      head.append(el("span", "name", c.name + " "), el("span", "platform", "(" + c.platform + ") "));
      const counter = el("span", "counter",
        c.limit === null ? c.count + " " + c.unit : c.count + " / " + c.limit);
      if (c.limit !== null) counter.title = c.unit;
      head.append(counter);
      if (c.limit !== null) head.append(el("span", "visually-hidden", " " + c.unit));
      const mark = el("span", "", c.problems.length ? " ✕" : " ✓");
      mark.setAttribute("aria-hidden", "true");
      head.append(mark);
      item.append(head);
      if (c.problems.length) {
        const problems = el("ul", "problems");
        c.problems.forEach((p) => problems.append(el("li", "", p.message)));
        item.append(problems);
      }
      list.append(item);
    });
    checks.replaceChildren(...(rules.children.length ? [rules, list] : [list]));
  }

  // A channel with its own version (static/versions.js): a field of it not empty.
  function ownVersion(cid) {
    const field = compose.querySelector('.version[data-channel="' + CSS.escape(cid) + '"]');
    if (!field) return false;
    return Array.from(field.querySelectorAll("textarea, input")).some((i) => !i.disabled && i.value.trim());
  }

  ["input", "change"].forEach((type) => compose.addEventListener(type, (event) => {
    if (event.target.matches("#text, #title, #link, input[name=channel_ids], [name^=version_]")) schedule();
  }));
  compose.addEventListener("versions-changed", schedule);
  if (channelBoxes().some((b) => b.checked)) runCheck();

  // Media: uploaded at once through the media service, shown with a preview.
  const file = compose.querySelector("#media-file");
  const mediaList = compose.querySelector(".media-list");
  const uploadStatus = compose.querySelector(".upload-status");

  function addMedia(media) {
    const item = el("li", "media-item");
    const hidden = el("input");
    hidden.type = "hidden";
    hidden.name = "media_ids";
    hidden.value = media.id;
    item.append(hidden);
    if (media.content_type.startsWith("image/")) {
      const img = el("img");
      img.src = "/media/" + encodeURIComponent(media.id) + "/" + encodeURIComponent(media.filename);
      img.alt = "";
      item.append(img);
    } else {
      const icon = el("span", "file", "▤");
      icon.setAttribute("aria-hidden", "true");
      item.append(icon);
    }
    item.append(el("span", "", media.filename));
    const remove = el("button", "link", "Remove");
    remove.type = "button";
    remove.dataset.removeMedia = "";
    remove.append(el("span", "visually-hidden", " " + media.filename));
    item.append(remove);
    mediaList.append(item);
  }

  mediaList.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-media]");
    if (!button) return;
    button.closest(".media-item").remove();
    uploadStatus.textContent = "Removed.";
    schedule();
  });

  file.addEventListener("change", async () => {
    for (const chosen of Array.from(file.files)) {
      uploadStatus.textContent = "Uploading " + chosen.name + "…";
      const body = new FormData();
      body.append("file", chosen);
      try {
        const response = await fetch(file.dataset.upload, {
          method: "POST",
          headers: { "X-CSRF-Token": csrf() },
          body,
          credentials: "same-origin",
        });
        const answer = await response.json();
        if (!response.ok) {
          const detail = Array.isArray(answer.detail)
            ? answer.detail.map((d) => d.msg).join("; ")
            : answer.detail;
          uploadStatus.textContent = chosen.name + " was not uploaded: " + detail;
          continue;
        }
        if (!mediaIds().includes(answer.id)) addMedia(answer);
        uploadStatus.textContent = chosen.name + " uploaded.";
      } catch (err) {
        uploadStatus.textContent = chosen.name + " was not uploaded: the connection failed.";
      }
    }
    file.value = "";
    schedule();
  });
})();
