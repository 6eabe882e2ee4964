// Knowledge base editor: image upload (button, paste, drop) and a warning before leaving
// unsaved text. The editor works without it; images then go in through the button-less
// Markdown `![alt](url)` of an already uploaded image.
(function () {
  "use strict";

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  function setStatus(text, isError) {
    var out = document.querySelector("[data-upload-status]");
    if (!out) return;
    out.textContent = text;
    out.classList.toggle("is-error", !!isError);
  }

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart, end = textarea.selectionEnd, value = textarea.value;
    var before = value.slice(0, start), after = value.slice(end);
    // An image on its own paragraph: a blank line before it unless at the start.
    var pad = !before ? "" : /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
    var insert = pad + text + (/^\n/.test(after) ? "" : "\n");
    textarea.value = before + insert + after;
    var pos = before.length + insert.length;
    textarea.setSelectionRange(pos, pos);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  }

  function upload(textarea, file) {
    var data = new FormData();
    data.append("image", file, file.name || "pasted-image.png");
    if (textarea.dataset.articleId) data.append("article", textarea.dataset.articleId);
    setStatus("Uploading " + (file.name || "image") + "…");
    return fetch(textarea.dataset.uploadUrl, {
      method: "POST",
      body: data,
      headers: { "X-CSRFToken": csrf() },
      credentials: "same-origin"
    })
      .then(function (response) {
        return response.json()
          .catch(function () { return { error: "Upload failed (" + response.status + ")." }; })
          .then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (!result.ok) throw new Error(result.body.error || "Upload failed.");
        insertAtCursor(textarea, result.body.markdown);
        setStatus("Inserted " + result.body.filename + ".");
      })
      .catch(function (error) { setStatus(error.message, true); });
  }

  function images(list) {
    return Array.prototype.filter.call(list || [], function (f) { return /^image\//.test(f.type); });
  }

  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-image-input]")) return;
    var textarea = document.querySelector("[data-kb-editor]");
    Array.prototype.forEach.call(event.target.files, function (file) { upload(textarea, file); });
    event.target.value = "";
  });

  document.addEventListener("click", function (event) {
    var pick = event.target.closest("[data-pick-image]");
    if (pick) { event.preventDefault(); document.querySelector("[data-image-input]").click(); return; }
    var again = event.target.closest("[data-insert-markdown]");
    if (again) {
      event.preventDefault();
      insertAtCursor(document.querySelector("[data-kb-editor]"), again.dataset.insertMarkdown);
    }
  });

  document.addEventListener("paste", function (event) {
    if (!event.target.matches("[data-kb-editor]")) return;
    var files = images(event.clipboardData && event.clipboardData.files);
    if (!files.length) return;
    event.preventDefault();
    files.forEach(function (file) { upload(event.target, file); });
  });

  document.addEventListener("dragover", function (event) {
    if (!event.target.matches("[data-kb-editor]")) return;
    event.preventDefault();
    event.target.classList.add("is-dropping");
  });
  document.addEventListener("dragleave", function (event) {
    if (event.target.matches("[data-kb-editor]")) event.target.classList.remove("is-dropping");
  });
  document.addEventListener("drop", function (event) {
    if (!event.target.matches("[data-kb-editor]")) return;
    event.target.classList.remove("is-dropping");
    var files = images(event.dataTransfer && event.dataTransfer.files);
    if (!files.length) return;
    event.preventDefault();
    files.forEach(function (file) { upload(event.target, file); });
  });

  // Leaving with unsaved text asks first; saving does not.
  var dirty = false;
  document.addEventListener("input", function (event) {
    if (event.target.closest("[data-kb-form]")) dirty = true;
  });
  document.addEventListener("submit", function (event) {
    if (event.target.matches("[data-kb-form]")) dirty = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
})();
