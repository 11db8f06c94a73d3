// The office's only script, linked by the confirmation pages alone: every page works
// without it. Escape there does what the way back ("No, go back") does, as a dialog's
// Escape would: the link marked data-escape is followed. A key held down, a key with a
// modifier, or an Escape something else already took is left alone.
"use strict";
// Said to a screen reader on the link itself, only where the script runs.
document.querySelectorAll("a[data-escape][href]").forEach(function (back) {
  back.setAttribute("aria-keyshortcuts", "Escape");
});
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape" || event.defaultPrevented || event.repeat || event.isComposing) {
    return;
  }
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
    return;
  }
  var back = document.querySelector("a[data-escape][href]");
  if (back) {
    event.preventDefault();
    back.click();
  }
});
