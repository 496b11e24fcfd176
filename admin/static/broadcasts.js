// Broadcast pages: the compose preview follows the typing; the report refreshes while sending.
(function () {
  "use strict";
  const form = document.getElementById("compose");
  if (form) {
    let timer = null;
    const refresh = async function () {
      const data = new FormData(form);
      data.delete("media");
      const answer = await fetch("/broadcasts/preview", { method: "POST", body: data });
      if (!answer.ok) return;
      const body = await answer.json();
      const problems = document.getElementById("problems");
      problems.replaceChildren(...body.problems.map(function (p) {
        const li = document.createElement("li"); li.className = "error"; li.textContent = p; return li;
      }));
      if (body.problems.length) return;
      document.getElementById("recipient-count").textContent = body.count;
      const texts = document.querySelectorAll("#preview .bubble-text");
      if (texts.length) {
        texts[0].innerHTML = body.vi;  // safe: rendered by the server from escaped parts
        if (texts.length > 1 && body.en) texts[1].innerHTML = body.en;
      }
    };
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
  }
  const report = document.getElementById("report");
  if (report && report.dataset.live === "1") {
    const set = function (id, value) { const el = document.getElementById(id); if (el) el.textContent = value; };
    const tick = async function () {
      const answer = await fetch(report.dataset.url, { headers: { Accept: "application/json" } });
      if (!answer.ok) return;
      const r = await answer.json();
      const counts = r.counts || {};
      set("r-total", r.recipients);
      set("r-sent", counts.sent || 0);
      set("r-waiting", (counts.pending || 0) + (counts.claimed || 0));
      set("r-rate", r.rate_per_second.toFixed(1));
      const left = r.seconds_left;
      set("r-left", left === null ? "–" : Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0"));
      set("r-optouts", r.opt_outs);
      document.getElementById("r-held").hidden = !r.held_for_night;
      document.querySelectorAll("#r-counts tr[data-status]").forEach(function (tr) {
        tr.cells[1].textContent = counts[tr.dataset.status] || 0;
      });
      if (r.status !== report.dataset.status) { window.location.reload(); return; }
      setTimeout(tick, 2000);
    };
    setTimeout(tick, 2000);
  }
})();
