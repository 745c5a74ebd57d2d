// Filters: hide the findings (and the driver sections left empty) that do not match.
// Without JavaScript the form stays hidden and every finding shows.
(function () {
  var form = document.getElementById("filters");
  form.classList.add("on");
  function checked(name) {
    var out = {};
    form.querySelectorAll("input[name=" + name + "]").forEach(function (box) { out[box.value] = box.checked; });
    return out;
  }
  function apply() {
    var want = { rule: checked("rule"), confidence: checked("confidence"), verdict: checked("verdict") };
    var shown = 0;
    document.querySelectorAll(".finding").forEach(function (el) {
      var ok = ["rule", "confidence", "verdict"].every(function (k) {
        var v = el.dataset[k];
        return !(v in want[k]) || want[k][v];
      });
      el.classList.toggle("hidden", !ok);
      if (ok) shown++;
    });
    document.querySelectorAll("section.driver").forEach(function (sec) {
      sec.classList.toggle("hidden", !sec.querySelector(".finding:not(.hidden)"));
    });
    document.getElementById("shown").textContent = shown + " findings shown";
  }
  form.addEventListener("change", apply);
  apply();
})();
