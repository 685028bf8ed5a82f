/* Bambi: the Keys page. The guide beside the form follows the chosen provider (where to get
   a key, what it looks like, what images cost), the name field suggests the provider's name,
   and "Check and save" says which provider it is asking. Without this script every guide
   shows and the server names an unnamed key after its provider. */
(function () {
  "use strict";
  var form = document.getElementById("key-form");
  var guides = document.getElementById("key-guides");
  if (!form || !guides) return;
  var provider = form.querySelector("select[name=provider]");
  var name = form.querySelector("input[name=name]");
  var submit = form.querySelector("button[type=submit]");
  if (!provider) return;

  function follow() {
    var chosen = null;
    guides.querySelectorAll(".guide").forEach(function (guide) {
      var match = guide.getAttribute("data-provider") === provider.value;
      guide.hidden = !match;
      if (match) chosen = guide;
    });
    if (!chosen) return;
    if (name) name.placeholder = chosen.getAttribute("data-name");
    if (submit) submit.setAttribute("data-busy-label", chosen.getAttribute("data-busy-label"));
  }

  provider.addEventListener("change", follow);
  follow();
})();
