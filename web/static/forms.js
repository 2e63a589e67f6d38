// A picker marked data-autosubmit sends its form when it changes (instead of an inline onchange,
// which the Content-Security-Policy forbids).
document.querySelectorAll("select[data-autosubmit]").forEach(select => {
  select.addEventListener("change", () => select.form.submit());
});
