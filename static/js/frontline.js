// Frontline's small layer of progressive enhancement. Every page works without it.
(function () {
  "use strict";

  function isTyping(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  // One submit per form: a double click must not send twice (the server also dedupes tickets).
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("[data-once]");
    if (!button) return;
    if (event.target.dataset.submitted) { event.preventDefault(); return; }
    event.target.dataset.submitted = "1";
    setTimeout(function () { button.disabled = true; }, 0);
  });

  // Keyboard: j/k move, Enter/o open, x select, r reply, n note, ? help, g q queue.
  var selected = -1;
  var pendingG = false;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-keyboard-list] [data-row]")); }
  function select(i) {
    var list = rows();
    if (!list.length) return;
    selected = Math.max(0, Math.min(i, list.length - 1));
    list.forEach(function (row, n) { row.classList.toggle("is-selected", n === selected); row.removeAttribute("aria-current"); });
    var row = list[selected];
    row.setAttribute("aria-current", "true");
    var link = row.querySelector(".row-link");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
  function showHelp() {
    var dialog = document.getElementById("keys-help");
    if (dialog && !dialog.open) dialog.showModal();
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-show-help]")) showHelp();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isTyping(document.activeElement)) { document.activeElement.blur(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    var key = event.key;
    if (pendingG) { pendingG = false; if (key === "q") { location.href = "/tickets/queue/"; } return; }
    if (key === "g") { pendingG = true; setTimeout(function () { pendingG = false; }, 1200); return; }
    if (key === "?") { event.preventDefault(); showHelp(); return; }
    if (key === "j") { event.preventDefault(); select(selected + 1); return; }
    if (key === "k") { event.preventDefault(); select(selected < 0 ? 0 : selected - 1); return; }
    if ((key === "Enter" || key === "o") && selected >= 0 && !event.target.closest("a, button")) {
      var row = rows()[selected];
      if (row) { event.preventDefault(); location.href = row.dataset.href; }
      return;
    }
    if (key === "x" && selected >= 0) {
      var box = rows()[selected].querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
      return;
    }
    if (key === "r" || key === "n") {
      var textarea = document.querySelector("#reply textarea");
      if (!textarea) return;
      event.preventDefault();
      var note = document.querySelector("[data-internal-toggle]");
      if (note) { note.checked = key === "n"; note.dispatchEvent(new Event("change", { bubbles: true })); }
      textarea.focus();
    }
  });

  // Bulk selection count.
  document.addEventListener("change", function (event) {
    if (event.target.matches("#bulk-form input[name=tickets]")) {
      var count = document.querySelectorAll("#bulk-form input[name=tickets]:checked").length;
      var out = document.querySelector("[data-selected-count]");
      if (out) out.textContent = count;
    }
    if (event.target.matches("[data-internal-toggle]")) {
      var form = event.target.closest("form");
      if (form) form.classList.toggle("is-note", event.target.checked);
    }
    if (event.target.matches("#canned-pick") && event.target.value) {
      var url = event.target.dataset.cannedUrl.replace(/\/0\/$/, "/" + event.target.value + "/");
      var picked = event.target.value;
      // Reading the text counts nothing; the ids go with the reply and count when it is sent.
      fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (text) {
          var used = document.querySelector("#reply input[name=canned]");
          if (used) {
            var ids = used.value ? used.value.split(",") : [];
            if (ids.indexOf(picked) < 0) ids.push(picked);
            used.value = ids.join(",");
          }
          var textarea = document.querySelector("#reply textarea");
          textarea.value = textarea.value ? textarea.value.replace(/\s*$/, "\n\n") + text : text;
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
          textarea.focus();
          event.target.value = "";
        });
    }
  });

  // "Typing" state for the collision warning: true while the reply box changed in the last 8 s.
  var typingTimer = null;
  document.addEventListener("input", function (event) {
    if (!event.target.closest("#reply")) return;
    window.frontlineTyping = true;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { window.frontlineTyping = false; }, 8000);
  });

  // Board: drag a card to another column; the card's own form does the (htmx) POST.
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card");
    if (card) { dragged = card; event.dataTransfer.effectAllowed = "move"; }
  });
  document.addEventListener("dragover", function (event) {
    var col = event.target.closest && event.target.closest(".board-col");
    if (col && dragged) { event.preventDefault(); col.classList.add("drag-over"); }
  });
  document.addEventListener("dragleave", function (event) {
    var col = event.target.closest && event.target.closest(".board-col");
    if (col) col.classList.remove("drag-over");
  });
  document.addEventListener("drop", function (event) {
    var col = event.target.closest && event.target.closest(".board-col");
    if (!col || !dragged) return;
    event.preventDefault();
    col.classList.remove("drag-over");
    var select = dragged.querySelector("select[name=status]");
    if (select && select.value !== col.dataset.status) {
      select.value = col.dataset.status;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
    dragged = null;
  });
  // After a card is swapped in (the moved card, or after a refused move the card as it is now,
  // sent out of band), put it in the column of its status. The event fires on the new card.
  function placeCard(event) {
    var card = event.target;
    if (!card || !card.classList || !card.classList.contains("board-card")) return;
    var col = document.querySelector('.board-col[data-status="' + card.dataset.status + '"] .board-cards');
    if (col && card.parentElement !== col) col.prepend(card);
  }
  document.addEventListener("htmx:afterSwap", placeCard);
  document.addEventListener("htmx:oobAfterSwap", placeCard);
  // A new move clears the message left by a refused one.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var messages = document.getElementById("board-messages");
    if (messages && event.target.closest && event.target.closest(".board-card")) messages.textContent = "";
  });
  // Show htmx errors (4xx partials) rather than silently dropping them: in the request's target,
  // or where the server points with HX-Retarget (the board sends its errors to #board-messages).
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status >= 400 && event.detail.xhr.status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
