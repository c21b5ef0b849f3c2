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
    // The event is compact: rows are [rank, team, country, score,
    // challenge points, solves, evaluated points, hint costs] and solves
    // are [time, team, challenge, first].
    source.addEventListener("scoreboard", function (event) {
      var data = JSON.parse(event.data);
      var body = board.querySelector("#standings tbody");
      var clock = board.querySelector("#board-clock");
      if (clock) { clock.textContent = data.clock; }
      if (body) {
        body.textContent = "";
        data.rows.forEach(function (r) {
          var row = document.createElement("tr");
          [String(r[0]), r[1] + (r[2] ? " " + r[2] : ""), String(r[3]), r[4] + " (" + r[5] + ")", String(r[6]), String(r[7])]
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
          item.textContent = e[0] + " · " + e[1] + " · " + e[2] + (e[3] ? " ★" : "");
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
      // Typing: a text field has focus or differs from what the page came with.
      var typing = Array.prototype.some.call(document.querySelectorAll("textarea, input[type=text], input[type=email], input:not([type])"), function (field) {
        return field.value !== field.defaultValue || field === document.activeElement;
      });
      if (!typing) { window.location.reload(); return; }
      var note = document.getElementById("live-note");
      if (note) { note.hidden = false; }
    });
  }
})();
