// Rampart's own small script. Everything works without it; it only adds
// conveniences. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  // Language pickers marked data-autosubmit submit on change, so keyboard
  // and mouse users need not reach the button (which stays for no-JS use).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) { select.form.submit(); }
    });
  });
  // Copy buttons next to secrets shown once (API tokens, TOTP keys).
  document.querySelectorAll("code.secret").forEach(function (code) {
    if (!navigator.clipboard) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary small";
    button.textContent = "⧉";
    button.setAttribute("aria-label", "Copy");
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(code.textContent.trim());
    });
    code.insertAdjacentElement("afterend", button);
  });
  // Drills: the live scoreboard redraws itself from its event stream.
  var board = document.querySelector("[data-scoreboard]");
  if (board && window.EventSource) {
    var source = new EventSource(board.getAttribute("data-scoreboard"));
    source.addEventListener("scoreboard", function (event) {
      var data = JSON.parse(event.data);
      var body = board.querySelector("#standings tbody");
      var clock = board.querySelector("#board-clock");
      if (clock) { clock.textContent = data.elapsed_text; }
      if (body) {
        body.textContent = "";
        data.standings.forEach(function (s) {
          var row = document.createElement("tr");
          row.setAttribute("data-team", s.team_id);
          [String(s.rank), s.team + (s.country ? " " + s.country : ""), String(s.score),
           s.challenge_points + " (" + s.solves + ")", String(s.expectation_points), String(s.hint_costs)]
            .forEach(function (text, i) {
              var cell = document.createElement("td");
              cell.className = ["rank", "team", "score", "", "", ""][i];
              cell.textContent = text;
              row.appendChild(cell);
            });
          body.appendChild(row);
        });
      }
      var solves = board.querySelector("#solves");
      if (solves) {
        solves.textContent = "";
        data.solves.forEach(function (e) {
          var item = document.createElement("li");
          item.textContent = e.elapsed_text + " · " + e.team + " · " + e.challenge + (e.first ? " ★" : "");
          solves.appendChild(item);
        });
      }
    });
  }
  // Drills: the player portal and the console reload on a change, unless
  // someone is typing; then they say an update is waiting.
  var live = document.querySelector("[data-live]");
  if (live && window.EventSource) {
    var first = true;
    var stream = new EventSource(live.getAttribute("data-live"));
    stream.addEventListener("change", function () {
      if (first) { first = false; return; }
      var typing = Array.prototype.some.call(document.querySelectorAll("textarea, input[type=text], input:not([type])"), function (field) {
        return field.value !== "" || field === document.activeElement;
      });
      if (!typing) { window.location.reload(); return; }
      var note = document.getElementById("live-note");
      if (note) { note.hidden = false; }
    });
  }
})();
