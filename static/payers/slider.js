/*
 * 滑块验证 (templates/payers/widgets/slider.html; the server side is payers/slider.py).
 *
 * The handle is dragged with mouse, touch or pen (Pointer Events), or moved with the arrow keys. Each
 * move is recorded as [x, t]: x from 0 to 1 along the track, t in ms since the drag (or the first key
 * press) began. When the handle reaches the right end, the trace is posted with a challenge fetched
 * from the server; the pass token that comes back goes into the hidden input, and the form carries it.
 */
(function () {
  "use strict";

  var PROMPT = "请按住滑块，拖动到最右边";
  var VERIFYING = "验证中…";
  var PASSED = "验证通过";
  var FAILED = "验证失败，请重试";
  var EXPIRED = "验证已过期，请重新拖动滑块";
  var RELOAD = "页面已过期，请刷新页面后重试";
  var KEYBOARD_HINT = "请连续按向右方向键，把滑块移动到最右边";

  var END_X = 0.97; // payers/slider.py END_X
  var KEY_STEP = 0.1;
  var KEYBOARD_MIN_EVENTS = 5; // payers/slider.py KEYBOARD_MIN_EVENTS
  var KEYBOARD_MIN_MS = 300; // payers/slider.py MIN_DURATION_MS
  var MAX_POINTS = 400; // the server takes up to 1000
  var CHALLENGE_REUSE_MS = 60 * 1000; // challenges live 120 s; a drag may take up to 60 s
  var PASS_LIFETIME_MS = 110 * 1000; // pass tokens live 120 s on the server
  var RESET_MS = 300;

  function csrfToken(root) {
    var form = root.closest("form");
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) {
      return input.value;
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function round(value, digits) {
    var factor = Math.pow(10, digits);
    return Math.round(value * factor) / factor;
  }

  function setUp(root) {
    var input = root.querySelector("[data-portal-slider-input]");
    var track = root.querySelector("[data-portal-slider-track]");
    var handle = root.querySelector("[data-portal-slider-handle]");
    var text = root.querySelector("[data-portal-slider-text]");
    var state = "idle"; // idle | dragging | verifying | passed
    var x = 0;
    var trace = null; // {kind, t0, points}
    var drag = null; // {pointerId, startClientX, startX, span}
    var challenge = null; // {promise, requestedAt}
    var passTimer = null;
    var resetTimer = null;

    function say(message, failed) {
      text.textContent = message;
      root.classList.toggle("is-failed", Boolean(failed));
    }

    function moveTo(value) {
      x = round(Math.min(1, Math.max(0, value)), 4);
      root.style.setProperty("--portal-slider-x", String(x));
      handle.setAttribute("aria-valuenow", String(Math.round(x * 100)));
      handle.setAttribute("aria-valuetext", x === 0 ? PROMPT : "已移动到 " + Math.round(x * 100) + "%");
    }

    function reset(message, failed) {
      trace = null;
      drag = null;
      state = "idle";
      root.classList.remove("is-dragging", "is-verifying", "is-passed");
      root.classList.add("is-resetting");
      handle.removeAttribute("aria-disabled");
      moveTo(0);
      say(message, failed);
      window.clearTimeout(resetTimer);
      resetTimer = window.setTimeout(function () {
        root.classList.remove("is-resetting");
      }, RESET_MS);
    }

    function fetchChallenge() {
      var requestedAt = Date.now();
      var promise = fetch(root.dataset.challengeUrl, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" }
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("challenge failed: " + response.status);
        }
        return response.json();
      }).then(function (body) {
        return body.challenge;
      });
      challenge = { promise: promise, requestedAt: requestedAt };
      promise.catch(function () {
        if (challenge && challenge.promise === promise) {
          challenge = null;
        }
      });
      return challenge;
    }

    function freshChallenge() {
      if (!challenge || Date.now() - challenge.requestedAt > CHALLENGE_REUSE_MS) {
        fetchChallenge();
      }
      return challenge;
    }

    function startTrace(kind, timeStamp, withStartPoint) {
      freshChallenge();
      trace = { kind: kind, t0: timeStamp, points: withStartPoint ? [[x, 0]] : [] };
    }

    function record(timeStamp) {
      var points = trace.points;
      var t = round(timeStamp - trace.t0, 1);
      var last = points[points.length - 1];
      if (last && t <= last[1]) {
        if (trace.kind === "pointer") {
          last[0] = x; // the same instant: keep the latest position
          return;
        }
        t = round(last[1] + 0.1, 1);
      }
      points.push([x, t]);
      if (points.length > MAX_POINTS) {
        trace.points = points.filter(function (point, index) {
          return index % 2 === 0 || index === points.length - 1;
        });
      }
    }

    function pass(token) {
      input.value = token;
      state = "passed";
      root.classList.remove("is-verifying", "is-failed", "is-invalid");
      root.classList.add("is-passed");
      moveTo(1);
      handle.setAttribute("aria-valuetext", PASSED);
      handle.setAttribute("aria-disabled", "true");
      handle.removeAttribute("aria-invalid");
      say(PASSED, false);
      window.clearTimeout(passTimer);
      passTimer = window.setTimeout(expire, PASS_LIFETIME_MS);
    }

    function expire() {
      input.value = "";
      reset(EXPIRED, true);
    }

    function fail(message) {
      reset(message, true);
      fetchChallenge();
    }

    function submit() {
      var sent = trace;
      var spent = freshChallenge();
      challenge = null; // single use
      trace = null;
      state = "verifying";
      root.classList.remove("is-dragging");
      root.classList.add("is-verifying");
      handle.setAttribute("aria-disabled", "true");
      say(VERIFYING, false);
      spent.promise.then(function (value) {
        return fetch(root.dataset.verifyUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "X-CSRFToken": csrfToken(root)
          },
          body: JSON.stringify({ challenge: value, trace: sent.points, kind: sent.kind })
        });
      }).then(function (response) {
        return response.json().catch(function () {
          return {};
        }).then(function (body) {
          return { status: response.status, body: body };
        });
      }).then(function (result) {
        if (result.status === 200 && result.body.token) {
          pass(result.body.token);
        } else if (result.status === 403) {
          fail(RELOAD);
        } else {
          fail(result.body.error || FAILED);
        }
      }).catch(function () {
        fail(FAILED);
      });
    }

    function endDrag() {
      if (!drag) {
        return;
      }
      drag = null;
      root.classList.remove("is-dragging");
      if (x >= END_X) {
        submit();
      } else {
        reset(PROMPT, false);
      }
    }

    handle.addEventListener("pointerenter", freshChallenge);
    handle.addEventListener("focus", freshChallenge);

    handle.addEventListener("pointerdown", function (event) {
      if (state !== "idle" || !event.isPrimary || (event.pointerType === "mouse" && event.button !== 0)) {
        return;
      }
      event.preventDefault();
      handle.focus({ preventScroll: true, focusVisible: false });
      handle.setPointerCapture(event.pointerId);
      drag = {
        pointerId: event.pointerId,
        startClientX: event.clientX,
        startX: x,
        span: Math.max(1, track.clientWidth - handle.offsetWidth)
      };
      state = "dragging";
      root.classList.remove("is-resetting");
      root.classList.add("is-dragging");
      say(PROMPT, false);
      startTrace("pointer", event.timeStamp, true);
    });

    handle.addEventListener("pointermove", function (event) {
      if (!drag || event.pointerId !== drag.pointerId) {
        return;
      }
      moveTo(drag.startX + (event.clientX - drag.startClientX) / drag.span);
      record(event.timeStamp);
    });

    handle.addEventListener("pointerup", function (event) {
      if (!drag || event.pointerId !== drag.pointerId) {
        return;
      }
      moveTo(drag.startX + (event.clientX - drag.startClientX) / drag.span);
      record(event.timeStamp);
      endDrag();
    });

    function cancelDrag(event) {
      if (drag && event.pointerId === drag.pointerId) {
        reset(PROMPT, false);
      }
    }
    handle.addEventListener("pointercancel", cancelDrag);
    handle.addEventListener("lostpointercapture", cancelDrag);

    handle.addEventListener("keydown", function (event) {
      var target;
      switch (event.key) {
        case "ArrowRight":
        case "ArrowUp":
          target = x + KEY_STEP;
          break;
        case "ArrowLeft":
        case "ArrowDown":
          target = x - KEY_STEP;
          break;
        case "Home":
          target = 0;
          break;
        case "End":
          target = 1;
          break;
        default:
          return;
      }
      event.preventDefault();
      if (state !== "idle") {
        return;
      }
      if (!trace || trace.kind !== "keyboard") {
        root.classList.remove("is-resetting");
        say(PROMPT, false);
        startTrace("keyboard", event.timeStamp, false);
      }
      moveTo(target);
      record(event.timeStamp);
      if (x < END_X) {
        return;
      }
      var points = trace.points;
      if (points.length < KEYBOARD_MIN_EVENTS || points[points.length - 1][1] - points[0][1] < KEYBOARD_MIN_MS) {
        reset(KEYBOARD_HINT, true);
        return;
      }
      submit();
    });

    // A page restored from the back/forward cache shows a pass that the form has already spent.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && state === "passed") {
        window.clearTimeout(passTimer);
        expire();
      }
    });
  }

  function start() {
    document.querySelectorAll("[data-portal-slider]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
