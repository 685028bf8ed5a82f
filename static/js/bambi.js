/* Bambi: behaviour every page shares. No inline handlers anywhere: the Content-Security-Policy
   allows scripts from this site's files only. */
(function () {
  "use strict";
  // The language switcher submits itself on change (its <noscript> button does without JS).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
