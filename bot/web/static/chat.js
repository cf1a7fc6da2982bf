// The web chat: posts what the person says or presses, and shows the bot's replies.
// The server keeps both in its inbox and outbox; this page only draws them.
(function () {
  "use strict";
  var chat = document.getElementById("chat");
  var lines = document.getElementById("lines");
  var form = document.getElementById("say");
  var input = document.getElementById("text");
  var photo = document.getElementById("photo");
  var jobs = document.getElementById("jobs");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var cursor = { in: 0, out: 0 };
  var shown = {};
  // Buttons of a conversation's step ("c:…") belong to that question only; once the bot has
  // asked something newer they are shown as spent (pressing one would only be refused).
  var stepButtons = [];
  // Each bot line by the message it stands for: a later reply may replace it (a card acted on,
  // a picker redrawn), and then the old line and its buttons are gone.
  var lineOf = {};
  var busy = false;
  // The page drew the bar from the person's roles as they are now: menu lines of the history
  // loaded with the page are older than that, only later ones redraw it.
  var loaded = false;

  function newId() {
    var a = new Uint32Array(2);
    crypto.getRandomValues(a);
    return (a[0] % 1048576) * 4294967296 + a[1] + 1;
  }

  // The newest line sits just above the dock (the job buttons and the input), never under it:
  // the dock is the page's last element, so the very bottom of the page shows both.
  function toBottom() {
    window.scrollTo(0, document.documentElement.scrollHeight);
  }

  // The person's main jobs changed (a role given): redraw the button bar.
  function drawJobs(list) {
    jobs.textContent = "";
    list.forEach(function (job) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "secondary";
      btn.dataset.button = job[1];
      btn.textContent = job[0];
      jobs.appendChild(btn);
    });
  }

  function note(text) {
    var li = document.createElement("li");
    li.className = "line notice";
    li.setAttribute("role", "alert");
    li.textContent = text;
    lines.appendChild(li);
    toBottom();
  }

  function draw(m) {
    if (shown[m.id]) return;
    shown[m.id] = true;
    var n = parseInt(m.id.replace(/^\D+/, ""), 10);
    if (m.mine) cursor.in = Math.max(cursor.in, n); else cursor.out = Math.max(cursor.out, n);
    if (m.menu) { if (loaded) drawJobs(m.menu.jobs); return; }
    var hint = document.getElementById("start-hint");
    if (hint && !m.mine) hint.remove(); // the conversation has begun
    var li = document.createElement("li");
    li.className = "line " + (m.mine ? "mine" : "bot");
    var ref = m.replaces || m.id;
    var old = m.replaces ? lineOf[m.replaces] : null;
    if (old) li.classList.add("edited");
    if (m.photo) {
      var img = document.createElement("img");
      img.src = m.photo;
      img.alt = "";
      img.addEventListener("load", toBottom);
      li.appendChild(img);
    }
    var body = document.createElement("div");
    body.className = "text";
    if (m.mine) body.textContent = m.text; else body.innerHTML = m.html; // sanitised by the server
    li.appendChild(body);
    if (m.qr) {
      var qr = document.createElement("div");
      qr.className = "qr-code";
      qr.innerHTML = m.qr; // an SVG the server drew from the code, nothing typed by anyone
      li.appendChild(qr);
    }
    if (m.document) {
      var a = document.createElement("a");
      a.href = m.document.url;
      a.className = "button secondary";
      a.setAttribute("download", m.document.name);
      a.textContent = chat.dataset.download + ": " + m.document.name;
      li.appendChild(a);
    }
    if (!m.mine && !m.replaces) {
      stepButtons.forEach(function (old) { old.disabled = true; old.classList.add("spent"); });
      stepButtons = [];
    }
    (m.buttons || []).forEach(function (row) {
      var div = document.createElement("div");
      div.className = "buttons";
      row.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "choice";
        btn.textContent = b[0];
        btn.addEventListener("click", function () {
          send({ button: b[1], label: b[0], message: ref.replace(/^\D+/, "") });
        });
        if (b[1].indexOf("c:") === 0) stepButtons.push(btn);
        div.appendChild(btn);
      });
      li.appendChild(div);
    });
    if (m.ask_phone) {
      var p = document.createElement("form");
      p.className = "phone";
      var field = document.createElement("input");
      field.type = "tel";
      field.required = true;
      field.setAttribute("aria-label", chat.dataset.phone);
      field.placeholder = chat.dataset.phone;
      var ok = document.createElement("button");
      ok.type = "submit";
      ok.textContent = m.ask_phone;
      p.appendChild(field);
      p.appendChild(ok);
      p.addEventListener("submit", function (e) {
        e.preventDefault();
        send({ phone: field.value, label: field.value });
      });
      li.appendChild(p);
    }
    if (!m.mine) lineOf[ref] = li;
    if (old) {
      lines.replaceChild(li, old); // the old buttons go with it
      return;
    }
    lines.appendChild(li);
    toBottom();
  }

  function took(response) {
    if (response.status === 401) { note(chat.dataset.signedOut); return null; }
    return response.json().then(function (data) {
      if (data.error) { note(data.error); return; }
      (data.messages || []).forEach(draw);
      loaded = true;
    });
  }

  // One message at a time, in the order they were sent: a quick second one waits its turn.
  var queue = Promise.resolve();

  function send(what) {
    what.id = newId();
    queue = queue.then(function () {
      busy = true;
      what.in = cursor.in;
      what.out = cursor.out;
      return fetch("/chat/say", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(what),
        credentials: "same-origin"
      }).then(took).catch(function () { note(chat.dataset.error); })
        .finally(function () { busy = false; });
    });
  }

  function poll() {
    if (busy) return;
    fetch("/chat/messages?in=" + cursor.in + "&out=" + cursor.out, { credentials: "same-origin" })
      .then(took).catch(function () {});
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text: text });
  });
  jobs.addEventListener("click", function (e) {
    var b = e.target.closest("[data-button]");
    if (b) send({ button: b.dataset.button, label: b.textContent });
  });
  // A photo, or a file (the office's resident list for /import), goes up in the queue like a
  // message: the field names which, and the server takes it as the person's next line.
  function upload(input, field) {
    input.addEventListener("change", function () {
      if (!input.files.length) return;
      var file = input.files[0];
      var id = String(newId());
      input.value = "";
      queue = queue.then(function () {
        busy = true;
        var data = new FormData();
        data.append(field, file, file.name);
        data.append("id", id);
        data.append("in", String(cursor.in));
        data.append("out", String(cursor.out));
        return fetch("/chat/say", {
          method: "POST", headers: { "X-CSRF-Token": csrf }, body: data, credentials: "same-origin"
        }).then(took).catch(function () { note(chat.dataset.error); })
          .finally(function () { busy = false; });
      });
    });
  }
  upload(photo, "photo");
  upload(document.getElementById("document"), "document");
  poll();
  setInterval(poll, 4000);
})();
