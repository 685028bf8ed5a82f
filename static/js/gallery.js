/* Bambi: the gallery. Selection with a count ("Delete 3 selected", off when nothing is
   selected) and a lightbox (a native <dialog>) that steps through every image of the page:
   ← → keys, Escape, swipes on phones, download and delete. Without this script each image
   opens its generation's page and the delete button posts the checked boxes. */
(function () {
  "use strict";
  var Bambi = window.Bambi;
  var tiles = document.getElementById("tiles");
  if (!Bambi || !tiles) return;

  /* ---------------------------------------------------------------- selection ------ */

  var deleteButton = document.getElementById("delete-selected");
  var idleLabel = deleteButton ? deleteButton.textContent : "";

  function updateSelection() {
    if (!deleteButton) return;
    var count = 0;
    tiles.querySelectorAll(".tile").forEach(function (tile) {
      var box = tile.querySelector("input[name=ids]");
      var on = Boolean(box && box.checked);
      tile.classList.toggle("selected", on);
      if (on) count += 1;
    });
    deleteButton.disabled = count === 0;
    deleteButton.textContent = count ? Bambi.plural(deleteButton, count) : idleLabel;
  }
  tiles.addEventListener("change", updateSelection);
  // Boxes the browser restored (back button) count too.
  window.addEventListener("pageshow", updateSelection);
  updateSelection();

  /* ---------------------------------------------------------------- lightbox ------- */

  var dialog = document.getElementById("lightbox");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var image = document.getElementById("lightbox-image");
  var title = document.getElementById("lightbox-title");
  var meta = document.getElementById("lightbox-meta");
  var position = document.getElementById("lightbox-position");
  var download = document.getElementById("lightbox-download");
  var openFull = document.getElementById("lightbox-open");
  var rerun = document.getElementById("lightbox-rerun");
  var detail = document.getElementById("lightbox-detail");
  var edit = document.getElementById("lightbox-edit");
  var parent = document.getElementById("lightbox-parent");
  var prevButton = dialog.querySelector('[data-lightbox-action="prev"]');
  var nextButton = dialog.querySelector('[data-lightbox-action="next"]');
  var entries = [];
  var current = 0;
  var opener = null;

  // Every image of the page, in order: a generation with four images gives four entries.
  function collect() {
    entries = [];
    tiles.querySelectorAll("a[data-lightbox]").forEach(function (link) {
      var item;
      try { item = JSON.parse(link.getAttribute("data-lightbox")); } catch (e) { return; }
      (item.images || []).forEach(function (picture, index) {
        entries.push({ item: item, picture: picture, index: index, link: link });
      });
    });
  }

  function show(index) {
    if (!entries.length) { dialog.close(); return; }
    current = Math.max(0, Math.min(index, entries.length - 1));
    var entry = entries[current];
    image.src = entry.picture.src;
    image.alt = entry.item.prompt.length > 80 ? entry.item.prompt.slice(0, 79) + "…" : entry.item.prompt;
    if (entry.picture.width) image.width = entry.picture.width;
    if (entry.picture.height) image.height = entry.picture.height;
    title.textContent = entry.item.prompt;
    meta.textContent = [entry.item.meta, entry.item.settings].filter(Boolean).join(" · ");
    position.textContent = Bambi.format(dialog.dataset.position, {
      index: Bambi.number(current + 1), total: Bambi.number(entries.length)
    });
    download.href = entry.picture.download;
    openFull.href = entry.picture.src;
    rerun.href = entry.item.rerun;
    detail.href = entry.item.detail;
    if (edit) edit.href = entry.picture.edit;
    if (parent) {
      parent.hidden = !entry.item.parent;
      parent.href = entry.item.parent || "#";
    }
    prevButton.disabled = current === 0;
    nextButton.disabled = current === entries.length - 1;
  }

  function open(link) {
    collect();
    var index = 0;
    for (var i = 0; i < entries.length; i++) {
      if (entries[i].link === link) { index = i; break; }
    }
    opener = link;
    dialog.showModal();
    show(index);
    dialog.querySelector('[data-lightbox-action="close"]').focus();
  }

  function step(delta) {
    var target = current + delta;
    if (target >= 0 && target < entries.length) show(target);
  }

  function removeCurrent() {
    var entry = entries[current];
    if (!entry || !window.confirm(dialog.dataset.confirm)) return;
    var id = entry.item.id;
    var url = dialog.dataset.api.replace(dialog.dataset.sentinel, id);
    Bambi.api("DELETE", url).then(function (answer) {
      if (answer.status !== 200 && answer.status !== 404) {
        window.alert(answer.body && answer.body.error ? answer.body.error : dialog.dataset.failed);
        return;
      }
      var tile = entry.link.closest(".tile");
      if (tile) tile.remove();
      opener = null;
      var keep = current;
      collect();
      updateSelection();
      Bambi.announce(dialog.dataset.deleted);
      if (!entries.length) { dialog.close(); return; }
      show(Math.min(keep, entries.length - 1));
    }, function () { window.alert(dialog.dataset.failed); });
  }

  tiles.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-lightbox]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    open(link);
  });

  dialog.addEventListener("click", function (event) {
    var control = event.target.closest("[data-lightbox-action]");
    if (!control) return;
    var action = control.getAttribute("data-lightbox-action");
    if (action === "close") dialog.close();
    else if (action === "prev") step(-1);
    else if (action === "next") step(1);
    else if (action === "delete") removeCurrent();
  });

  dialog.addEventListener("keydown", function (event) {
    if (event.key === "ArrowLeft") { event.preventDefault(); step(-1); }
    else if (event.key === "ArrowRight") { event.preventDefault(); step(1); }
  });

  // Swipe left or right on the picture (phones).
  var touchX = null;
  var stage = dialog.querySelector(".lightbox-stage");
  stage.addEventListener("touchstart", function (event) {
    touchX = event.changedTouches[0].clientX;
  }, { passive: true });
  stage.addEventListener("touchend", function (event) {
    if (touchX === null) return;
    var dx = event.changedTouches[0].clientX - touchX;
    touchX = null;
    if (Math.abs(dx) > 40) step(dx < 0 ? 1 : -1);
  });

  dialog.addEventListener("close", function () {
    image.src = "data:,";
    if (opener && document.body.contains(opener)) opener.focus();
  });
})();
