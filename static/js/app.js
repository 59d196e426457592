// Progressive enhancement only: every form also works without JavaScript.
// A <select data-autosubmit> submits its form on change (filters, language switcher).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
