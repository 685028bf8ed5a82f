/* dj-stripe's admin pages: show the "Loading..." overlay while a Stripe action runs.
   (dj-stripe ships this as inline handlers; here so the Content-Security-Policy can forbid
   inline scripts.) */
(function () {
  "use strict";
  function busy() {
    var main = document.getElementById("main_content");
    var messages = document.querySelector(".messagelist");
    var spinner = document.getElementById("div_spinner");
    if (main) main.hidden = true;
    if (messages) messages.hidden = true;
    if (spinner) spinner.hidden = false;
  }
  document.addEventListener("submit", busy);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-busy]");
    if (link) busy();
  });
})();
