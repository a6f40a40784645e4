/* Step 1 身份信息填写: show the account's identity for 本人 and the identity fields for 他人. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-payer-form]");
    if (!form) { return; }
    function update() {
      var checked = form.querySelector("input[name=target]:checked");
      var target = checked ? checked.value : "self";
      form.querySelectorAll("[data-target-panel]").forEach(function (panel) {
        panel.hidden = panel.dataset.targetPanel !== target;
      });
    }
    form.addEventListener("change", update);
    update();
  });
})();
