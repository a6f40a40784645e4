/*
 * 办理须知 (templates/portal/includes/business_notice.html): open the notice on load, then the scope
 * reminder once the notice closes ("继续办理", × or "我知道了，不再提示"). The dismiss form is posted
 * with fetch; if that fails, the form is submitted normally so the choice is still recorded.
 */
(function () {
  "use strict";

  function setUp(root) {
    var scope = root.querySelector("[data-portal-scope]");
    var notice = root.querySelector("[data-portal-notice]");
    var Modal = window.bootstrap && window.bootstrap.Modal;
    if (!scope || !Modal) {
      return;
    }
    var scopeModal = Modal.getOrCreateInstance(scope);
    if (!notice) {
      scopeModal.show();
      return;
    }
    var noticeModal = Modal.getOrCreateInstance(notice);
    notice.addEventListener("hidden.bs.modal", function () {
      scopeModal.show();
    }, { once: true });

    var form = notice.querySelector("form[data-portal-dismiss]");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch" }
        }).then(function (response) {
          if (response.status !== 204) {
            throw new Error("dismiss failed: " + response.status);
          }
          noticeModal.hide();
        }).catch(function () {
          form.submit();
        });
      });
    }
    noticeModal.show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-portal-notice-root]").forEach(setUp);
  });
})();
