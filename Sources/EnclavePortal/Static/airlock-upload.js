// Uploads an import draft's files from the request page: drag and drop or a file picker, one progress
// bar per file, and resume. Each file is PUT to the API (…/requests/{rid}/files/{name}) in parts with
// Content-Range, authenticated by the session cookie and the X-CSRF-Token header; after a dropped
// connection (or when the same file is chosen again later) the upload continues from the bytes the
// server reports as received (GET …/files → uploads[].received; a part that does not continue there is 416).
// Without JavaScript the page shows the equivalent curl command instead.
"use strict";

(function () {
  /** Bytes per PUT: large enough to keep requests few, small enough that a lost part costs little. */
  const CHUNK = 8 * 1024 * 1024;

  /** The next part of a file of `size` bytes from `offset`, or null when nothing is left to send. */
  function nextPart(offset, size, chunk) {
    if (size <= 0 || offset >= size) return null;
    const end = Math.min(offset + chunk, size) - 1;
    return { start: offset, end: end, header: "bytes " + offset + "-" + end + "/" + size };
  }

  /**
   * Where an upload of `name` (`size` bytes) starts, from the API's file list: the bytes the server has
   * received of an unfinished upload, 0 when there is none, or -1 when what is stored cannot be the start
   * of this file (as long as it or longer), so it must be removed first.
   */
  function resumeOffset(listing, name, size) {
    const uploads = (listing && listing.uploads) || [];
    const found = uploads.find(function (upload) { return upload.name === name; });
    if (!found || !(found.received > 0)) return 0;
    return found.received < size ? found.received : -1;
  }

  /** Bytes for people, as the page writes them. */
  function bytes(count) {
    if (count < 1024) return count === 1 ? "1 byte" : count + " bytes";
    const units = ["KiB", "MiB", "GiB", "TiB"];
    let value = count / 1024;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (value < 10 ? value.toFixed(1) : value.toFixed(0)) + " " + units[unit];
  }

  if (typeof module === "object" && module.exports) {
    module.exports = { nextPart: nextPart, resumeOffset: resumeOffset, bytes: bytes, CHUNK: CHUNK };
  }
  if (typeof document === "undefined") return;

  const box = document.getElementById("airlock-upload");
  if (!box) return;
  const csrf = box.getAttribute("data-csrf") || "";
  const filesURL = box.getAttribute("data-files") || "";
  const input = document.getElementById("airlock-files");
  const zone = document.getElementById("airlock-dropzone");
  const list = document.getElementById("airlock-upload-list");
  box.hidden = false;
  document.querySelectorAll(".upload-nojs").forEach(function (note) { note.hidden = true; });
  document.querySelectorAll("details.upload-cli[data-collapse]").forEach(function (details) { details.open = false; });

  /** A refusal the server gave for a reason (400, 403, 409, 413, 507…): trying again would not help. */
  class Refused extends Error {}

  let busy = 0;
  window.addEventListener("beforeunload", function (event) {
    if (busy > 0) { event.preventDefault(); event.returnValue = ""; }
  });

  function request(method, url, body, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Accept", "application/json");
      if (method !== "GET") xhr.setRequestHeader("X-CSRF-Token", csrf);
      Object.keys(headers || {}).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (onProgress) xhr.upload.addEventListener("progress", function (event) { onProgress(event.loaded); });
      xhr.addEventListener("load", function () { resolve({ status: xhr.status, text: xhr.responseText }); });
      xhr.addEventListener("error", function () { reject(new Error("The connection was lost")); });
      xhr.addEventListener("abort", function () { reject(new Error("The upload was interrupted")); });
      xhr.send(body === undefined ? null : body);
    });
  }

  /** The server's message for a refusal: its plain-text body, or the status. */
  function refusal(reply) {
    const text = (reply.text || "").trim();
    return text || "The server answered " + reply.status;
  }

  async function listing() {
    const reply = await request("GET", filesURL);
    if (reply.status !== 200) throw new Refused(refusal(reply));
    return JSON.parse(reply.text);
  }

  function row(file) {
    const item = document.createElement("li");
    const id = "upload-" + Math.random().toString(36).slice(2);
    const name = document.createElement("span");
    name.className = "upload-name";
    name.id = id;
    name.textContent = file.name + " (" + bytes(file.size) + ")";
    const bar = document.createElement("progress");
    bar.max = Math.max(file.size, 1);
    bar.value = 0;
    bar.setAttribute("aria-labelledby", id);
    const state = document.createElement("span");
    state.className = "upload-state";
    state.textContent = "Waiting";
    item.append(name, bar, state);
    list.append(item);
    return {
      progress: function (sent) { bar.value = Math.min(sent, file.size); },
      say: function (text) { state.textContent = text; },
      done: function () { bar.value = bar.max; state.textContent = "Uploaded"; item.classList.add("upload-done"); },
      fail: function (text) { state.textContent = text; item.classList.add("upload-failed"); },
    };
  }

  function pause(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  /** Sends one file in parts, resuming from the server's offset; true once the draft holds it. */
  async function upload(file, view) {
    const url = filesURL + "/" + encodeURIComponent(file.name);
    let failures = 0;
    for (;;) {
      try {
        let offset = resumeOffset(await listing(), file.name, file.size);
        if (offset < 0) {
          const removed = await request("DELETE", url);
          if (removed.status !== 204) throw new Refused(refusal(removed));
          offset = 0;
        }
        if (file.size === 0) {
          // The API explains that empty files are refused; let it say so.
          const reply = await request("PUT", url, file, { "Content-Type": "application/octet-stream" });
          if (reply.status === 201) { view.done(); return true; }
          throw new Refused(refusal(reply));
        }
        if (offset > 0) view.say("Resuming after " + bytes(offset));
        let part = nextPart(offset, file.size, CHUNK);
        while (part) {
          const start = part.start;
          view.say(start > 0 ? "Uploading from " + bytes(start) : "Uploading");
          const reply = await request(
            "PUT", url, file.slice(part.start, part.end + 1),
            { "Content-Type": "application/octet-stream", "Content-Range": part.header },
            function (loaded) { view.progress(start + loaded); });
          if (reply.status === 201) { view.done(); return true; }
          if (reply.status === 202) {
            offset = JSON.parse(reply.text).received;
          } else if (reply.status === 416) {
            // Out of step with the server (another tab, a retry): ask where it stands.
            offset = resumeOffset(await listing(), file.name, file.size);
            if (offset < 0) throw new Refused(refusal(reply));
          } else if (reply.status >= 500 && reply.status !== 507) {
            throw new Error(refusal(reply));
          } else {
            throw new Refused(refusal(reply));
          }
          failures = 0;
          view.progress(offset);
          part = nextPart(offset, file.size, CHUNK);
        }
        view.fail("The server did not confirm the file; choose it again to resume.");
        return false;
      } catch (error) {
        if (error instanceof Refused) { view.fail(error.message); return false; }
        failures += 1;
        if (failures > 5) {
          view.fail(error.message + ". Choose the same file again to resume where it stopped.");
          return false;
        }
        const wait = Math.min(30, Math.pow(2, failures));
        view.say(error.message + "; resuming in " + wait + " s");
        await pause(wait * 1000);
      }
    }
  }

  async function start(files) {
    const chosen = Array.from(files || []);
    if (chosen.length === 0) return;
    busy += 1;
    const views = chosen.map(row);
    let ok = true;
    for (let index = 0; index < chosen.length; index += 1) {
      ok = (await upload(chosen[index], views[index])) && ok;
    }
    busy -= 1;
    if (ok && busy === 0) {
      const done = document.createElement("li");
      done.textContent = "All files uploaded; showing them…";
      list.append(done);
      window.location.reload();
    }
  }

  input.addEventListener("change", function () { start(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    start(event.dataTransfer && event.dataTransfer.files);
  });
})();
