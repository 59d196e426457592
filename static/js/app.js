// Progressive enhancement only: every form also works without JavaScript.
// A <select data-autosubmit> submits its form on change (filters, language switcher).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});

// A form with data-confirm asks before it submits (bulk actions, unlinking).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});

// List selection: a header checkbox selects the page; the bulk bar counts and enables its button.
function updateSelection(bar) {
  var boxes = document.querySelectorAll('input[type=checkbox][form="' + bar.id + '"]');
  var selected = Array.prototype.filter.call(boxes, function (box) { return box.checked; }).length;
  var counter = bar.querySelector("[data-selected-count]");
  if (counter) { counter.textContent = counter.textContent.replace(/\d+/, String(selected)); }
  bar.querySelectorAll("[data-needs-selection]").forEach(function (button) { button.disabled = selected === 0; });
  bar.classList.toggle("has-selection", selected > 0);
}
document.addEventListener("change", function (event) {
  var target = event.target;
  if (!(target instanceof HTMLInputElement) || target.type !== "checkbox") { return; }
  var bar = document.querySelector("form.bulkbar");
  if (!bar) { return; }
  if (target.hasAttribute("data-select-all")) {
    document.querySelectorAll('input[type=checkbox][form="' + bar.id + '"]').forEach(function (box) { box.checked = target.checked; });
  }
  updateSelection(bar);
});

// A submit button with data-confirm asks before it acts (a bulk cancel), with htmx or without:
// the click is stopped before the form (or htmx) sees a submit.
document.addEventListener("click", function (event) {
  var button = event.target instanceof Element ? event.target.closest("button[data-confirm]") : null;
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// A "select all" checkbox of a plain list form: data-check-all names the row checkboxes it ticks
// (inline handlers would be refused by the Content-Security-Policy).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (!(target instanceof HTMLInputElement) || !target.hasAttribute("data-check-all")) { return; }
  var name = target.getAttribute("data-check-all");
  document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) { box.checked = target.checked; });
});

// Behaviour the templates ask for with data attributes (hx-on would need 'unsafe-eval' under the CSP):
// data-clear="id" empties that element on click; data-remove-after-request removes the element once
// its htmx request has finished (the inbox's "Answer" button, replaced by the form it loads).
document.addEventListener("click", function (event) {
  var button = event.target instanceof Element ? event.target.closest("[data-clear]") : null;
  if (!button) { return; }
  var target = document.getElementById(button.getAttribute("data-clear"));
  if (target) { target.replaceChildren(); }
});
document.addEventListener("htmx:afterRequest", function (event) {
  var element = event.detail && event.detail.elt;
  if (element instanceof Element && element.hasAttribute("data-remove-after-request")) { element.remove(); }
});
