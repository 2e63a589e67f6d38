// The web chat page (web/templates/chat.html); a static file so that the CSP allows no inline script.
const log = document.getElementById("log");
const text = document.getElementById("text");
const sendButton = document.querySelector(".send");
const counter = document.getElementById("count");
const maxChars = Number(document.getElementById("composer").dataset.max);
let after = 0;
let serial = 0;
const newId = () => Date.now().toString(36) + "-" + (serial++) + "-" + Math.random().toString(36).slice(2, 10);

// Emoji render as empty boxes where no emoji font is installed: the few the bot uses become icons.
const SVG = "http://www.w3.org/2000/svg";
const ICONS = {
  "✅": ["#2e7d32", "M5 12.5l4.5 4.5L19 7.5"],
  "⚠️": ["#e65100", "M12 3l10 18H2zM12 10v5M12 18v.5"],
  "⚠": ["#e65100", "M12 3l10 18H2zM12 10v5M12 18v.5"],
  "📷": ["#52606d", "M4 8h3l2-3h6l2 3h3v11H4zM12 9.5a3.5 3.5 0 1 0 0 7a3.5 3.5 0 1 0 0-7"],
  "📍": ["#b71c1c", "M12 21s-6-6.5-6-11a6 6 0 0 1 12 0c0 4.5-6 11-6 11zM12 8v3"],
  "📞": ["#52606d", "M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2"],
  "🙂": ["#52606d", "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M8.5 14.5a4.5 4.5 0 0 0 7 0M9 9.5v.5M15 9.5v.5"],
};
const ICON_RE = new RegExp("(" + Object.keys(ICONS).sort((a, b) => b.length - a.length).join("|") + ")\\s?", "u");

function icon(symbol) {
  const [colour, path] = ICONS[symbol];
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("class", "icon"); svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", {"✅": "完成", "📷": "照片", "📍": "位置", "📞": "电话", "🙂": "表情"}[symbol] || "注意");
  const line = document.createElementNS(SVG, "path");
  line.setAttribute("d", path); line.setAttribute("fill", "none"); line.setAttribute("stroke", colour);
  line.setAttribute("stroke-width", "2"); line.setAttribute("stroke-linecap", "round"); line.setAttribute("stroke-linejoin", "round");
  svg.appendChild(line);
  return svg;
}

function setText(element, body) {
  element.textContent = "";
  const parts = String(body).split(ICON_RE);
  parts.forEach((part, index) => {
    if (index % 2 === 1) element.appendChild(icon(part));
    else if (part) element.appendChild(document.createTextNode(part));
  });
}

function toast(message) {
  if (!message) return;
  const box = document.getElementById("toast");
  box.textContent = message; box.style.display = "block";
  clearTimeout(box.timer); box.timer = setTimeout(() => { box.style.display = "none"; }, 2500);
}

function fillButtons(holder, buttons) {
  holder.innerHTML = "";
  for (const row of buttons || []) {
    const line = document.createElement("div"); line.className = "row";
    for (const b of row) {
      const button = document.createElement("button");
      button.type = "button"; setText(button, b.text); button.dataset.data = b.data;
      button.disabled = b.live === false;
      button.addEventListener("click", () => press(holder.parentElement, b.data));
      line.appendChild(button);
    }
    holder.appendChild(line);
  }
}

function find(id) {
  return id ? log.querySelector(`.msg[data-id="${CSS.escape(id)}"]`) : null;
}

// A draft's buttons work on its latest copy only (the server restores them the same way).
function supersede(buttons) {
  const drafts = new Set((buttons || []).flat().filter(b => b.data.startsWith("c:")).map(b => b.data.split(":")[2]));
  log.querySelectorAll(".buttons button").forEach(button => {
    const data = button.dataset.data || "";
    if (data.startsWith("c:") && drafts.has(data.split(":")[2])) button.disabled = true;
  });
}

function add(kind, body, buttons, id) {
  supersede(buttons);
  const item = document.createElement("div"); item.className = "msg " + kind;
  if (id) item.dataset.id = id;
  const bubble = document.createElement("div"); bubble.className = "bubble"; setText(bubble, body);
  const holder = document.createElement("div"); holder.className = "buttons";
  item.append(bubble, holder); fillButtons(holder, buttons);
  log.appendChild(item); window.scrollTo(0, document.body.scrollHeight);
  return item;
}

