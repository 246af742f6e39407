// Cadence: per-network versions on the compose form. A tab per chosen channel shows
// whether it uses the main text, title and link or its own, with its own live counter;
// "Customise for this channel" and "Back to the main text" add and remove its version
// (all three fields). Without this file the versions already given show as plain
// labelled fields.
"use strict";

(function () {
  const compose = document.getElementById("compose");
  const box = document.getElementById("versions");
  if (!compose || !box) return;

  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const main = compose.querySelector("#text");
  const mainField = main.closest(".field");
  const channelBoxes = () => Array.from(compose.querySelectorAll('input[name="channel_ids"]'));
  const chosen = () => channelBoxes().filter((b) => b.checked && !b.disabled);
  const mediaIds = () =>
    Array.from(compose.querySelectorAll('input[name="media_ids"]')).map((i) => i.value);

  function el(tag, cls, txt) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (txt !== undefined) node.textContent = txt;
    return node;
  }

  const tablist = el("div", "tabs");
  tablist.setAttribute("role", "tablist");
  tablist.setAttribute("aria-label", "Wording per channel");
  mainField.before(tablist);
  mainField.id = "panel-main";
  mainField.setAttribute("role", "tabpanel");
  mainField.setAttribute("aria-labelledby", "tab-main");

  const panels = new Map(); // channel id -> its panel
  let selected = "main";

  // The channel's own text, title and link; a field left empty is the main one.
  function versionField(cid, name, text) {
    const field = el("div", "version");
    field.dataset.channel = cid;
    const hint = el("p", "hint", "A field left empty is the main one.");
    hint.id = "version-hint-" + cid;
    field.append(hint);
    const parts = [
      ["textarea", "version-", "text", "Text for "],
      ["input", "version-title-", "title", "Title for "],
      ["input", "version-link-", "link", "Link for "],
    ];
    parts.forEach(([tag, prefix, key, label]) => {
      const wrap = el("div", "field");
      const lab = el("label", "", label + name);
      lab.htmlFor = prefix + cid;
      const input = el(tag);
      input.id = prefix + cid;
      input.name = "version_" + key + "." + cid;
      input.setAttribute("aria-describedby", hint.id);
      if (tag === "textarea") {
        input.rows = 6;
        input.value = text;
      } else if (key === "link") {
        input.type = "url";
        input.placeholder = "https://";
      } else {
        input.type = "text";
        input.maxLength = 300;
      }
      wrap.append(lab, input);
      field.append(wrap);
    });
    return field;
  }

  // app.js's main check shows a channel with a version as "own version": tell it.
  const changed = () => compose.dispatchEvent(new CustomEvent("versions-changed"));

  function fillPanel(panel, cid, name) {
    const field = box.querySelector('.version[data-channel="' + CSS.escape(cid) + '"]');
    if (field) {
      const counter = el("div", "checks");
      counter.id = "counter-" + cid;
      counter.setAttribute("aria-live", "polite");
      const back = el("button", "", "Back to the main text");
      back.type = "button";
      back.addEventListener("click", () => {
        field.remove(); // its text, title and link all go
        panel.replaceChildren();
        fillPanel(panel, cid, name);
        panel.querySelector("button").focus();
        changed();
      });
      const area = field.querySelector("textarea");
      area.setAttribute("aria-describedby", field.querySelector(".hint").id + " " + counter.id);
      field.querySelectorAll("textarea, input").forEach((input) =>
        input.addEventListener("input", () => later(cid, field, counter))
      );
      panel.append(field, counter, back);
      check(cid, field, counter);
      return;
    }
    const uses = el("p", "hint", name + " publishes the main text, title and link.");
    const customise = el("button", "", "Customise for this channel");
    customise.type = "button";
    customise.addEventListener("click", () => {
      box.append(versionField(cid, name, main.value));
      panel.replaceChildren();
      fillPanel(panel, cid, name);
      panel.querySelector("textarea").focus();
      changed();
    });
    panel.append(uses, customise);
  }

  function panelFor(cid, name) {
    if (!panels.has(cid)) {
      const panel = el("div", "version-panel");
      panel.id = "panel-" + cid;
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", "tab-" + cid);
      // The version's text area moves into its panel (it stays in the form).
      fillPanel(panel, cid, name);
      box.prepend(panel);
      panels.set(cid, panel);
    }
    return panels.get(cid);
  }

  function tab(id, label) {
    const button = el("button", "tab", label);
    button.type = "button";
    button.id = "tab-" + id;
    button.dataset.tab = id;
    button.setAttribute("role", "tab");
    button.setAttribute("aria-controls", "panel-" + id);
    button.setAttribute("aria-selected", String(id === selected));
    button.tabIndex = id === selected ? 0 : -1;
    return button;
  }

  function render() {
    const boxes = chosen();
    if (!boxes.some((b) => b.value === selected)) selected = "main";
    tablist.hidden = boxes.length === 0;
    tablist.replaceChildren(tab("main", "All channels"), ...boxes.map((b) => tab(b.value, b.dataset.name)));
    mainField.hidden = selected !== "main";
    const wanted = new Set(boxes.map((b) => b.value));
    boxes.forEach((b) => panelFor(b.value, b.dataset.name));
    box.querySelectorAll(":scope > .version").forEach((field) => {
      field.hidden = !wanted.has(field.dataset.channel);
      field.querySelectorAll("textarea, input").forEach((a) => (a.disabled = field.hidden));
    });
    panels.forEach((panel, cid) => {
      panel.hidden = cid !== selected;
      // A channel taken off the post does not send its version.
      panel.querySelectorAll("textarea, input").forEach((a) => (a.disabled = !wanted.has(cid)));
    });
  }

  function select(id, focus) {
    selected = id;
    render();
    if (focus) document.getElementById("tab-" + id).focus();
  }

  tablist.addEventListener("click", (event) => {
    const button = event.target.closest("[role=tab]");
    if (button) select(button.dataset.tab, false);
  });
  tablist.addEventListener("keydown", (event) => {
    const tabs = Array.from(tablist.querySelectorAll("[role=tab]"));
    const at = tabs.findIndex((t) => t.dataset.tab === selected);
    const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = (moves[event.key] + tabs.length) % tabs.length;
    select(tabs[next].dataset.tab, true);
  });

  // Each version's own counter: the server runs its platform's rules on it.
  const timers = new Map();
  function later(cid, field, counter) {
    clearTimeout(timers.get(cid));
    timers.set(cid, setTimeout(() => check(cid, field, counter), 250));
  }

  async function check(cid, field, counter) {
    const own = (key) => field.querySelector('[name^="version_' + key + '."]').value.trim();
    let answer;
    try {
      const response = await fetch("/web/validate", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({
          text: field.querySelector("textarea").value || main.value,
          title: own("title") || compose.querySelector("#title").value,
          link: own("link") || compose.querySelector("#link").value,
          channel_ids: [cid],
          media_ids: mediaIds(),
          internal_only: compose.querySelector("#internal_only").checked,
        }),
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      answer = await response.json();
    } catch (err) {
      counter.replaceChildren(el("p", "hint", "The live check is unavailable."));
      return;
    }
    const c = answer.channels[0];
    if (!c) return;
    const line = el("p", c.over || c.problems.length ? "problem" : "ok");
    line.append(el("span", "counter", c.limit === null ? c.count + " " + c.unit : c.count + " / " + c.limit + " " + c.unit));
    const list = el("ul", "problems");
    c.problems.forEach((p) => list.append(el("li", "", p.message)));
    counter.replaceChildren(line, ...(c.problems.length ? [list] : []));
  }

  compose.addEventListener("change", (event) => {
    if (event.target.matches('input[name="channel_ids"], #internal_only')) render();
  });
  // The main text, title or link changed: a version's empty fields follow them.
  compose.addEventListener("input", (event) => {
    if (!event.target.matches("#text, #title, #link")) return;
    box.querySelectorAll(".version-panel .version").forEach((field) => {
      const cid = field.dataset.channel;
      later(cid, field, document.getElementById("counter-" + cid));
    });
  });
  // internal_only unticks external channels in app.js's own listener first.
  render();
})();
