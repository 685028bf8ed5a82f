/* Bambi: the generate form (options follow the chosen model) and delete confirmations.
   Small and dependency-free; the server validates everything again. */
(function () {
  "use strict";

  // Confirm destructive buttons (gallery and result page).
  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  var form = document.getElementById("generate-form");
  var dataNode = document.getElementById("generate-catalogue");
  if (!form || !dataNode) return;
  var catalogue = JSON.parse(dataNode.textContent);
  var keySelect = form.querySelector("#id_configuration");
  var modelSelect = form.querySelector("#id_model");
  var countInput = form.querySelector("#id_count");
  var prompt = form.querySelector("#id_prompt");
  var estimate = document.getElementById("estimate");
  var OPTIONS = {
    size: "sizes", aspect_ratio: "aspect_ratios", quality: "qualities", style: "styles",
    resolution: "resolutions", output_format: "output_formats", background: "backgrounds"
  };

  function currentModel() {
    return catalogue.models[modelSelect.value] || null;
  }

  function pricePerImage(caps, quality) {
    var price = caps.price_per_image;
    if (price && typeof price === "object") {
      price = price[quality || ""] || price.auto || Object.values(price)[0];
    }
    var value = parseFloat(price);
    return isNaN(value) ? null : value;
  }

  function updateEstimate() {
    var model = currentModel();
    if (!model) { estimate.textContent = estimate.dataset.unknown; return; }
    var quality = form.querySelector("#id_quality");
    var unit = pricePerImage(model.capabilities, quality && !quality.disabled ? quality.value : "");
    var count = Math.max(parseInt(countInput.value, 10) || 1, 1);
    estimate.textContent = unit === null ? estimate.dataset.unknown : "$" + (unit * count).toFixed(3);
  }

  function fillOptions() {
    var model = currentModel();
    var caps = model ? model.capabilities : {};
    var defaults = caps.defaults || {};
    Object.keys(OPTIONS).forEach(function (name) {
      var wrapper = form.querySelector('[data-option="' + name + '"]');
      var select = form.querySelector("#id_" + name);
      if (!wrapper || !select) return;
      var choices = caps[OPTIONS[name]] || [];
      var previous = select.value;
      select.innerHTML = "";
      choices.forEach(function (choice) {
        var option = document.createElement("option");
        option.value = choice;
        option.textContent = choice;
        select.appendChild(option);
      });
      if (choices.indexOf(previous) >= 0) select.value = previous;
      else if (defaults[name] && choices.indexOf(defaults[name]) >= 0) select.value = defaults[name];
      wrapper.hidden = choices.length === 0;
      select.disabled = choices.length === 0;
    });
    var maxImages = parseInt(caps.max_images, 10) || 1;
    countInput.max = maxImages;
    if ((parseInt(countInput.value, 10) || 1) > maxImages) countInput.value = maxImages;
    form.querySelector('[data-option="count"]').hidden = maxImages <= 1;
    if (caps.max_prompt_length) {
      prompt.maxLength = caps.max_prompt_length;
      var hint = document.getElementById("prompt-limit");
      if (hint && hint.dataset.template) {
        hint.textContent = hint.dataset.template.replace("__N__", caps.max_prompt_length);
      }
    }
    updateEstimate();
  }

  function filterModels() {
    var provider = catalogue.configurations[keySelect.value];
    var firstVisible = null;
    Array.prototype.forEach.call(modelSelect.options, function (option) {
      var visible = option.dataset.provider === provider;
      option.hidden = !visible;
      option.disabled = !visible;
      if (visible && !firstVisible) firstVisible = option;
    });
    var selected = modelSelect.options[modelSelect.selectedIndex];
    if ((!selected || selected.disabled) && firstVisible) modelSelect.value = firstVisible.value;
    fillOptions();
  }

  keySelect.addEventListener("change", filterModels);
  modelSelect.addEventListener("change", fillOptions);
  countInput.addEventListener("input", updateEstimate);
  form.addEventListener("change", function (event) {
    if (event.target.id === "id_quality") updateEstimate();
  });

  // The call takes seconds: show that something is happening and block double submits.
  form.addEventListener("submit", function (event) {
    var button = document.getElementById("generate-button");
    if (button.disabled) { event.preventDefault(); return; }
    button.disabled = true;
    button.textContent = button.dataset.busyLabel;
    button.setAttribute("aria-busy", "true");
    form.classList.add("busy");
    document.getElementById("generate-busy").hidden = false;
  });

  filterModels();
})();
