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

  document.addEventListener("DOMContentLoaded", function () {
    signInWithTelegram();
    liveFilters();
    reportPeriod();
    confirmForms();
  });
})();
