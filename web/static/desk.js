// /desk: the call-taking screen. Keyboard first: Tab order, Ctrl+Enter submits, Alt+key shortcuts.
// Served as a file (no inline script) so the page works under a Content-Security-Policy.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const fields = ["phone", "text", "name", "type", "department", "service", "reason"];
  let started = Date.now();
  let callId = newId();
  let typeTouched = false;
  let deptTouched = false;
  let candidates = [];
  let joinable = [];
  let timers = {};

  function newId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 8); }

  function later(key, fn, ms) { clearTimeout(timers[key]); timers[key] = setTimeout(fn, ms); }

  function post(path, data) {
    const body = new URLSearchParams(data);
    body.set("csrf_token", token);
    body.set("seconds", String((Date.now() - started) / 1000));
    body.set("call", callId);
    return fetch(path, { method: "POST", body, credentials: "same-origin" }).then((r) => r.json());
  }

  function node(tag, text, cls) {
    const n = document.createElement(tag);
    if (text) n.textContent = text;
    if (cls) n.className = cls;
    return n;
  }

  function ticketRow(t, withJoin) {
    const row = node("div", null, "ticket");
    row.dataset.number = t.number;
    row.append(node("b", t.number + " "), node("span", `${t.state_zh} · ${t.type_zh} · ${t.department} · ${t.created}`),
      node("div", t.summary));
    if (withJoin) {
      const b = node("button", "合并到此单", "join");
      b.type = "button";
      b.dataset.number = t.number;
      b.addEventListener("click", () => join(t.number));
      row.append(b);
    }
    return row;
  }

  function showCaller(data) {
    const box = $("caller");
    box.replaceChildren();
    $("phone-state").textContent = data.valid ? "" : "号码格式不完整";
    if (!data.valid) return;
    if (data.name && !$("name").value) $("name").value = data.name;
    const head = node("p", data.name ? `来电人：${data.name}` : "新来电人");
    if (data.confidential) { head.append(" ", node("span", "保密", "flag")); $("confidential").checked = true; }
    box.append(head);
    if (data.open.length) box.append(node("h3", `未结工单 ${data.open.length} 件（Alt+J 合并到第一件）`));
    data.open.forEach((t) => box.append(ticketRow(t, true)));
    if (data.earlier.length) box.append(node("h3", `历史工单 ${data.earlier.length} 件`));
    data.earlier.forEach((t) => box.append(ticketRow(t, false)));
    joinable = data.open.map((t) => t.number);
  }

  function lookup() {
    const phone = $("phone").value.trim();
    if (phone.replace(/\D/g, "").length < 5) { $("caller").replaceChildren(); joinable = []; return; }
    fetch("/desk/caller?phone=" + encodeURIComponent(phone), { credentials: "same-origin" })
      .then((r) => r.json()).then(showCaller);
  }

  function applySuggestion(s) {
    $("suggest-state").textContent = "";
    if (s.empty || s.error) return;
    if (!typeTouched) $("type").value = s.type;
    if (!deptTouched) $("department").value = s.urgent ? "" : (s.department || "");
    candidates = s.candidates.map((c) => c[0]);
    const box = $("candidates");
    box.replaceChildren();
    s.candidates.forEach((c, i) => {
      const b = node("button", `${c[1]}（Alt+${i + 7}）`);
      b.type = "button";
      b.addEventListener("click", () => pickDepartment(i));
      box.append(b);
    });
    $("topic").textContent = s.topic || "—";
    $("place").textContent = s.place || "—";
    $("time").textContent = s.time || "—";
    $("urgent-hint").textContent = s.urgent ? "疑似紧急：将送派单员紧急队列" : "否";
    if (s.urgent) $("urgent").checked = true;
    if (s.similar) {
      const box2 = $("similar");
      box2.replaceChildren();
      s.similar.forEach((t) => box2.append(ticketRow(t, true)));
      s.similar.forEach((t) => { if (!joinable.includes(t.number)) joinable.push(t.number); });
    }
  }

  function suggest() {
    const text = $("text").value.trim();
    if (text.length < 4) return;
    $("suggest-state").textContent = "分析中…";
    post("/desk/suggest", { text }).then(applySuggestion);
  }

  function pickDepartment(i) {
    if (i >= candidates.length) return;
    $("department").value = candidates[i];
    deptTouched = true;
  }

  function show(lines) {
    const box = $("result");
    box.replaceChildren(...lines);
    box.hidden = false;
    box.focus();
  }

  function done(r, lines) {
    if (r.error) { $("error").textContent = r.error; return; }
    $("error").textContent = "";
    show([...lines, node("p", "Alt+N 接听下一个来电", "muted")]);
  }

  function submit() {
    const data = {};
    fields.forEach((f) => { data[f] = $(f).value; });
    data.urgent = $("urgent").checked ? "1" : "";
    data.confidential = $("confidential").checked ? "1" : "";
    post("/desk/submit", data).then((r) => done(r, [
      node("p", r.urgent ? "已受理（紧急，已送派单员）" : "已受理，请向来电人读出工单号"),
      node("div", r.number, "number"), node("div", `${r.department} · 答复时限 ${r.deadline}`, "deadline")]));
  }

  function join(number) {
    if (!number) return;
    post("/desk/join", { number, text: $("text").value, phone: $("phone").value }).then((r) => done(r, [
      node("p", `已合并为重复来电（第 ${r.contacts} 次），承办单位已收到通知`),
      node("div", r.number, "number"), node("div", `${r.state_zh} · 答复时限 ${r.deadline}`, "deadline")]));
  }

  function transfer() {
    post("/desk/transfer", { phone: $("phone").value, text: $("text").value, service: $("service").value,
      reason: $("reason").value }).then((r) => done(r, [
      node("p", `已转${r.service}（${r.service_zh}）`), node("div", r.number, "number")]));
  }

  function reset() {
    document.getElementById("call").reset();
    ["caller", "candidates", "similar"].forEach((id) => $(id).replaceChildren());
    ["topic", "place", "time", "urgent-hint"].forEach((id) => { $(id).textContent = "—"; });
    $("result").hidden = true;
    $("result").replaceChildren();
    $("error").textContent = "";
    started = Date.now();
    callId = newId();
    typeTouched = deptTouched = false;
    candidates = [];
    joinable = [];
    $("phone").focus();
  }

  const shortcuts = {
    Digit1: () => { $("type").selectedIndex = 0; typeTouched = true; },
    Digit2: () => { $("type").selectedIndex = 1; typeTouched = true; },
    Digit3: () => { $("type").selectedIndex = 2; typeTouched = true; },
    Digit7: () => pickDepartment(0),
    Digit8: () => pickDepartment(1),
    Digit9: () => pickDepartment(2),
    KeyU: () => { $("urgent").checked = !$("urgent").checked; },
    KeyJ: () => join(joinable[0]),
    KeyE: () => $("service").focus(),
    KeyN: reset,
  };

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey && e.key === "Enter") { e.preventDefault(); submit(); return; }
    if (e.altKey && shortcuts[e.code]) { e.preventDefault(); shortcuts[e.code](); }
  });
  $("call").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  $("phone").addEventListener("input", () => later("phone", lookup, 250));
  $("text").addEventListener("input", () => later("text", suggest, 400));
  $("type").addEventListener("change", () => { typeTouched = true; });
  $("department").addEventListener("change", () => { deptTouched = true; });
  $("transfer").addEventListener("click", transfer);
  $("phone").focus();
  $("reason").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); transfer(); } });
})();
