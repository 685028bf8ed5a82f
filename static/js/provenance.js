/* Bambi: read the provenance record Bambi writes into every image it stores (prompt, model,
   settings: generations/provenance.py), from a file the user picks or drops.

   In the browser, on purpose: the file never leaves the user's machine, and the server parses
   no XML from strangers. Bambi's XMP packet is stored uncompressed in PNG, JPEG and WebP alike,
   so finding `<bambi:Provenance>…</bambi:Provenance>` in the bytes is enough for all three.
   window.BambiProvenance.read(file) -> Promise of the record (an object) or null. */
(function () {
  "use strict";

  var OPEN = "<bambi:Provenance>";
  var CLOSE = "</bambi:Provenance>";
  var ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };

  function ascii(text) {
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  function indexOf(haystack, needle, from) {
    var first = needle[0];
    outer: for (var i = from || 0; i <= haystack.length - needle.length; i++) {
      if (haystack[i] !== first) continue;
      for (var j = 1; j < needle.length; j++) {
        if (haystack[i + j] !== needle[j]) continue outer;
      }
      return i;
    }
    return -1;
  }

  function recordIn(buffer) {
    var bytes = new Uint8Array(buffer);
    var start = indexOf(bytes, ascii(OPEN), 0);
    if (start < 0) return null;
    var end = indexOf(bytes, ascii(CLOSE), start);
    if (end < 0) return null;
    var escaped = new TextDecoder("utf-8").decode(bytes.subarray(start + OPEN.length, end));
    var text = escaped.replace(/&(amp|lt|gt|quot|#x27|#39);/g, function (entity) {
      return ENTITIES[entity];
    });
    try {
      var record = JSON.parse(text);
      return record && typeof record === "object" && record.software === "Bambi AI" ? record : null;
    } catch (error) {
      return null;
    }
  }

  function read(file) {
    if (typeof file.arrayBuffer === "function") {
      return file.arrayBuffer().then(recordIn);
    }
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(recordIn(reader.result)); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(file);
    });
  }

  window.BambiProvenance = { read: read, recordIn: recordIn };
})();
