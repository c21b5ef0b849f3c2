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
})();
