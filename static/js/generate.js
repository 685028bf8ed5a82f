/* Bambi: the generate page. The form keeps the prompt and settings on screen; results appear
   on the same page, newest on top, through the JSON API (POST /api/generations/, DELETE
   /api/generations/<id>/). Without this script the form posts and lands on the result page.

   Parts, each small:
     options   — the model's own settings follow the chosen key and model (capabilities JSON);
     request   — the API body from the form (`Bambi.generate.requestExtenders` may add to it:
                 the place where reference images and a mask will plug in);
     results   — a placeholder tile per image asked, with the time elapsed, then the images
                 (download, open, use as a starting point, delete) or the provider's reason;
     actions   — `Bambi.generate.actions[name](element, run)` for data-action="<name>" on a
                 result ("reuse", "delete"; edit.js adds "edit");
     inputs    — `Bambi.generate.setInputs(count, mask)`: edit.js says how many input images
                 (and whether a mask) the request carries; only the models that take them
                 stay in the list (capabilities `max_input_images`, `mask`), and the options
                 of one kind of call follow (input fidelity on edits, moderation on new
                 images, "same as the image" for the shape of an edit).
   The server validates everything again. */
(function () {
  "use strict";
  var Bambi = window.Bambi;
  var form = document.getElementById("generate-form");
  var dataNode = document.getElementById("generate-catalogue");
  if (!Bambi || !form || !dataNode) return;

  var catalogue = JSON.parse(dataNode.textContent);
  var words = catalogue.labels;
  var strings = catalogue.strings;
  var urls = catalogue.urls;
  var studio = (Bambi.generate = Bambi.generate || {});
  studio.requestExtenders = studio.requestExtenders || [];
  studio.actions = studio.actions || {};
  studio.resultListeners = studio.resultListeners || [];
  studio.modelListeners = studio.modelListeners || [];

  var keySelect = form.querySelector("#id_configuration");
  var modelSelect = form.querySelector("#id_model");
  var countInput = form.querySelector("#id_count");
  var prompt = form.querySelector("#id_prompt");
  var estimate = document.getElementById("estimate");
  var button = document.getElementById("generate-button");
  var runs = document.getElementById("runs");
  var emptyNote = document.getElementById("runs-empty");
  // form field -> capabilities key, and -> the API's parameter name (docs/api.md: camelCase)
  var OPTIONS = {
    size: "sizes", aspect_ratio: "aspect_ratios", quality: "qualities", style: "styles",
    resolution: "resolutions", output_format: "output_formats", background: "backgrounds",
    moderation: "moderations", input_fidelity: "input_fidelities",
    person_generation: "person_generations"
  };
  var API_NAMES = {
    size: "size", aspect_ratio: "aspectRatio", quality: "quality", style: "style",
    resolution: "resolution", output_format: "outputFormat", background: "background",
    moderation: "moderation", input_fidelity: "inputFidelity",
    person_generation: "personGeneration"
  };
  // Options of one kind of call only (generations/forms.py: EDIT_ONLY, GENERATION_ONLY), and
  // the shape options an edit may leave to the first image (SHAPE_OPTIONS).
  var EDIT_ONLY = { input_fidelity: true };
  var GENERATION_ONLY = { moderation: true };
  var SHAPE_OPTIONS = { size: true, aspect_ratio: true };
  var inputs = { count: 0, mask: false };

  /* ---------------------------------------------------------------- words ---------- */

  function valueLabel(name, value) {
    var known = (words.values[name] || {})[value];
    if (known !== undefined) return known;
    var text = String(value);
    if (name === "size" && text.indexOf("x") > 0) return text.replace("x", " × ");
    if (name === "resolution") return text.toUpperCase();
    return text;
  }

  function capitalised(text) {
    return text ? text.charAt(0).toLocaleUpperCase(Bambi.lang) + text.slice(1) : text;
  }

  function settingLine(label, value) {
    return Bambi.format(words.line, { setting: label, value: value });
  }

  function settingsWords(parameters) {
    var lines = [];
    Object.keys(words.settings).forEach(function (name) {
      var value = parameters[name];
      if (value === undefined || value === null || value === "") return;
      lines.push(settingLine(words.settings[name], valueLabel(name, value)));
    });
    return lines;
  }

  /* ---------------------------------------------------------------- options -------- */

  function currentModel() {
    return catalogue.models[modelSelect.value] || null;
  }

  // Whether a model takes the request's input images (and mask): generations/references.py.
  function takesInputs(model) {
    var caps = model.capabilities || {};
    var limit = typeof caps.max_input_images === "number" ? caps.max_input_images : 0;
    return inputs.count <= limit && (!inputs.mask || caps.mask === true);
  }

  // byok/catalogue.py `_lookup`: a price by one of the keys given, else "auto", else the first.
  function price(table, keys) {
    if (table && typeof table === "object") {
      var found = null;
      keys.forEach(function (key) {
        if (found === null && key && table[key] !== undefined) found = table[key];
      });
      table = found !== null ? found : (table.auto !== undefined ? table.auto : Object.values(table)[0]);
    }
    var value = parseFloat(table);
    return isNaN(value) ? null : value;
  }

  function optionValue(name) {
    var select = form.querySelector("#id_" + name);
    return select && !select.disabled ? select.value : "";
  }

  function pricePerImage(caps, quality) {
    return price(caps.price_per_image, [quality, optionValue("resolution")]);
  }

  function requestedCount() {
    var wrapper = form.querySelector('[data-option="count"]');
    if (wrapper && wrapper.hidden) return 1;
    return Math.max(parseInt(countInput.value, 10) || 1, 1);
  }

  function updateEstimate() {
    var model = currentModel();
    if (!model) { estimate.textContent = estimate.dataset.unknown; return; }
    var quality = form.querySelector("#id_quality");
    var unit = pricePerImage(model.capabilities, quality && !quality.disabled ? quality.value : "");
    // An edit's input images, where the provider charges for them.
    var perInput = price(model.capabilities.price_per_input_image, [optionValue("input_fidelity"), "low"]) || 0;
    estimate.textContent = unit === null
      ? estimate.dataset.unknown
      : Bambi.usd(unit * requestedCount() + perInput * inputs.count);
  }

  function fillOptions(wanted) {
    var model = currentModel();
    var caps = model ? model.capabilities : {};
    var defaults = caps.defaults || {};
    wanted = wanted || {};
    Object.keys(OPTIONS).forEach(function (name) {
      var wrapper = form.querySelector('[data-option="' + name + '"]');
      var select = form.querySelector("#id_" + name);
      if (!wrapper || !select) return;
      var choices = caps[OPTIONS[name]] || [];
      var editing = inputs.count > 0;
      if ((EDIT_ONLY[name] && !editing) || (GENERATION_ONLY[name] && editing)) choices = [];
      var previous = wanted[name] !== undefined ? wanted[name] : select.value;
      select.textContent = "";
      if (editing && SHAPE_OPTIONS[name] && choices.length) {
        // An edit keeps the first image's shape unless another is chosen.
        var same = document.createElement("option");
        same.value = "";
        same.textContent = strings.sameAsImage;
        select.appendChild(same);
        if (wanted[name] === undefined && !select.dataset.chosen) previous = "";
      }
      choices.forEach(function (choice) {
        var option = document.createElement("option");
        option.value = choice;
        option.textContent = capitalised(valueLabel(name, choice));
        select.appendChild(option);
      });
      if (choices.indexOf(previous) >= 0 || (previous === "" && select.options.length > choices.length)) {
        select.value = previous;
      } else if (defaults[name] && choices.indexOf(defaults[name]) >= 0) select.value = defaults[name];
      wrapper.hidden = choices.length === 0;
      select.disabled = choices.length === 0;
    });
    if (compressionInput && wanted.output_compression !== undefined) {
      compressionInput.value = wanted.output_compression;
    }
    updateCompression();
    var maxImages = parseInt(caps.max_images, 10) || 1;
    countInput.max = maxImages;
    if (wanted.count !== undefined) countInput.value = wanted.count;
    if ((parseInt(countInput.value, 10) || 1) > maxImages) countInput.value = maxImages;
    form.querySelector('[data-option="count"]').hidden = maxImages <= 1;
    if (caps.max_prompt_length) {
      prompt.maxLength = caps.max_prompt_length;
      var hint = document.getElementById("prompt-limit");
      if (hint && hint.dataset.template) {
        hint.textContent = hint.dataset.template.replace("__N__", Bambi.number(caps.max_prompt_length));
      }
    }
    updateShutdown(model);
    updateEstimate();
    studio.modelListeners.forEach(function (listener) { listener(model); });
  }

  // The shutdown a provider announced for the model (its sentence comes with the catalogue).
  var shutdownNote = document.getElementById("model-shutdown");
  function updateShutdown(model) {
    if (!shutdownNote) return;
    shutdownNote.textContent = (model && model.shutdown_notice) || "";
    shutdownNote.hidden = !shutdownNote.textContent;
  }

  // gpt-image compresses JPEG and WebP output (0-100): shown for those formats only.
  var compression = form.querySelector('[data-option="output_compression"]');
  var compressionInput = form.querySelector("#id_output_compression");
  function updateCompression() {
    if (!compression || !compressionInput) return;
    var model = currentModel();
    var on = Boolean(model && model.capabilities.output_compression === true) &&
      /^(jpeg|webp)$/.test(optionValue("output_format"));
    compression.hidden = !on;
    compressionInput.disabled = !on;
  }

  function filterModels(wantedModel) {
    var provider = catalogue.configurations[keySelect.value];
    var firstVisible = null;
    Array.prototype.forEach.call(modelSelect.options, function (option) {
      var model = catalogue.models[option.value];
      var visible = option.dataset.provider === provider && Boolean(model) && takesInputs(model);
      option.hidden = !visible;
      option.disabled = !visible;
      if (visible && !firstVisible) firstVisible = option;
    });
    if (wantedModel && catalogue.models[wantedModel] && catalogue.models[wantedModel].provider === provider &&
        takesInputs(catalogue.models[wantedModel])) {
      modelSelect.value = wantedModel;
    }
    var selected = modelSelect.options[modelSelect.selectedIndex];
    if ((!selected || selected.disabled) && firstVisible) modelSelect.value = firstVisible.value;
    return Boolean(firstVisible);
  }

  // A key whose provider has a model for the current inputs (the chosen one first).
  function keyForInputs() {
    var keys = [keySelect.value].concat(Object.keys(catalogue.configurations));
    for (var i = 0; i < keys.length; i++) {
      var provider = catalogue.configurations[keys[i]];
      for (var id in catalogue.models) {
        var model = catalogue.models[id];
        if (model.provider === provider && takesInputs(model)) return keys[i];
      }
    }
    return null;
  }

  // edit.js: the request now carries `count` input images (and a mask or not). Returns false
  // when no model of any key takes them (the list is left as it was).
  studio.setInputs = function (count, mask) {
    var before = inputs.count > 0;
    inputs = { count: count, mask: Boolean(mask) };
    var key = keyForInputs();
    if (key === null) {
      button.disabled = count > 0 || usageFull;
      return false;
    }
    if (key !== keySelect.value) keySelect.value = key;
    filterModels(modelSelect.value);
    if (before !== inputs.count > 0) {
      Object.keys(SHAPE_OPTIONS).forEach(function (name) {
        var select = form.querySelector("#id_" + name);
        if (select) delete select.dataset.chosen;
      });
    }
    fillOptions();
    button.disabled = usageFull;
    return true;
  };
  // "Import settings from an image" (edit.js): a provenance record read from a Bambi file
  // (generations/provenance.py) goes into the form. Returns whether its model was found among
  // the user's keys (else the current model stays and only prompt and settings change).
  studio.applyRecord = function (record) {
    var found = null;
    [keySelect.value].concat(Object.keys(catalogue.configurations)).some(function (key) {
      var provider = catalogue.configurations[key];
      return Object.keys(catalogue.models).some(function (id) {
        var model = catalogue.models[id];
        if (model.provider !== provider || model.model_id !== record.model || !takesInputs(model)) return false;
        found = { key: key, model: id };
        return true;
      });
    });
    if (found) {
      keySelect.value = found.key;
      filterModels(found.model);
    }
    var wanted = {};
    var settings = record.settings || {};
    Object.keys(settings).forEach(function (name) {
      if (settings[name] !== null && settings[name] !== undefined) wanted[name] = String(settings[name]);
    });
    fillOptions(wanted);
    if (typeof record.prompt === "string") prompt.value = record.prompt;
    return Boolean(found);
  };
  studio.currentModel = currentModel;
  studio.inputs = function () { return inputs; };

  var usageFull = button.disabled;
  keySelect.addEventListener("change", function () { filterModels(); fillOptions(); });
  modelSelect.addEventListener("change", function () { fillOptions(); });
  countInput.addEventListener("input", updateEstimate);
  form.addEventListener("change", function (event) {
    if (event.target.id === "id_size" || event.target.id === "id_aspect_ratio") {
      event.target.dataset.chosen = "1";
    }
    if (/^id_(quality|resolution|input_fidelity)$/.test(event.target.id)) updateEstimate();
    if (event.target.id === "id_output_format") updateCompression();
  });
  // Ctrl/⌘ + Enter in the prompt generates.
  prompt.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (form.requestSubmit) form.requestSubmit(button); else button.click();
    }
  });

  /* ---------------------------------------------------------------- request -------- */

  function requestBody() {
    var parameters = { modelId: modelSelect.value, count: requestedCount() };
    Object.keys(OPTIONS).forEach(function (name) {
      var select = form.querySelector("#id_" + name);
      if (select && !select.disabled && select.value) parameters[API_NAMES[name]] = select.value;
    });
    if (compressionInput && !compressionInput.disabled && compressionInput.value !== "") {
      parameters.outputCompression = parseInt(compressionInput.value, 10);
    }
    var body = { configId: keySelect.value, prompt: prompt.value.trim(), parameters: parameters };
    studio.requestExtenders.forEach(function (extend) { extend(body, form); });
    return body;
  }

  /* ---------------------------------------------------------------- results -------- */

  function fromTemplate(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function generationUrl(id) {
    return urls.generation.replace(urls.sentinel, id);
  }

  function shorten(text, length) {
    return text.length <= length ? text : text.slice(0, length - 1) + "…";
  }

  function rerunHref(reuse) {
    var query = new URLSearchParams();
    query.set("prompt", reuse.prompt);
    if (reuse.configuration) query.set("config", reuse.configuration);
    if (reuse.model) query.set("model", reuse.model);
    Object.keys(reuse.options || {}).forEach(function (name) { query.set(name, reuse.options[name]); });
    return form.getAttribute("action") + "?" + query.toString();
  }

  function metaSpans(meta, parts) {
    meta.textContent = "";
    parts.forEach(function (text) {
      if (!text) return;
      var span = document.createElement("span");
      span.textContent = text;
      meta.appendChild(span);
    });
  }

  function newRun(body) {
    var run = fromTemplate("run-template");
    var model = catalogue.models[body.parameters.modelId];
    var asked = {};
    Object.keys(OPTIONS).forEach(function (name) {
      if (body.parameters[API_NAMES[name]]) asked[name] = body.parameters[API_NAMES[name]];
    });
    asked.count = body.parameters.count;
    run.querySelector('[data-slot="prompt"]').textContent = shorten(body.prompt, 120);
    metaSpans(run.querySelector('[data-slot="meta"]'),
      [model ? model.name : ""].concat(settingsWords(asked)));
    run.classList.add("is-new");
    run.setAttribute("aria-busy", "true");
    var tiles = run.querySelector('[data-slot="tiles"]');
    for (var i = 0; i < body.parameters.count; i++) tiles.appendChild(fromTemplate("pending-template"));
    runs.insertBefore(run, runs.firstChild);
    if (emptyNote) emptyNote.hidden = true;
    return run;
  }

  function startClock(run) {
    var started = Date.now();
    function tick() {
      var seconds = Math.floor((Date.now() - started) / 1000);
      run.querySelectorAll(".elapsed").forEach(function (element) {
        element.textContent = Bambi.format(strings.elapsed, { seconds: Bambi.number(seconds) });
      });
    }
    tick();
    return window.setInterval(tick, 1000);
  }

  function imageTile(row, image, reuse) {
    var tile = fromTemplate("tile-template");
    tile.dataset.image = image.id;
    var open = tile.querySelector(".result-open");
    open.href = image.url;
    var img = tile.querySelector("img");
    img.src = image.thumbnail_url;
    img.alt = shorten(row.prompt, 80);
    if (image.width) img.width = image.width;
    if (image.height) img.height = image.height;
    tile.querySelector('[data-action="download"]').href = image.download_url;
    tile.querySelector('[data-action="open"]').href = image.url;
    tile.querySelector('[data-action="reuse"]').href = rerunHref(reuse);
    var edit = tile.querySelector('[data-action="edit"]');
    if (edit) edit.href = form.getAttribute("action") + "?edit=" + encodeURIComponent(image.id);
    tile.querySelector('button[data-action="delete"]').value = row.id;
    return tile;
  }

  function problemTile(reason, blocked) {
    var tile = fromTemplate("problem-template");
    if (blocked) tile.classList.add("blocked");
    tile.querySelector('[data-slot="reason"]').textContent = reason;
    return tile;
  }

  function showResult(run, row) {
    var reuse = {
      configuration: row.configuration_id || "",
      model: row.model ? row.model.id : "",
      prompt: row.prompt,
      options: {}
    };
    Object.keys(row.parameters || {}).forEach(function (name) {
      if (name !== "model_id" && row.parameters[name] !== null) reuse.options[name] = String(row.parameters[name]);
    });
    run.dataset.generation = row.id;
    run.dataset.reuse = JSON.stringify(reuse);
    var meta = [row.model ? row.model.name : ""].concat(settingsWords(row.parameters || {}));
    if (row.duration_ms) {
      meta.push(settingLine(strings.duration,
        Bambi.format(strings.elapsed, { seconds: Bambi.number(row.duration_ms / 1000, 1) })));
    }
    if (row.cost_estimate) meta.push(settingLine(strings.estimate, Bambi.usd(row.cost_estimate)));
    metaSpans(run.querySelector('[data-slot="meta"]'), meta);
    var tiles = run.querySelector('[data-slot="tiles"]');
    tiles.textContent = "";
    row.images.forEach(function (image) { tiles.appendChild(imageTile(row, image, reuse)); });
    for (var i = 0; i < (row.images_filtered || 0); i++) tiles.appendChild(problemTile(strings.blocked, true));
    if (row.notice) {
      var notice = run.querySelector('[data-slot="notice"]');
      notice.textContent = row.notice;
      notice.hidden = false;
    }
    var ready = row.images.length;
    Bambi.announce(Bambi.format(ready === 1 ? strings.readyOne : strings.readyMany, { count: ready }));
    studio.resultListeners.forEach(function (listener) { listener(run, row); });
  }

  function showFailure(run, status, message) {
    var tiles = run.querySelector('[data-slot="tiles"]');
    var count = Math.max(tiles.children.length, 1);
    tiles.textContent = "";
    for (var i = 0; i < count; i++) {
      var tile = problemTile(message, false);
      if (status === 403 && urls.billing) {
        var link = document.createElement("a");
        link.href = urls.billing;
        link.textContent = strings.seePlans;
        var line = document.createElement("p");
        line.appendChild(link);
        tile.appendChild(line);
      }
      tiles.appendChild(tile);
    }
    tiles.firstElementChild.setAttribute("role", "alert");
  }

  function updateUsage() {
    var line = document.querySelector(".usage-line[data-template]");
    var meter = document.querySelector("progress.meter");
    if (!line) return;
    var used = parseInt(line.dataset.used, 10) + 1;
    line.dataset.used = String(used);
    line.textContent = line.dataset.template.replace("__USED__", Bambi.number(used));
    if (meter) meter.value = used;
  }

  function setBusy(busy) {
    button.disabled = busy;
    button.setAttribute("aria-busy", String(busy));
    button.classList.toggle("busy", busy);
    if (busy) {
      button.dataset.idleLabel = button.textContent;
      button.textContent = button.dataset.busyLabel;
    } else if (button.dataset.idleLabel) {
      button.textContent = button.dataset.idleLabel;
    }
  }

  form.addEventListener("submit", function (event) {
    if (!window.fetch) return; // an old browser posts the form (the result page shows it)
    event.preventDefault();
    if (button.disabled) return;
    var body = requestBody();
    var run = newRun(body);
    var clock = startClock(run);
    setBusy(true);
    Bambi.announce(Bambi.format(body.parameters.count === 1 ? strings.generating : strings.generatingMany,
      { count: body.parameters.count }));
    Bambi.api("POST", urls.generations, body).then(function (answer) {
      if (answer.status === 201 && answer.body && answer.body.data) {
        showResult(run, answer.body.data);
        updateUsage();
      } else {
        var message = answer.body && answer.body.error
          ? answer.body.error
          : Bambi.format(strings.unexpected, { status: answer.status });
        showFailure(run, answer.status, message);
        Bambi.announce(message);
      }
    }, function () {
      showFailure(run, 0, strings.network);
      Bambi.announce(strings.network);
    }).then(function () {
      window.clearInterval(clock);
      run.removeAttribute("aria-busy");
      setBusy(false);
    });
  });

  /* ---------------------------------------------------------------- actions -------- */

  // "Use as a starting point": the image's prompt and settings go back into the form.
  studio.actions.reuse = function (element, run) {
    var reuse = JSON.parse(run.dataset.reuse || "{}");
    if (reuse.configuration && catalogue.configurations[reuse.configuration]) {
      keySelect.value = reuse.configuration;
    }
    filterModels(reuse.model);
    var wanted = {};
    Object.keys(reuse.options || {}).forEach(function (name) { wanted[name] = reuse.options[name]; });
    fillOptions(wanted);
    if (reuse.prompt !== undefined) prompt.value = reuse.prompt;
    form.scrollIntoView({ behavior: "smooth", block: "start" });
    prompt.focus();
    Bambi.announce(strings.reused);
  };

  studio.actions["delete"] = function (element, run) {
    var images = run.querySelectorAll(".result-tile").length;
    var question = images > 1
      ? Bambi.format(strings.confirmDeleteMany, { count: images })
      : strings.confirmDelete;
    if (!window.confirm(question)) return;
    Bambi.api("DELETE", generationUrl(run.dataset.generation)).then(function (answer) {
      if (answer.status === 200 || answer.status === 404) {
        run.remove();
        if (emptyNote && !runs.querySelector(".run")) emptyNote.hidden = false;
        Bambi.announce(strings.deleted);
      } else {
        window.alert(answer.body && answer.body.error ? answer.body.error : strings.network);
      }
    }, function () { window.alert(strings.network); });
  };

  function runOf(element) { return element.closest(".run"); }

  // A result's controls: data-action="<name>" runs studio.actions[name] when there is one
  // (download and open are plain links). Without this script "Use as a starting point" is a
  // link to the prefilled form and "Delete" submits #run-delete.
  runs.addEventListener("click", function (event) {
    var control = event.target.closest("[data-action]");
    if (!control || !runs.contains(control)) return;
    var action = studio.actions[control.getAttribute("data-action")];
    if (!action) return;
    if (control.tagName === "A" && (event.ctrlKey || event.metaKey || event.shiftKey)) return;
    event.preventDefault();
    action(control, runOf(control));
  });

  filterModels(modelSelect.value);
  fillOptions();
})();
