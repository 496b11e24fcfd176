/* A search box above every long list of choices (the 65 communes, the trades): typing narrows
   the options. Accents are ignored, so "ky lua" finds "Phường Kỳ Lừa" and "dong" finds "Đồng".
   The box has no name, so it is never sent with the form; without JavaScript the lists work
   as before. The placeholder text comes from this script tag's data-placeholder. */
(function () {
  "use strict";
  var MIN_OPTIONS = 12;
  var script = document.currentScript;
  var placeholder = (script && script.getAttribute("data-placeholder")) || "";

  function fold(text) {
    return text
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[đĐ]/g, "d")
      .toLowerCase();
  }

  function words(text) {
    return fold(text).split(/\s+/).filter(function (w) { return w; });
  }

  function attach(select) {
    var options = Array.prototype.slice.call(select.options);
    var texts = options.map(function (o) { return fold(o.text); });
    var box = document.createElement("input");
    box.type = "search";
    box.className = "picker-search";
    box.placeholder = placeholder;
    box.setAttribute("aria-label", placeholder);
    box.setAttribute("autocomplete", "off");
    box.addEventListener("input", function () {
      var wanted = words(box.value);
      options.forEach(function (option, i) {
        var match = wanted.every(function (w) { return texts[i].indexOf(w) !== -1; });
        // "All" (empty value) and what is already chosen in a multi-select stay in view
        var keep = option.value === "" || (select.multiple && option.selected);
        option.hidden = !(match || keep);
      });
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // Enter in the search box must not send the form
      }
    });
    select.parentNode.insertBefore(box, select);
  }

  function start() {
    var selects = document.querySelectorAll("select");
    Array.prototype.forEach.call(selects, function (select) {
      if (select.options.length >= MIN_OPTIONS) {
        attach(select);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
