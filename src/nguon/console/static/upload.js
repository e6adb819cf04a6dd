// The media upload of the bulletin pages, with a progress bar. The file goes as the API takes
// it, alone in a multipart body, with the CSRF token in a header; the hub answers with the
// file's item for the media list, or with why it refused it. Without this script the form
// posts as it is and the page comes back with the file in its list.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  var input = document.getElementById("media-file");
  var progress = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var list = document.getElementById("media-list");
  var button = document.getElementById("upload-button");

  // A refusal is a page or a fragment with the reason in its alert, or problem+json when the
  // body was refused before reaching the console (too large).
  function reasonOf(request) {
    var type = request.getResponseHeader("Content-Type") || "";
    if (type.indexOf("json") >= 0) {
      return JSON.parse(request.responseText).detail || "";
    }
    var alert = new DOMParser()
      .parseFromString(request.responseText, "text/html")
      .querySelector("[role=alert]");
    return alert ? alert.textContent.trim() : "";
  }

  function finish(message) {
    status.textContent = message;
    button.disabled = false;
    input.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    if (!input.files.length) {
      return;
    }
    event.preventDefault();
    var body = new FormData();
    body.append("file", input.files[0]);
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-CSRF-Token", form.elements.csrf_token.value);
    request.upload.addEventListener("progress", function (step) {
      if (step.lengthComputable) {
        progress.max = step.total;
        progress.value = step.loaded;
      }
    });
    request.addEventListener("load", function () {
      if (request.responseURL && request.responseURL.indexOf(form.action) !== 0) {
        // The session ended: the hub led to the sign-in page.
        window.location.assign(request.responseURL);
        return;
      }
      if (request.status === 200 || request.status === 201) {
        var holder = document.createElement("ul");
        holder.innerHTML = request.responseText;
        var item = holder.querySelector("li");
        var box = item.querySelector("input");
        var same = document.getElementById(box.id);
        if (same) {
          same.checked = true;
        } else {
          // Every field of the item belongs to the bulletin's form (a subtitle row has three).
          item.querySelectorAll("input, select").forEach(function (field) {
            field.setAttribute("form", list.dataset.form);
          });
          list.appendChild(item);
        }
        progress.value = progress.max;
        input.value = "";
        finish(form.dataset.done);
      } else {
        progress.hidden = true;
        finish(reasonOf(request) || form.dataset.failed);
      }
    });
    request.addEventListener("error", function () {
      progress.hidden = true;
      finish(form.dataset.failed);
    });
    progress.value = 0;
    progress.hidden = false;
    button.disabled = true;
    input.disabled = true;
    status.textContent = form.dataset.sending;
    request.send(body);
  });
})();
