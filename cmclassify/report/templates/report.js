// cmclassify report: language toggle and the ads table (sort, filter, pages). No data is read from
// the network and nothing is written as HTML: rows are server-rendered, the script only moves them.
(function () {
  "use strict";
  var root = document.documentElement;

  function setLang(lang) {
    root.setAttribute("data-lang", lang);
    document.querySelectorAll("[data-set-lang]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-set-lang") === lang));
    });
  }
  document.querySelectorAll("[data-set-lang]").forEach(function (button) {
    button.addEventListener("click", function () { setLang(button.getAttribute("data-set-lang")); });
  });
  setLang(root.getAttribute("data-lang") || "es");

  var table = document.getElementById("ads-table");
  if (!table) {
    root.setAttribute("data-report-ready", "1");
    return;
  }
  function byId(id) { return document.getElementById(id); }
  function fold(text) { return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, ""); }

  var body = table.tBodies[0];
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var items = Array.prototype.map.call(body.rows, function (row, i) {
    return { row: row, i: i, text: fold(row.textContent) };
  });
  var controls = {
    q: byId("f-search"), status: byId("f-status"), cm: byId("f-cm"),
    orientation: byId("f-orientation"), flag: byId("f-flag"), size: byId("f-size")
  };
  var pager = { prev: byId("pg-prev"), next: byId("pg-next"), info: byId("pg-info") };
  var state = { key: -1, dir: 1, page: 0 };

  function matches(item) {
    var data = item.row.dataset;
    var query = fold(controls.q.value.trim());
    if (query && item.text.indexOf(query) < 0) { return false; }
    if (controls.status.value && data.status !== controls.status.value) { return false; }
    if (controls.cm.value && data.cm !== controls.cm.value) { return false; }
    if (controls.orientation.value && data.orientation !== controls.orientation.value) { return false; }
    var flags = data.flags ? data.flags.split(" ") : [];
    var wanted = controls.flag.value;
    if (wanted === "any") { return flags.length > 0; }
    if (wanted === "none") { return flags.length === 0; }
    return !wanted || flags.indexOf(wanted) >= 0;
  }

  function sortValue(item, key, numeric) {
    var cell = item.row.cells[key];
    var value = cell.getAttribute("data-sort");
    if (value === null) { value = cell.textContent.trim(); }
    if (!numeric) { return fold(value); }
    return value === "" ? -Infinity : Number(value);
  }

  function compare(a, b) {
    if (state.key < 0) { return a.i - b.i; }
    var numeric = headers[state.key].getAttribute("data-type") === "num";
    var x = sortValue(a, state.key, numeric);
    var y = sortValue(b, state.key, numeric);
    var order = x < y ? -1 : x > y ? 1 : 0;
    return order * state.dir || a.i - b.i;
  }

  function render() {
    var size = Number(controls.size.value) || 100;
    var list = items.filter(matches).sort(compare);
    var pages = Math.max(1, Math.ceil(list.length / size));
    state.page = Math.min(state.page, pages - 1);
    var first = state.page * size;
    var shown = list.slice(first, first + size);
    items.forEach(function (item) { item.row.hidden = true; });
    var fragment = document.createDocumentFragment();
    shown.forEach(function (item) {
      item.row.hidden = false;
      fragment.appendChild(item.row);
    });
    body.insertBefore(fragment, body.firstChild);
    pager.info.textContent = list.length ?
      (first + 1) + "–" + (first + shown.length) + " / " + list.length : "0 / " + items.length;
    pager.prev.disabled = state.page === 0;
    pager.next.disabled = state.page >= pages - 1;
    table.setAttribute("data-visible", String(shown.length));
  }

  headers.forEach(function (th, index) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      if (state.key === index) {
        state.dir = -state.dir;
      } else {
        state.key = index;
        state.dir = th.getAttribute("data-type") === "num" ? -1 : 1;
      }
      headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      render();
    });
  });
  Object.keys(controls).forEach(function (key) {
    controls[key].addEventListener(key === "q" ? "input" : "change", function () {
      state.page = 0;
      render();
    });
  });
  pager.prev.addEventListener("click", function () { state.page -= 1; render(); });
  pager.next.addEventListener("click", function () { state.page += 1; render(); });
  byId("f-reset").addEventListener("click", function () {
    controls.q.value = "";
    ["status", "cm", "orientation", "flag"].forEach(function (key) { controls[key].value = ""; });
    state.key = -1;
    state.page = 0;
    headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
    render();
  });

  render();
  table.setAttribute("data-ready", String(items.length));
  root.setAttribute("data-report-ready", "1");
})();
