// The demo page: renders the View the server sends (GET /events) as a
// Discord channel, and posts what the user types (POST /send).
"use strict";

const list = document.getElementById("messages");
const typing = document.getElementById("typing");
const form = document.getElementById("composer");
const input = document.getElementById("input");
const errorBox = document.getElementById("error");
let names = {};

// inline renders `code`, **bold**, *italic* and <@id> mentions of one
// line of text into parent, as DOM nodes (never as HTML).
function inline(parent, text) {
  const re = /(`[^`\n]+`|\*\*[^*\n]+\*\*|\*[^*\n]+\*|<@!?\d+>)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    const t = m[0];
    let el;
    if (t.startsWith("`")) { el = document.createElement("code"); el.textContent = t.slice(1, -1); }
    else if (t.startsWith("**")) { el = document.createElement("strong"); el.textContent = t.slice(2, -2); }
    else if (t.startsWith("<@")) {
      el = document.createElement("span"); el.className = "mention";
      el.textContent = "@" + (names[t.replace(/[<@!>]/g, "")] || "unknown");
    } else { el = document.createElement("em"); el.textContent = t.slice(1, -1); }
    parent.append(el);
    last = m.index + t.length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

// markdown renders Discord's Markdown subset: ``` fences and inline marks.
function markdown(parent, text) {
  const parts = text.split(/```/);
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      code.textContent = part.replace(/^[a-z0-9+-]*\n/i, "");
      pre.append(code);
      parent.append(pre);
    } else {
      // The line breaks around a fence belong to the block.
      let text = i > 0 ? part.replace(/^\n/, "") : part;
      if (i < parts.length - 1) text = text.replace(/\n$/, "");
      inline(parent, text);
    }
  });
}

function render(view) {
  names = view.names || {};
  const byId = {};
  for (const m of view.messages || []) byId[m.id] = m;
  list.querySelectorAll(".msg").forEach((el) => { if (!byId[el.dataset.id]) el.remove(); });
  let prev = null;
  for (const m of view.messages || []) {
    let el = list.querySelector(`.msg[data-id="${m.id}"]`);
    const key = JSON.stringify(m);
    if (el && el.dataset.key === key) { prev = el; continue; }
    const fresh = document.createElement("div");
    fresh.className = "msg" + (m.bot ? " bot" : "") + (m.ephemeral ? " ephemeral" : "");
    fresh.dataset.id = m.id;
    fresh.dataset.key = key;
    const av = document.createElement("div");
    av.className = "avatar";
    av.textContent = m.author.slice(0, 1);
    const body = document.createElement("div");
    body.className = "body";
    if (m.reply_to && byId[m.reply_to]) {
      const r = document.createElement("div");
      r.className = "reply";
      r.textContent = "↱ @" + byId[m.reply_to].author + " " + byId[m.reply_to].content.replace(/<@!?\d+>\s*/g, "");
      body.append(r);
    }
    const head = document.createElement("div");
    head.className = "head";
    const author = document.createElement("span");
    author.className = "author";
    author.textContent = m.author;
    head.append(author);
    if (m.bot) { const tag = document.createElement("span"); tag.className = "tag"; tag.textContent = "BOT"; head.append(tag); }
    body.append(head);
    const content = document.createElement("div");
    content.className = "content";
    if (m.loading) { content.classList.add("loading"); content.textContent = "SecondMe is thinking…"; }
    else markdown(content, m.content.trimEnd()); // Discord does not show trailing blank lines
    if (m.edits > 0) { const ed = document.createElement("span"); ed.className = "edited"; ed.textContent = "(edited)"; content.append(ed); }
    body.append(content);
    if (m.buttons && m.buttons.length) {
      const row = document.createElement("div");
      row.className = "buttons";
      for (const b of m.buttons) {
        const a = document.createElement("a");
        a.href = b.url; a.target = "_blank"; a.rel = "noopener noreferrer"; a.textContent = b.label;
        row.append(a);
      }
      body.append(row);
    }
    if (m.ephemeral) { const n = document.createElement("div"); n.className = "note"; n.textContent = "Only you can see this"; body.append(n); }
    fresh.append(av, body);
    if (el) el.replaceWith(fresh);
    else if (prev) prev.after(fresh);
    else list.append(fresh);
    prev = fresh;
  }
  typing.hidden = !view.typing;
  list.scrollTop = list.scrollHeight;
}

function connect() {
  const es = new EventSource("events");
  es.onmessage = (ev) => render(JSON.parse(ev.data));
  es.onerror = () => { es.close(); setTimeout(connect, 1000); };
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  errorBox.hidden = true;
  try {
    const resp = await fetch("send", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text }) });
    if (!resp.ok) { errorBox.textContent = (await resp.text()).trim(); errorBox.hidden = false; return; }
    input.value = "";
  } catch (e) {
    errorBox.textContent = "The demo is not running any more: start it again with go run ./cmd/secondme-bridge demo";
    errorBox.hidden = false;
  }
});

connect();
input.focus();
