/* Bambi: behaviour every page shares, and small helpers the page scripts use (window.Bambi).
   No inline handlers anywhere: the Content-Security-Policy allows scripts from this site's
   files only. Loaded in <head> without `defer`, so it can mark the page as scripted before
   anything is drawn; the rest waits for the document. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  var Bambi = (window.Bambi = window.Bambi || {});
  Bambi.lang = root.lang || "en";

  /* The CSRF token of the page (every page with a form has one). */
  Bambi.csrfToken = function () {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  };

  /* A call to Bambi's JSON API: resolves to {status, body} whatever the status (the body is
     {"data": …} or {"error": "<sentence>"}); rejects only when the network fails. */
  Bambi.api = function (method, url, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": Bambi.csrfToken() }
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = null; }
        return { status: response.status, body: parsed };
      });
    });
  };

  /* US dollars in the page's language: "$0.07", "0,07 $". */
  Bambi.usd = function (value) {
    var number = typeof value === "number" ? value : parseFloat(value);
    if (isNaN(number)) return "";
    var places = Math.abs(Math.round(number * 1000) % 10) === 0 ? 2 : 3;
    try {
      return new Intl.NumberFormat(Bambi.lang, {
        style: "currency", currency: "USD", currencyDisplay: "narrowSymbol",
        minimumFractionDigits: places, maximumFractionDigits: places
      }).format(number);
    } catch (e) {
      return "$" + number.toFixed(places);
    }
  };

  /* A number in the page's language ("1,234" / "1 234"). */
  Bambi.number = function (value, places) {
    try {
      return new Intl.NumberFormat(Bambi.lang, {
        minimumFractionDigits: places || 0, maximumFractionDigits: places || 0
      }).format(value);
    } catch (e) {
      return String(value);
    }
  };

  /* Fill "%(name)s" placeholders (the same as Django's translated strings use). */
  Bambi.format = function (template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (match, name) {
      return values[name] === undefined ? match : values[name];
    });
  };

  /* Pick the singular or plural of a pair given by the server (data-one / data-other). */
  Bambi.plural = function (element, count) {
    var one = element.getAttribute("data-one");
    var other = element.getAttribute("data-other");
    var useOne = Bambi.lang === "fr" ? count <= 1 : count === 1;
    return Bambi.format(useOne ? one : other, { count: Bambi.number(count) });
  };

  /* A short message for screen readers, read out once. */
  Bambi.announce = function (text) {
    var live = document.getElementById("announcer");
    if (!live) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  };

  function onReady() {
    // The dashboard menu on phones: a button that shows and hides the navigation.
    var menuButton = document.querySelector(".menu-button");
    var nav = document.getElementById("dashboard-nav");
    if (menuButton && nav) {
      menuButton.addEventListener("click", function () {
        var open = menuButton.getAttribute("aria-expanded") !== "true";
        menuButton.setAttribute("aria-expanded", String(open));
        nav.classList.toggle("open", open);
        if (open) {
          var first = nav.querySelector("a");
          if (first) first.focus();
        }
      });
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && nav.classList.contains("open")) {
          nav.classList.remove("open");
          menuButton.setAttribute("aria-expanded", "false");
          menuButton.focus();
        }
      });
    }

    // Destructive buttons ask first (their forms work without JS too, just without asking).
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("button[data-confirm]");
      if (button && !window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }, true);

    // Slow forms (a key checked with its provider) show that they are working and cannot be
    // sent twice.
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var button = form.querySelector("button[type=submit][data-busy-label]");
        if (!button) return;
        if (button.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
        button.setAttribute("aria-busy", "true");
        button.classList.add("busy");
        button.textContent = button.getAttribute("data-busy-label");
        // Disabled after the submit has gone, so the browser still sends the form.
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onReady);
  } else {
    onReady();
  }
})();
