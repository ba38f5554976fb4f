// wahdx-tui wall: one event stream from serve; a snapshot, then deltas applied in place.
// Every text from the API or a label is set with textContent: nothing is ever parsed as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const rows = new Map(); // id -> {tr, data}
  let order = [];
  let common = {};
  let skew = 0; // serve's clock minus this browser's, in ms
  let source = null;
  let lost = null; // why the stream is down, shown as a banner
  let retry = null;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function num(n) {
    return Number(n || 0).toLocaleString("en-US");
  }

  function age(since) {
    if (since === null || since === undefined) return "—";
    const s = Math.max(0, Math.floor((Date.now() + skew) / 1000 - since));
    if (s < 60) return "<1m";
    const m = Math.floor(s / 60);
    if (m < 60) return m + "m";
    const h = Math.floor(m / 60);
    if (h < 48) return h + "h" + String(m % 60).padStart(2, "0");
    return Math.floor(h / 24) + "d" + String(h % 24).padStart(2, "0") + "h";
  }

  function clock(epoch) {
    if (!epoch) return "";
    const d = new Date(epoch * 1000);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  // -- the filter (from the address, so a wall's URL says what it shows) --------------------

  function wanted() {
    const params = new URLSearchParams(location.search);
    return {
      state: params.get("state") || "attention",
      account: params.get("account") || "",
      q: params.get("q") || "",
    };
  }

  function query(f) {
    const params = new URLSearchParams();
    if (f.state && f.state !== "attention") params.set("state", f.state);
    if (f.account) params.set("account", f.account);
    if (f.q) params.set("q", f.q);
    const text = params.toString();
    return text ? "?" + text : "";
  }

  function showFilter(f) {
    $("f-state").value = f.state;
    $("f-account").value = f.account;
    $("f-q").value = f.q;
    const names = { attention: "failed, stuck, unknown to the API", all: "every post" };
    let title = names[f.state] || f.state;
    if (f.account) title += " · " + f.account;
    if (f.q) title += " · “" + f.q + "”";
    $("list-title").textContent = title;
    $("empty").textContent = f.state === "attention" && !f.account && !f.q
      ? "nothing failed, stuck or unknown to the API" : "no post matches";
  }

  // -- rows ---------------------------------------------------------------------------------

  function fillRow(tr, r) {
    tr.className = [r.state, r.stuck ? "stuck" : "", r.acked ? "acked" : "", r.stale ? "stale" : "",
      r.not_known ? "not-known" : ""].filter(Boolean).join(" ");
    const cells = tr.children;
    cells[0].textContent = r.stuck ? "⚠ STUCK" : r.word;
    const post = cells[1];
    post.children[0].textContent = r.label;
    post.children[1].textContent = r.publish;
    post.children[2].textContent = r.acked ? "acknowledged" + (r.note ? ": " + r.note : "") : "";
    cells[2].textContent = r.account;
    const reason = cells[3];
    reason.children[0].textContent = r.reason || (r.stuck ? "stuck " + r.state
      : r.not_known ? "not known to the API" : "");
    reason.children[1].textContent = r.detail;
    cells[4].textContent = age(r.since);
  }

  function newRow() {
    const tr = el("tr");
    tr.appendChild(el("td", "state"));
    const post = el("td", "post");
    post.appendChild(el("span", "label"));
    post.appendChild(el("span", "id"));
    post.appendChild(el("span", "note"));
    tr.appendChild(post);
    tr.appendChild(el("td", "account"));
    const reason = el("td", "reason");
    reason.appendChild(el("span", "what"));
    reason.appendChild(el("span", "detail"));
    tr.appendChild(reason);
    tr.appendChild(el("td", "age"));
    return tr;
  }

  function upsert(list) {
    for (const r of list) {
      let entry = rows.get(r.id);
      if (!entry) {
        entry = { tr: newRow(), data: r };
        rows.set(r.id, entry);
      }
      entry.data = r;
      fillRow(entry.tr, r);
    }
  }

  function remove(ids) {
    for (const id of ids) {
      const entry = rows.get(id);
      if (entry) {
        entry.tr.remove();
        rows.delete(id);
      }
    }
  }

  function place(ids) {
    // Moves only what is out of place: a row already where it belongs is left alone.
    order = ids;
    const body = $("rows");
    let at = body.firstChild;
    for (const id of ids) {
      const entry = rows.get(id);
      if (!entry) continue;
      if (entry.tr === at) {
        at = at.nextSibling;
      } else {
        body.insertBefore(entry.tr, at);
      }
    }
    $("empty").hidden = ids.length > 0;
  }

  function more(n) {
    $("more").textContent = n > 0
      ? "+ " + num(n) + " more: narrow them down with the filter above" : "";
  }

  // -- the rest of the page ----------------------------------------------------------------------

  function counts(c) {
    const tiles = {
      failed: [c.failed, c.acknowledged ? num(c.unreviewed) + " unreviewed · " + num(c.acknowledged) + " acknowledged" : ""],
      stuck: [c.stuck, ""],
      processing: [c.processing, ""],
      queued: [c.queued, ""],
      published: [c.published, ""],
      unknown: [c.unknown, c.not_known ? num(c.not_known) + " not known to the API" : ""],
    };
    for (const [name, [n, sub]] of Object.entries(tiles)) {
      const tile = $("c-" + name);
      tile.querySelector(".n").textContent = num(n);
      tile.querySelector(".sub").textContent = sub;
      tile.classList.toggle("zero", !n);
    }
    $("c-failed").classList.toggle("alarm", c.unreviewed > 0);
    $("c-stuck").classList.toggle("alarm", c.stuck > 0);
    $("c-unknown").classList.toggle("alarm", c.not_known > 0);
    $("totals").textContent = num(c.total) + " posts watched" +
      (c.stale ? " · " + num(c.stale) + " stale (not answered at the last look)" : "");
    document.title = (c.unreviewed ? "✗ " + num(c.unreviewed) + " failed · " : "") + "wahdx-tui wall";
  }

  function accounts(list) {
    const box = $("accounts");
    clear(box);
    for (const a of list) {
      const li = el("li", a.unreviewed ? "bad" : a.stuck ? "warn" : a.failed ? "" : "ok");
      const glyph = a.unreviewed ? "✗ " : a.stuck ? "⚠ " : a.failed ? "· " : "✓ ";
      li.appendChild(el("span", "name", glyph + a.account));
      const nums = [a.platform || "—", num(a.posts) + " posts"];
      if (a.failed) nums.push(num(a.failed) + " failed" + (a.unreviewed !== a.failed ? " (" + num(a.unreviewed) + " unreviewed)" : ""));
      if (a.stuck) nums.push(num(a.stuck) + " stuck");
      li.appendChild(el("span", "nums", nums.join(" · ")));
      if (a.reason) li.appendChild(el("span", "why", a.reason + ": " + a.detail));
      box.appendChild(li);
    }
  }

  function trend(hours) {
    const box = $("trend");
    clear(box);
    const peak = Math.max(1, ...hours);
    hours.forEach((n, i) => {
      const bar = el("span", n ? "" : "none");
      bar.style.height = Math.max(2, (n / peak) * 100) + "%";
      bar.title = (hours.length - i - 1) + " h ago: " + n;
      box.appendChild(bar);
    });
    const total = hours.reduce((a, b) => a + b, 0);
    $("trend-text").textContent = num(total) + " in 24 h · " + num(hours[hours.length - 1] || 0) +
      " in the last hour · peak " + num(Math.max(0, ...hours)) + "/h";
  }

  function banners(list) {
    const box = $("banners");
    clear(box);
    const all = lost ? [{ text: lost, since: null }, ...(list || [])] : list || [];
    for (const b of all) {
      box.appendChild(el("div", b.kind || "lost", b.text + (b.since ? " since " + clock(b.since) : "")));
    }
  }

  function meta(m) {
    const last = m.last_pass ? "last complete pass " + clock(m.last_pass) : "no complete pass yet";
    $("source").textContent = m.via + " · " + last + " · every " + m.interval + " s";
  }

  function take(part) {
    if (part.counts) counts(part.counts);
    if (part.accounts) accounts(part.accounts);
    if (part.trend) trend(part.trend);
    if (part.banners) { common.banners = part.banners; banners(part.banners); }
    if (part.meta) meta(part.meta);
    if (part.remove) remove(part.remove);
    if (part.upsert) upsert(part.upsert);
    if (part.order) place(part.order);
    if (part.more !== undefined) more(part.more);
  }

  function snapshot(s) {
    skew = s.now ? s.now * 1000 - Date.now() : 0;
    remove([...rows.keys()]);
    take({ ...s, upsert: s.rows, order: s.rows.map((r) => r.id) });
  }

  // -- the stream -------------------------------------------------------------------------------

  function down(why) {
    lost = why;
    banners(common.banners);
  }

  function connect() {
    if (source) source.close();
    clearTimeout(retry);
    const f = wanted();
    showFilter(f);
    source = new EventSource("/events" + query(f));
    source.addEventListener("snapshot", (e) => { lost = null; snapshot(JSON.parse(e.data)); });
    source.addEventListener("delta", (e) => take(JSON.parse(e.data)));
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) {
        down("connection to serve lost: reconnecting");
        return;
      }
      // Refused outright: not signed in, a bad filter, or serve is gone. Ask why.
      const probe = new AbortController();
      fetch("/events" + query(f), { signal: probe.signal })
        .then((r) => {
          if (r.status === 400) return r.json().then((j) => down("filter: " + j.error));
          probe.abort(); // a stream that answers is not read here: connect() starts again
          if (r.status === 401) return down("this screen needs a token: open the wall's address with ?token=…");
          if (!r.ok) return down("serve answered " + r.status + ": retrying");
          return null;
        })
        .catch(() => down("serve is not answering: retrying"))
        .finally(() => { retry = setTimeout(connect, 5000); });
    };
  }

  $("filter").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = { state: $("f-state").value, account: $("f-account").value.trim(), q: $("f-q").value.trim() };
    history.replaceState(null, "", location.pathname + query(f));
    connect();
  });

  function theme(name) {
    document.documentElement.dataset.theme = name;
    $("theme").textContent = name === "contrast" ? "dark theme" : "high contrast";
    try { localStorage.setItem("wahdx-wall-theme", name); } catch (e) { /* private mode */ }
  }
  $("theme").addEventListener("click", () => {
    theme(document.documentElement.dataset.theme === "contrast" ? "dark" : "contrast");
  });
  const asked = new URLSearchParams(location.search).get("theme");
  let kept = null;
  try { kept = localStorage.getItem("wahdx-wall-theme"); } catch (e) { /* private mode */ }
  theme(asked === "contrast" || (!asked && kept === "contrast") ? "contrast" : "dark");

  // Ages and the clock move with time, not with events.
  setInterval(() => {
    for (const entry of rows.values()) entry.tr.children[4].textContent = age(entry.data.since);
    $("clock").textContent = new Date().toLocaleTimeString();
  }, 10000);
  $("clock").textContent = new Date().toLocaleTimeString();

  connect();
})();
