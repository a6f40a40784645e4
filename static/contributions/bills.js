/* Step 3 缴费信息提交: keep 合计 in step with the ticked notice numbers (the server computes it again). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-bill-form]");
    if (!form) { return; }
    var total = form.querySelector("[data-bill-total]");
    function update() {
      var cents = 0;
      form.querySelectorAll("input[name=notices]:checked").forEach(function (box) {
        cents += Math.round(parseFloat(box.dataset.amount) * 100);
      });
      total.textContent = (cents / 100).toFixed(2);
    }
    form.addEventListener("change", update);
  });
})();
