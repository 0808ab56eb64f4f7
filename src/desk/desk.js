/* global document */
// The desk's only script, an enhancement: everything works without it. The time zone
// select starts on the browser's zone when the editor has not chosen one yet.
for (const select of document.querySelectorAll('select[data-browser-zone]')) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && [...select.options].some((o) => o.value === zone)) select.value = zone;
}
