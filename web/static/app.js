// The workspace's only script: signs a Mini App in with Telegram's init data, and
// makes the clients' filters answer as one types. Every page works without it.
(function () {
  "use strict";

  // Telegram opens a Mini App with its init data in the address's fragment
  // (#tgWebAppData=…); telegram-web-app.js, when a page loads it, offers it too.
  function initData() {
    var tg = window.Telegram && window.Telegram.WebApp;
    if (tg && tg.initData) return tg.initData;
    var hash = new URLSearchParams(location.hash.slice(1));
    return hash.get("tgWebAppData") || "";
  }

  function signInWithTelegram() {
    var box = document.getElementById("signin-tg");
    var data = initData();
    if (!box || !data) return;
    box.hidden = false;
    box.textContent = box.dataset.wait;
    fetch("/app/login/telegram", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ initData: data })
    }).then(function (r) { return r.json(); }).then(function (a) {
      if (a.go) { location.replace(a.go); return; }
      box.textContent = a.error;
      box.classList.add("warn");
    }).catch(function () { box.textContent = ""; box.hidden = true; });
  }

  // The filters: a change of a list, or a pause in typing, shows the results without
  // reloading the page (the search field keeps its focus); the address follows.
  function liveFilters() {
    var form = document.getElementById("client-filters");
    if (!form) return;
    var timer, last = "";
    function run() {
      var q = new URLSearchParams(new FormData(form));
      for (var [k, v] of Array.from(q.entries())) { if (!v) q.delete(k); }
      var url = form.action + (q.toString() ? "?" + q : "");
      if (url === last) return;
      last = url;
      fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { location.href = url; return null; }
        return r.text();
      }).then(function (html) {
        if (html === null || url !== last) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("results");
        if (!fresh) { location.href = url; return; }
        document.getElementById("results").replaceWith(fresh);
        history.replaceState(null, "", url);
      });
    }
    form.addEventListener("change", function (e) { if (e.target.name !== "q") run(); });
    form.addEventListener("input", function (e) {
      if (e.target.name !== "q" && e.target.name !== "city") return;
      clearTimeout(timer);
      timer = setTimeout(run, 250);
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); last = ""; run(); });
  }

  // reports: a period chosen from the list shows at once; a typed day makes it custom.
  function reportPeriod() {
    var form = document.getElementById("report-period");
    if (!form) return;
    var period = form.elements.period;
    form.addEventListener("change", function (e) {
      if (e.target.name === "from" || e.target.name === "to") { period.value = "cu"; return; }
      if (e.target.name === "period" && period.value === "cu") { form.elements.from.focus(); return; }
      form.submit();
    });
  }

  // team: a form with data-confirm asks first.
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) { if (!window.confirm(f.dataset.confirm)) e.preventDefault(); });
    });
  }

  // board: a card dragged to another column, or its "Move" link, moves the client's
  // stage with the page's CSRF token; a red stage asks why first (the dialog). The
  // page changes in place; without the script "Move" is a page of its own.
  function board() {
    var dialog = document.getElementById("move-dialog");
    if (!dialog || !dialog.showModal) return;
    var form = document.getElementById("move-form");
    var select = document.getElementById("move-stage");
    var why = document.getElementById("move-why");
    var problem = document.getElementById("move-problem");
    var csrf = document.querySelector('meta[name="csrf-token"]').content;
    var dragged = null, moving = null;

    function red(stage) {
      var o = select.querySelector('option[value="' + stage + '"]');
      return !!(o && o.dataset.red);
    }
    function note(text, warn) {
      var box = document.getElementById("board-note");
      if (!box) return;
      box.textContent = text;
      box.hidden = false;
      box.classList.toggle("warn", !!warn);
    }
    function count(col, by) {
      var c = col.querySelector(".column-count");
      c.textContent = String(parseInt(c.textContent, 10) + by);
      var empty = col.querySelector(".empty-col");
      if (empty) empty.remove();
    }
    // move posts the move; the card goes to its column when the CRM says it moved.
    function move(card, stage, extra) {
      var body = new URLSearchParams(extra || {});
      body.set("stage", stage);
      return fetch("/app/clients/" + card.dataset.id + "/stage", {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
      }).then(function (r) {
        return r.json().catch(function () { return { error: note.fail }; }).then(function (a) {
          if (!r.ok || a.error) return a.error || note.fail;
          var from = card.closest(".column");
          var to = document.querySelector('.column[data-stage="' + a.stage + '"]');
          if (to && to !== from) {
            to.querySelector(".cards").prepend(card);
            count(from, -1);
            count(to, 1);
          }
          card.classList.add("moved");
          note(a.text, false);
          return "";
        });
      }, function () { return note.fail; });
    }
    function ask(card, stage) {
      var from = card.closest(".column").dataset.stage;
      if (stage && !red(stage)) { move(card, stage).then(function (e) { if (e) note(e, true); }); return; }
      moving = card;
      form.reset();
      select.value = stage || from;
      why.hidden = !red(select.value);
      problem.hidden = true;
      document.getElementById("move-title").textContent = card.querySelector("a").textContent;
      dialog.showModal();
    }
    note.fail = document.getElementById("board-note").dataset.fail;
    select.addEventListener("change", function () { why.hidden = !red(select.value); });
    document.getElementById("move-cancel").addEventListener("click", function () { dialog.close(); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var extra = {};
      if (red(select.value)) {
        var code = form.querySelector('input[name="code"]:checked');
        extra = { code: code ? code.value : "", reason: form.elements.reason.value };
      }
      move(moving, select.value, extra).then(function (err) {
        if (!err) { dialog.close(); return; }
        problem.textContent = err;
        problem.hidden = false;
      });
    });
    // The board's results are replaced as filters change: listen on the document.
    document.addEventListener("click", function (e) {
      var link = e.target.closest && e.target.closest(".bcard .move");
      if (!link) return;
      e.preventDefault();
      ask(link.closest(".bcard"), "");
    });
    document.addEventListener("dragstart", function (e) {
      var card = e.target.closest && e.target.closest(".bcard[draggable]");
      if (!card) return;
      dragged = card;
      e.dataTransfer.setData("text/plain", card.dataset.id);
      e.dataTransfer.effectAllowed = "move";
      card.classList.add("dragging");
    });
    document.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
      document.querySelectorAll(".column.over").forEach(function (c) { c.classList.remove("over"); });
    });
    document.addEventListener("dragover", function (e) {
      var col = dragged && e.target.closest && e.target.closest(".column");
      if (!col) return;
      e.preventDefault();
      document.querySelectorAll(".column.over").forEach(function (c) { if (c !== col) c.classList.remove("over"); });
      col.classList.add("over");
    });
    document.addEventListener("drop", function (e) {
      var col = dragged && e.target.closest && e.target.closest(".column");
      if (!col) return;
      e.preventDefault();
      col.classList.remove("over");
      var card = dragged;
      if (col !== card.closest(".column")) ask(card, col.dataset.stage);
    });
  }

  /* mailings */
  // The campaign editor: the segment's recipients counted as it changes (a pause of
  // 400 ms after the last change), and the template's fields inserted where the
  // cursor was in the subject, text or HTML.
  function campaignEditor() {
    var form = document.getElementById("campaign-form");
    if (!form) return;
    var box = document.getElementById("segment-count");
    var timer, seq = 0, target = document.getElementById("f-text");
    var segment = ["id", "stage", "city", "industry", "tag", "manager", "class", "has_orders", "custom"];
    function count() {
      var q = new URLSearchParams();
      new FormData(form).forEach(function (v, k) { if (segment.indexOf(k) >= 0) q.append(k, v); });
      var mine = ++seq;
      fetch(form.dataset.count + "?" + q, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (a) {
        if (mine !== seq) return;
        box.textContent = a.problem || a.text;
        box.classList.toggle("warn", !!a.problem || a.recipients === 0);
        if (a.first && a.first.length) {
          var ul = document.createElement("span");
          ul.className = "muted first";
          ul.textContent = a.first.join("; ") + (a.recipients > a.first.length ? "; …" : "");
          box.appendChild(document.createElement("br"));
          box.appendChild(ul);
        }
      }).catch(function () {});
    }
    function later(e) {
      if (segment.indexOf(e.target.name) < 0) return;
      clearTimeout(timer);
      timer = setTimeout(count, 400);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("focusin", function (e) { if (e.target.hasAttribute("data-template")) target = e.target; });
    form.addEventListener("click", function (e) {
      var f = e.target.dataset && e.target.dataset.insert;
      if (!f || !target) return;
      var at = target.selectionStart || 0, to = target.selectionEnd || at;
      target.value = target.value.slice(0, at) + f + target.value.slice(to);
      target.focus();
      target.selectionStart = target.selectionEnd = at + f.length;
    });
    count();
  }

  // A campaign under way: its counts follow the server's every 3 seconds; when the run
  // ends the page reloads, with the actions and the report of its new state.
  function campaignProgress() {
    var box = document.getElementById("progress");
    if (!box || box.dataset.running !== "true") return;
    function poll() {
      fetch(box.dataset.status, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (s) {
        box.querySelectorAll("[data-count]").forEach(function (el) {
          var v = s[el.dataset.count];
          if (v !== undefined) el.textContent = v;
        });
        var state = document.getElementById("campaign-state");
        if (state) { state.textContent = s.label; state.className = "state state-" + s.state; }
        if (!s.running) { location.reload(); return; }
        setTimeout(poll, 3000);
      }).catch(function () { setTimeout(poll, 10000); });
    }
    setTimeout(poll, 3000);
  }

  // The preview shows the chosen recipient's letter as soon as one is chosen.
  document.addEventListener("change", function (e) {
    if (e.target.id === "preview-to") e.target.form.submit();
  });

  document.addEventListener("submit", function (e) {
    var q = e.target.dataset && e.target.dataset.confirm;
    if (q && !confirm(q)) e.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    signInWithTelegram();
    liveFilters();
    reportPeriod();
    confirmForms();
    board();
    campaignEditor(); // mailings
    campaignProgress(); // mailings
  });
})();
