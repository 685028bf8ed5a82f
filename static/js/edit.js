/* Bambi: the edit studio on the generate page (loaded after generate.js, which it extends
   through window.Bambi.generate).

   Parts:
     references — images to edit or compose: dropped or picked files (read here, sent as data
                  URLs) and gallery images (sent by id), each with a thumbnail and a remove
                  button; the first one is the one a mask applies to;
     mask       — a brush on a canvas over the first reference, for models that take a mask
                  (`capabilities.mask`): paint what should change; brush size, erase, clear.
                  Sent as a PNG of the first image's size, transparent where painted;
     models     — only the key's models that take that many references (and a mask, when one
                  is painted) stay in the list (`capabilities.max_input_images`);
     import     — "Import settings from an image": prompt, model and settings read from a
                  Bambi image's own metadata (provenance.js), in the browser;
     edit       — "Edit" on a result adds its image as a reference, without leaving the page
                  (elsewhere "Edit" links to this page with ?edit=<image id>: the server
                  renders that image as a reference, data.references).
   Without this script the file input and the ?edit= image post with the form (no mask, no
   gallery picker); the server checks everything again either way. */
(function () {
  "use strict";
  var Bambi = window.Bambi;
  var studio = Bambi && Bambi.generate;
  var form = document.getElementById("generate-form");
  var panel = document.getElementById("references");
  var dataNode = document.getElementById("edit-data");
  if (!studio || !form || !panel || !dataNode) return;

  var data = JSON.parse(dataNode.textContent);
  var strings = data.strings;
  var list = document.getElementById("reference-list");
  var fileInput = document.getElementById("reference-files");
  var note = document.getElementById("reference-note");
  var pickerButton = document.getElementById("reference-gallery-button");
  var picker = document.getElementById("reference-picker");
  var pickerGrid = document.getElementById("reference-picker-grid");
  var pickerMore = document.getElementById("reference-picker-more");
  var maskEditor = document.getElementById("mask-editor");
  var maskImage = document.getElementById("mask-image");
  var canvas = document.getElementById("mask-canvas");
  var brush = document.getElementById("mask-brush");
  var erase = document.getElementById("mask-erase");
  var clearButton = document.getElementById("mask-clear");
  var TYPES = ["image/png", "image/jpeg", "image/webp"];

  var references = [];
  var painted = false;
  // Parts that need this script are hidden in the page's HTML.
  pickerButton.hidden = false;
  var importBox = document.getElementById("import-settings");
  if (importBox && window.BambiProvenance) importBox.hidden = false;

  /* ---------------------------------------------------------------- references ----- */

  function say(text) {
    note.textContent = text || ""; // a role="status" region: screen readers read it
  }

  function render() {
    list.textContent = "";
    references.forEach(function (reference, index) {
      var item = document.createElement("li");
      item.className = "reference";
      var image = document.createElement("img");
      image.src = reference.thumbnail;
      image.alt = Bambi.format(strings.referenceAlt, { number: index + 1 });
      image.width = 96;
      image.height = Math.max(1, Math.round(96 * reference.height / reference.width));
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "small danger-quiet";
      remove.textContent = strings.remove;
      remove.setAttribute("aria-label", Bambi.format(strings.removeLabel, { number: index + 1 }));
      remove.addEventListener("click", function () {
        references.splice(index, 1);
        changed();
        say(Bambi.format(strings.removed, { number: index + 1 }));
      });
      item.appendChild(image);
      item.appendChild(remove);
      list.appendChild(item);
    });
    list.hidden = references.length === 0;
  }

  // Tell generate.js what the request carries: it keeps only the models that take it.
  function inputsChanged() {
    var mask = painted && maskWanted();
    var fits = studio.setInputs(references.length, mask);
    if (!fits) {
      say(Bambi.format(mask ? strings.noModelMask : strings.noModel, {
        count: Bambi.number(references.length)
      }));
    }
    return fits;
  }

  function changed() {
    render();
    setUpMask();
    inputsChanged();
    setUpMask();
  }

  function add(reference) {
    references.push(reference);
    changed();
    say(Bambi.format(strings.added, { count: references.length }));
  }

  function addFile(file) {
    if (TYPES.indexOf(file.type) < 0) return say(Bambi.format(strings.notAnImage, { name: file.name }));
    if (file.size > data.maxBytes) return say(Bambi.format(strings.tooLarge, { name: file.name }));
    var reader = new FileReader();
    reader.onload = function () {
      var probe = new Image();
      probe.onload = function () {
        if (probe.naturalWidth * probe.naturalHeight > data.maxPixels) {
          return say(Bambi.format(strings.tooManyPixels, { name: file.name }));
        }
        add({
          dataUrl: reader.result, thumbnail: reader.result, full: reader.result,
          width: probe.naturalWidth, height: probe.naturalHeight
        });
      };
      probe.onerror = function () { say(Bambi.format(strings.notAnImage, { name: file.name })); };
      probe.src = reader.result;
    };
    reader.readAsDataURL(file);
  }

  function addGalleryImage(image) {
    add({
      imageId: image.id, thumbnail: image.thumbnail_url, full: image.url,
      width: image.width || 1, height: image.height || 1
    });
  }

  fileInput.addEventListener("change", function () {
    Array.prototype.forEach.call(fileInput.files, addFile);
    fileInput.value = ""; // read here; the API gets them as data URLs, not the form
  });

  // Dropping files anywhere on the form adds them as references.
  form.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
      event.preventDefault();
      panel.classList.add("dropping");
    }
  });
  form.addEventListener("dragleave", function (event) {
    if (!form.contains(event.relatedTarget)) panel.classList.remove("dropping");
  });
  form.addEventListener("drop", function (event) {
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    panel.classList.remove("dropping");
    Array.prototype.forEach.call(event.dataTransfer.files, addFile);
  });

  /* ---------------------------------------------------------------- gallery picker --- */

  var nextPage = 1;

  function loadPage() {
    pickerMore.disabled = true;
    Bambi.api("GET", data.urls.generations + "?page=" + nextPage).then(function (answer) {
      if (answer.status !== 200) { pickerMore.hidden = true; return; }
      answer.body.data.forEach(function (row) {
        row.images.forEach(function (image) {
          var choice = document.createElement("button");
          choice.type = "button";
          choice.className = "picker-choice";
          var thumb = document.createElement("img");
          thumb.src = image.thumbnail_url;
          thumb.alt = row.prompt.length > 80 ? row.prompt.slice(0, 79) + "…" : row.prompt;
          thumb.loading = "lazy";
          choice.appendChild(thumb);
          choice.addEventListener("click", function () { addGalleryImage(image); });
          pickerGrid.appendChild(choice);
        });
      });
      if (!pickerGrid.children.length) pickerGrid.textContent = strings.noImages;
      var pagination = answer.body.pagination;
      nextPage = pagination.page + 1;
      pickerMore.hidden = pagination.page >= pagination.pages;
      pickerMore.disabled = false;
    }, function () { pickerMore.disabled = false; });
  }

  pickerButton.addEventListener("click", function () {
    var open = picker.hidden;
    picker.hidden = !open;
    pickerButton.setAttribute("aria-expanded", String(open));
    if (open && nextPage === 1) loadPage();
  });
  pickerMore.addEventListener("click", loadPage);

  /* ---------------------------------------------------------------- mask ----------- */

  var context = canvas.getContext("2d");
  var drawing = false;
  var last = null;

  function maskWanted() {
    var model = studio.currentModel();
    return Boolean(model && model.capabilities.mask === true && references.length);
  }

  function setUpMask() {
    var first = references[0];
    var wanted = maskWanted();
    maskEditor.hidden = !wanted;
    if (!first) { painted = false; maskEditor.dataset.source = ""; return; }
    var source = first.imageId || first.dataUrl.slice(0, 64) + first.dataUrl.length;
    if (maskEditor.dataset.source === source) return;
    maskEditor.dataset.source = source;
    maskImage.src = first.full;
    maskImage.alt = strings.maskImageAlt;
    canvas.width = first.width;
    canvas.height = first.height;
    painted = false;
  }

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * canvas.width / box.width,
      y: (event.clientY - box.top) * canvas.height / box.height
    };
  }

  function stroke(from, to) {
    var box = canvas.getBoundingClientRect();
    context.globalCompositeOperation = erase.checked ? "destination-out" : "source-over";
    context.strokeStyle = "#ff2d87";
    context.lineCap = "round";
    context.lineJoin = "round";
    context.lineWidth = Number(brush.value) * canvas.width / box.width;
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x + 0.01, to.y);
    context.stroke();
    if (!erase.checked) painted = true;
  }

  canvas.addEventListener("pointerdown", function (event) {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    stroke(last, last);
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) return;
    var next = point(event);
    stroke(last, next);
    last = next;
  });
  function stop() {
    if (!drawing) return;
    drawing = false;
    inputsChanged();
  }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  clearButton.addEventListener("click", function () {
    context.clearRect(0, 0, canvas.width, canvas.height);
    painted = false;
    inputsChanged();
    say(strings.maskCleared);
  });

  // The mask the providers take: the first image's size, opaque, transparent where painted.
  function maskDataUrl() {
    if (!painted || !maskWanted()) return null;
    var out = document.createElement("canvas");
    out.width = canvas.width;
    out.height = canvas.height;
    var pen = out.getContext("2d");
    pen.fillStyle = "#000";
    pen.fillRect(0, 0, out.width, out.height);
    pen.globalCompositeOperation = "destination-out";
    pen.drawImage(canvas, 0, 0);
    return out.toDataURL("image/png");
  }

  /* ---------------------------------------------------------------- request -------- */

  studio.requestExtenders.push(function (body) {
    if (!references.length) return;
    body.inputImages = references.map(function (reference) {
      return reference.imageId ? { imageId: reference.imageId } : { dataUrl: reference.dataUrl };
    });
    var mask = maskDataUrl();
    if (mask) body.mask = { dataUrl: mask };
  });

  // A new model may or may not take a mask: show the brush accordingly.
  studio.modelListeners.push(function () { setUpMask(); });

  /* ---------------------------------------------------------------- edit a result --- */

  studio.actions.edit = function (element) {
    var tile = element.closest("[data-image]");
    var image = tile && tile.querySelector("img");
    if (!tile || !image) return;
    var open = tile.querySelector(".result-open");
    addGalleryImage({
      id: tile.getAttribute("data-image"),
      thumbnail_url: image.getAttribute("src"),
      url: open ? open.getAttribute("href") : image.getAttribute("src"),
      width: Number(image.getAttribute("width")) || 1,
      height: Number(image.getAttribute("height")) || 1
    });
    panel.scrollIntoView({ behavior: "smooth", block: "start" });
  };

  /* ---------------------------------------------------------------- import settings -- */

  var importInput = document.getElementById("import-file");
  var importNote = document.getElementById("import-note");
  if (importInput && window.BambiProvenance) {
    importInput.addEventListener("change", function () {
      var file = importInput.files[0];
      importInput.value = "";
      if (!file) return;
      window.BambiProvenance.read(file).then(function (record) {
        var text = strings.noRecord;
        if (record) {
          text = studio.applyRecord(record)
            ? strings.imported
            : Bambi.format(strings.importedNoModel, { model: record.model_name || record.model || "" });
        }
        importNote.textContent = text;
        Bambi.announce(text);
      }, function () {
        importNote.textContent = strings.noRecord;
      });
    });
  }

  (data.references || []).forEach(addGalleryImage);
  if (!references.length) changed();
})();