function render(result, pressed) {
  for (const reply of result.replies || []) {
    const target = reply.edit ? (find(reply.id) || pressed) : null;
    if (target) {
      setText(target.querySelector(".bubble"), reply.text);
      fillButtons(target.querySelector(".buttons"), reply.buttons);
    } else {
      add("bot", reply.text, reply.buttons, reply.id);
    }
  }
  toast(result.toast);
  if (pressed && !(result.replies || []).some(r => r.edit)) {
    // Nothing replaced the pressed message: its buttons work again (e.g. after a refusal).
    pressed.querySelectorAll(".buttons button").forEach(b => { b.disabled = false; });
  }
}

async function post(payload) {
  try {
    const response = await fetch("/chat/api/events", {method: "POST", headers: {"Content-Type": "application/json"},
                                                     body: JSON.stringify(payload), credentials: "same-origin"});
    if (response.ok) return await response.json();
    // A refused request says why in Chinese (detail), never echoing the message.
    const refused = await response.json().catch(() => ({}));
    const detail = typeof refused.detail === "string" ? refused.detail : "";
    toast(detail || (response.status === 422 ? `留言太长，每条最多 ${maxChars} 字` : "发送失败，请稍后重试"));
  } catch (err) {
    toast("网络不通，发送失败，请稍后重试");
  }
  return null;
}

async function press(item, data) {
  item.querySelectorAll(".buttons button").forEach(b => { b.disabled = true; });
  const result = await post({id: newId(), kind: "button", data, message: item.dataset.id || ""});
  if (result) render(result, item);
  else item.querySelectorAll(".buttons button").forEach(b => { b.disabled = false; });
}

// A message leaves the text box only once the server took it; a refused one stays to be edited.
async function say(body, label) {
  const mine = add("me", label || body, []);
  sendButton.disabled = true;
  const result = await post({id: newId(), kind: "text", text: body, label: label || ""});
  sendButton.disabled = false;
  if (!result || result.keep_input) mine.remove();
  if (result) render(result, null);
  return Boolean(result && !result.keep_input);
}

function count() {
  const n = text.value.trim().length;
  counter.textContent = n > maxChars * 0.8 ? `${n} / ${maxChars} 字` : "";
  counter.classList.toggle("over", n > maxChars);
}

async function poll() {
  try {
    const response = await fetch("/chat/api/notices?after=" + after, {credentials: "same-origin"});
    if (response.ok) {
      for (const notice of (await response.json()).notices) {
        after = Math.max(after, notice.id);
        if (!find("n" + notice.id)) add("notice", notice.text, notice.buttons, "n" + notice.id);
      }
    }
  } catch (err) { /* offline for a moment: the next poll catches up */ }
  finally { setTimeout(poll, 3000); }
}

document.getElementById("composer").addEventListener("submit", async event => {
  event.preventDefault();
  const body = text.value.trim();
  if (!body || sendButton.disabled) return;
  if (await say(body) && text.value.trim() === body) { text.value = ""; count(); }
});
text.addEventListener("input", count);
text.addEventListener("keydown", event => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); sendButton.click(); }
});
document.querySelectorAll(".quick button").forEach(button => {
  button.addEventListener("click", () => say(button.dataset.command, button.textContent));
});
document.getElementById("photo").addEventListener("change", async event => {
  const file = event.target.files[0];
  if (!file) return;
  add("me", "📷 " + file.name, []);
  const form = new FormData(); form.append("photo", file);
  const response = await fetch("/chat/api/photo", {method: "POST", body: form, credentials: "same-origin"});
  if (response.ok) { render(await response.json(), null); } else {
    const refused = await response.json().catch(() => ({}));
    toast(typeof refused.detail === "string" ? refused.detail : "照片发送失败");
  }
  event.target.value = "";
});

(async () => {
  const response = await fetch("/chat/api/resume", {method: "POST", credentials: "same-origin"});
  if (response.ok) {
    const restored = await response.json();
    for (const m of restored.messages) add(m.from, m.text, m.buttons, m.id);
    after = restored.after;
  } else {
    toast("无法载入对话，请刷新页面");
  }
  poll();
})();
