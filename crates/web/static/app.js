// Tierwise page script: sends the CSRF token with every htmx request and
// keeps the questionnaire's answer field in step with its radio buttons,
// and shows refusals in place.
(function () {
  document.addEventListener("htmx:configRequest", function (e) {
    var m = document.querySelector('meta[name="csrf-token"]');
    if (m) { e.detail.headers["X-CSRF-Token"] = m.getAttribute("content"); }
  });
  function collect(form) {
    var out = [];
    form.querySelectorAll("fieldset[data-question]").forEach(function (fs) {
      var chosen = [];
      fs.querySelectorAll("input:checked").forEach(function (i) { chosen.push(i.value); });
      if (chosen.length) { out.push(fs.getAttribute("data-question") + "=" + chosen.join(",")); }
    });
    var field = form.querySelector('input[name="answers"]');
    if (field) { field.value = out.join(";"); }
  }
  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("form[data-questionnaire]");
    if (form) { collect(form); }
  });
  document.addEventListener("submit", function (e) {
    if (e.target.matches && e.target.matches("form[data-questionnaire]")) { collect(e.target); }
  });
  // a refusal (expired page, no permission…) is shown where the answer was awaited
  document.addEventListener("htmx:beforeSwap", function (e) {
    var s = e.detail.xhr.status;
    if (s >= 400 && s < 500) { e.detail.shouldSwap = true; e.detail.isError = false; }
  });
  document.addEventListener("htmx:configRequest", function (e) {
    var form = e.target.closest && e.target.closest("form[data-questionnaire]");
    if (form) { collect(form); e.detail.parameters["answers"] = form.querySelector('input[name="answers"]').value; }
  });
})();
