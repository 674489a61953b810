// Optional: the page works without it. Adds expand/collapse-all buttons.
(function () {
  var tools = document.getElementById("tools");
  if (!tools) { return; }
  function setAll(open) {
    var all = document.querySelectorAll("details");
    for (var i = 0; i < all.length; i++) { all[i].open = open; }
  }
  document.getElementById("expand-all").addEventListener("click", function () { setAll(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { setAll(false); });
  tools.hidden = false;
})();
