/* Connex dashboard: liquidation heatmap + consolidated book. Plain JS, no build step.
 *
 * The page reads its settings from <body data-*> attributes (set by the server) and
 * from the URL query, which wins:
 *   api base        data-api-base
 *   health poll     ?health_interval=<seconds>   or data-health-interval-ms (30000)
 *   book poll       ?book_interval=<seconds>     or data-book-interval-ms (2000)
 *   initial state   ?symbol=&exchanges=a,b&interval=5m&range=all|<seconds>&start=&end=
 *                   &price_bin=&layer=realized|estimated&view=heatmap|consolidated
 *   API key         ?key=<key> (sent as the data-key-header header; kept in sessionStorage)
 * Tests wait for window.__rendered (set after Plotly.newPlot resolves) and read
 * window.__renderCount / window.__lastHeatmap.
 */
(function () {
  "use strict";

  const body = document.body;
  const params = new URLSearchParams(window.location.search);
  const API = body.dataset.apiBase || "";
  const seconds = (name, attr, fallbackMs) => {
    const q = params.get(name);
    if (q !== null && q !== "" && !isNaN(Number(q)) && Number(q) > 0) return Number(q) * 1000;
    const a = Number(body.dataset[attr]);
    return a > 0 ? a : fallbackMs;
  };
  // Optional API key: ?key=... once, then kept in sessionStorage and removed from the URL.
  const KEY_HEADER = body.dataset.keyHeader || "X-Connex-Key";
  let apiKey = null;
  try {
    if (params.get("key")) {
      sessionStorage.setItem("connex.key", params.get("key"));
      params.delete("key");
      const q = params.toString();
      history.replaceState(null, "", window.location.pathname + (q ? "?" + q : ""));
    }
    apiKey = sessionStorage.getItem("connex.key");
  } catch (_) { apiKey = null; }
  const HEALTH_MS = seconds("health_interval", "healthIntervalMs", 30000);
  const BOOK_MS = seconds("book_interval", "bookIntervalMs", 2000);

  const state = {
    exchanges: [],          // [{name, color}]
    colors: {},             // name -> color
    selected: new Set(),    // chosen exchange names
    symbol: params.get("symbol") || "",
    view: params.get("view") === "consolidated" ? "consolidated" : "heatmap",
    loadSeq: 0,
    bookTimer: null,
  };
  window.__rendered = false;
  window.__renderCount = 0;
  window.__healthCount = 0;

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
    }
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const fmtUsd = (x) => {
    const n = Number(x);
    if (!isFinite(n)) return String(x);
    if (Math.abs(n) >= 1e6) return "$" + (n / 1e6).toFixed(2) + "M";
    if (Math.abs(n) >= 1e3) return "$" + (n / 1e3).toFixed(1) + "k";
    return "$" + n.toFixed(2);
  };
  const pct = (x) => (100 * x).toFixed(1) + "%";
  const nsToDate = (ns) => new Date(Number(ns) / 1e6);
  const isoMinute = (d) => d.toISOString().replace("T", " ").slice(0, 16);

  async function getJSON(path) {
    const headers = { Accept: "application/json" };
    if (apiKey) headers[KEY_HEADER] = apiKey;
    const resp = await fetch(API + path, { headers: headers });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      let msg = data.detail;
      if (Array.isArray(msg)) msg = msg.map((d) => (d.loc || []).slice(-1)[0] + ": " + d.msg).join("; ");
      const err = new Error(msg || resp.statusText);
      err.status = resp.status;
      throw err;
    }
    return data;
  }

  function showError(msg) {
    const box = $("error");
    box.textContent = msg || "";
    box.hidden = !msg;
  }

  function setLoading(on) {
    $("loading").hidden = !on;
    body.classList.toggle("is-loading", on);
  }

  // ---- setup -------------------------------------------------------------------

  async function init() {
    const info = await getJSON("/exchanges");
    state.exchanges = info.exchanges;
    for (const e of info.exchanges) state.colors[e.name] = e.color;
    const wanted = (params.get("exchanges") || "").split(",").filter(Boolean);
    for (const e of info.exchanges) if (!wanted.length || wanted.includes(e.name)) state.selected.add(e.name);

    const box = $("exchange-select");
    for (const e of info.exchanges) {
      const label = el("label", { class: "exchange", "data-exchange": e.name });
      const cb = el("input", { type: "checkbox", value: e.name, id: "ex-" + e.name });
      cb.checked = state.selected.has(e.name);
      cb.addEventListener("change", () => {
        if (cb.checked) state.selected.add(e.name); else state.selected.delete(e.name);
        reload();
      });
      label.append(cb, el("span", { class: "swatch", style: "background:" + e.color }), document.createTextNode(e.name));
      box.append(label);
    }

    let symbols = info.symbols || [];
    if (!symbols.length) {
      try {
        const recent = await getJSON("/liquidations?limit=500");
        symbols = [...new Set(recent.liquidations.map((r) => r.symbol))].sort();
      } catch (_) { symbols = []; }
    }
    if (state.symbol && !symbols.includes(state.symbol)) symbols.unshift(state.symbol);
    if (!state.symbol) state.symbol = symbols[0] || "";
    const sel = $("symbol");
    for (const s of symbols) sel.append(el("option", { value: s }, s));
    sel.value = state.symbol;
    sel.addEventListener("change", () => { state.symbol = sel.value; reload(); });

    for (const [id, key] of [["interval", "interval"], ["price-bin", "price_bin"], ["layer", "layer"]]) {
      if (params.get(key)) $(id).value = params.get(key);
    }
    const range = params.get("range");
    if (range) {
      if (![...$("range").options].some((o) => o.value === range)) $("range").append(el("option", { value: range }, range + " s"));
      $("range").value = range;
    }
    for (const id of ["interval", "range", "layer"]) $(id).addEventListener("change", () => loadHeatmap());
    $("price-bin").addEventListener("change", () => loadHeatmap());

    for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showView(tab.dataset.view));
    $("book-interval").textContent = (BOOK_MS / 1000).toString();

    pollHealth();
    setInterval(pollHealth, HEALTH_MS);
    showView(state.view);
    await loadHeatmap();
  }

  function showView(view) {
    state.view = view;
    for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.view === view);
    $("view-heatmap").hidden = view !== "heatmap";
    $("view-consolidated").hidden = view !== "consolidated";
    for (const e of document.querySelectorAll(".heatmap-only")) e.classList.toggle("disabled", view !== "heatmap");
    if (state.bookTimer) { clearInterval(state.bookTimer); state.bookTimer = null; }
    if (view === "consolidated") {
      loadConsolidated();
      state.bookTimer = setInterval(loadConsolidated, BOOK_MS);
    } else if (window.Plotly) {
      for (const id of ["heatmap", "breakdown"]) if ($(id).data) Plotly.Plots.resize($(id));
    }
  }

  function reload() {
    if (state.view === "consolidated") loadConsolidated();
    return loadHeatmap();
  }

  // ---- health badges -----------------------------------------------------------

  async function pollHealth() {
    try {
      const data = await getJSON("/exchanges/health");
      const box = $("health");
      box.replaceChildren();
      for (const h of data.exchanges) {
        const badge = el("span", {
          class: "badge " + (h.ok ? "ok" : "down"),
          "data-exchange": h.exchange,
          "data-ok": String(!!h.ok),
          title: h.exchange + ": " + h.status + (h.detail ? " — " + h.detail : ""),
        }, h.exchange);
        box.append(badge);
      }
      window.__healthCount += 1;
    } catch (err) {
      for (const b of document.querySelectorAll(".badge")) { b.className = "badge down"; b.dataset.ok = "false"; }
    }
  }

  // ---- heatmap -----------------------------------------------------------------

  function heatmapQuery() {
    const q = new URLSearchParams();
    q.set("symbol", state.symbol);
    q.set("exchanges", [...state.selected].join(","));
    q.set("interval", $("interval").value);
    q.set("estimated", $("layer").value === "estimated" ? "true" : "false");
    const bin = $("price-bin").value.trim();
    if (bin) q.set("price_bin", bin);
    if (params.get("start") || params.get("end")) {
      if (params.get("start")) q.set("start", params.get("start"));
      if (params.get("end")) q.set("end", params.get("end"));
    } else if ($("range").value !== "all") {
      const now = Date.now();
      q.set("start", String(BigInt(now - Number($("range").value) * 1000) * 1000000n));
      q.set("end", String(BigInt(now) * 1000000n));
    }
    return q;
  }

  /* Turn the sparse cells of one layer into dense matrices:
   * total[pi][ti] and per exchange by[ex][pi][ti] (notional, numbers for plotting). */
  function densify(layer, exchanges) {
    const times = layer.times || [];
    const prices = layer.prices || [];
    const ti = new Map(times.map((t, i) => [String(t), i]));
    const pi = new Map(prices.map((p, i) => [String(p), i]));
    const blank = () => prices.map(() => times.map(() => 0));
    const total = blank();
    const by = {};
    for (const ex of exchanges) by[ex] = blank();
    const perTime = {};
    for (const ex of exchanges) perTime[ex] = times.map(() => 0);
    for (const c of layer.cells || []) {
      const i = pi.get(String(c.price)), j = ti.get(String(c.t));
      if (i === undefined || j === undefined) continue;
      const n = Number(c.notional);
      total[i][j] += n;
      if (!by[c.exchange]) { by[c.exchange] = blank(); perTime[c.exchange] = times.map(() => 0); }
      by[c.exchange][i][j] += n;
      perTime[c.exchange][j] += n;
    }
    return { times, prices, total, by, perTime };
  }

  function hoverText(d, names, binWidth) {
    return d.prices.map((p, i) => d.times.map((t, j) => {
      const tot = d.total[i][j];
      if (!tot) return "";
      const hi = (Number(p) + binWidth).toString();
      const lines = [isoMinute(nsToDate(t)) + " UTC", "price " + p + " – " + hi, "total " + fmtUsd(tot)];
      for (const ex of names) {
        const v = d.by[ex] ? d.by[ex][i][j] : 0;
        if (v) lines.push(ex + ": " + pct(v / tot) + " (" + fmtUsd(v) + ")");
      }
      return lines.join("<br>");
    }));
  }

  const darkLayout = (extra) => Object.assign({
    paper_bgcolor: "#0f1419", plot_bgcolor: "#0f1419",
    font: { color: "#e6e9ec", size: 12 },
    margin: { l: 70, r: 110, t: 30, b: 40 },
    xaxis: { type: "date", gridcolor: "#26303a" },
    yaxis: { gridcolor: "#26303a" },
  }, extra);

  async function loadHeatmap() {
    const seq = ++state.loadSeq;
    window.__rendered = false;
    setLoading(true);
    showError("");
    try {
      if (!state.symbol) throw new Error("no symbol with data yet");
      if (!state.selected.size) throw new Error("select at least one exchange");
      const data = await getJSON("/liquidations/heatmap-timeseries?" + heatmapQuery().toString());
      if (seq !== state.loadSeq) return;  // a newer request is on its way
      await render(data);
      if (seq !== state.loadSeq) return;
      window.__lastHeatmap = data;
      window.__renderCount += 1;
      window.__rendered = true;
    } catch (err) {
      if (seq === state.loadSeq) showError(err.message);
    } finally {
      if (seq === state.loadSeq) setLoading(false);
    }
  }

  function render(data) {
    const names = data.exchanges || [...state.selected];
    const colors = Object.assign({}, state.colors, data.colors || {});
    const layerName = $("layer").value === "estimated" ? "estimated" : "realized";
    const layer = data[layerName] || { times: [], prices: [], cells: [] };
    const binWidth = Number(data.price_bin);
    const d = densify(layer, names);
    const z = d.total.map((row) => row.map((v) => (v ? v : null)));
    const heat = {
      type: "heatmap",
      name: layerName,
      x: d.times.map(nsToDate),
      y: d.prices.map(Number),
      z: z,
      text: hoverText(d, names, binWidth),
      hovertemplate: "%{text}<extra>" + layerName + "</extra>",
      colorscale: layerName === "estimated" ? "Viridis" : "YlOrRd",
      reversescale: layerName !== "estimated",
      colorbar: { title: { text: "notional" }, thickness: 14, x: 1.01, xpad: 6 },
      hoverongaps: false,
    };
    const title = data.symbol + " — " + (layerName === "estimated" ? "estimated liquidation levels (model)" : "realized liquidations")
      + " · " + names.join(", ");
    const heatLayout = darkLayout({
      title: { text: title, font: { size: 14 } },
      yaxis: { title: { text: "price" }, gridcolor: "#26303a" },
    });

    // Stacked bars: notional per time bucket and exchange, hover shows the share.
    const bucketTotal = d.times.map((_, j) => names.reduce((s, ex) => s + (d.perTime[ex] ? d.perTime[ex][j] : 0), 0));
    const bars = names.map((ex) => ({
      type: "bar",
      name: ex,
      x: d.times.map(nsToDate),
      y: d.perTime[ex] || d.times.map(() => 0),
      marker: { color: colors[ex] },
      customdata: (d.perTime[ex] || []).map((v, j) => (bucketTotal[j] ? v / bucketTotal[j] : 0)),
      hovertemplate: ex + ": %{y:,.0f} (%{customdata:.1%} of bucket)<extra></extra>",
    }));
    const barLayout = darkLayout({
      barmode: "stack",
      title: { text: "notional per exchange (" + layerName + ")", font: { size: 13 } },
      legend: { orientation: "h", y: -0.25, traceorder: "normal" },
      showlegend: true,
    });

    renderSummary(data, layerName, names, colors);
    const config = { displaylogo: false, responsive: true };
    return Promise.all([
      Plotly.newPlot($("heatmap"), [heat], heatLayout, config),
      Plotly.newPlot($("breakdown"), bars, barLayout, config),
    ]).then((plots) => {
      // Zooming the time axis of one chart zooms the other.
      const link = (src, dst) => src.on("plotly_relayout", (ev) => {
        if (state.linking) return;
        const upd = {};
        if (ev["xaxis.range[0]"] !== undefined) {
          upd["xaxis.range"] = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
        } else if (ev["xaxis.autorange"]) {
          upd["xaxis.autorange"] = true;
        } else {
          return;
        }
        state.linking = true;
        Plotly.relayout(dst, upd).finally(() => { state.linking = false; });
      });
      link(plots[0], plots[1]);
      link(plots[1], plots[0]);
      return plots;
    });
  }

  function renderSummary(data, layerName, names, colors) {
    const box = $("summary");
    box.replaceChildren();
    const layer = data[layerName] || {};
    const by = layer.by_exchange || {};
    const total = names.reduce((s, ex) => s + Number((by[ex] || {}).notional || 0), 0);
    box.append(document.createTextNode(layerName === "estimated" ? "Estimated open levels: " : "Realized: "));
    for (const ex of names) {
      const v = by[ex] || {};
      const span = el("span", { class: "share", "data-exchange": ex });
      span.append(el("span", { class: "swatch", style: "background:" + colors[ex] }));
      let text = ex + " " + fmtUsd(v.notional || 0);
      if (v.count !== undefined) text += " / " + v.count + " liq.";
      if (total) text += " (" + pct(Number(v.notional || 0) / total) + ")";
      span.append(document.createTextNode(text + "  "));
      box.append(span);
    }
    if (layerName === "estimated" && layer.source) box.append(document.createTextNode(" — source: " + layer.source));
  }

  // ---- consolidated book, spreads, arbitrage --------------------------------------

  const cell = (text, cls) => el("td", cls ? { class: cls } : {}, text === undefined || text === null ? "" : String(text));

  function fillTable(id, rows) {
    const tbody = $(id).querySelector("tbody");
    tbody.replaceChildren(...rows);
  }

  async function loadConsolidated() {
    if (!state.symbol) return;
    const q = new URLSearchParams({ depth: "15", exchanges: [...state.selected].join(",") });
    try {
      const data = await getJSON("/consolidated/" + encodeURIComponent(state.symbol) + "?" + q.toString());
      renderConsolidated(data);
      $("book-updated").textContent = new Date().toISOString().slice(11, 19) + " UTC";
      showError("");
    } catch (err) {
      showError("consolidated: " + err.message);
    }
  }

  const levelSize = (lv) => (lv.size !== undefined ? lv.size : lv[1]);
  const levelPrice = (lv) => (lv.price !== undefined ? lv.price : lv[0]);
  const levelVenues = (lv) => {
    const by = lv.by_exchange || lv.exchanges;
    if (!by) return "";
    return Object.entries(by).map(([k, v]) => k + " " + v).join(", ");
  };

  function renderConsolidated(data) {
    const c = data.consolidated;
    const sum = $("consolidated-summary");
    sum.replaceChildren();
    if (c) {
      sum.append(document.createTextNode(
        "Best bid " + (c.bid || "–") + " (" + (c.bid_exchange || "–") + ") · best ask " + (c.ask || "–")
        + " (" + (c.ask_exchange || "–") + ") · spread " + (c.spread || "–")
        + (c.spread_bps ? " (" + c.spread_bps + " bp)" : "") + " "));
      if (c.crossed) sum.append(el("span", { class: "crossed" }, "CROSSED"));
    }
    const bids = (data.book && data.book.bids) || [];
    const asks = (data.book && data.book.asks) || [];
    const rows = [];
    for (let i = 0; i < Math.max(bids.length, asks.length); i++) {
      const b = bids[i], a = asks[i];
      const tr = el("tr");
      tr.append(
        cell(b ? levelVenues(b) : "", "venues"), cell(b ? levelSize(b) : "", "bid"), cell(b ? levelPrice(b) : "", "bid"),
        cell(a ? levelPrice(a) : "", "ask"), cell(a ? levelSize(a) : "", "ask"), cell(a ? levelVenues(a) : "", "venues"));
      rows.push(tr);
    }
    fillTable("book-table", rows);

    const best = data.best || {};
    fillTable("best-table", Object.entries(best).map(([ex, v]) => {
      const tr = el("tr", { "data-exchange": ex });
      const name = cell(ex, "name");
      name.prepend(el("span", { class: "swatch", style: "background:" + (state.colors[ex] || "#888") }));
      const bid = v.bid !== undefined ? v.bid : v.bid_price;
      const ask = v.ask !== undefined ? v.ask : v.ask_price;
      const spread = v.spread !== undefined ? v.spread : (bid !== undefined && ask !== undefined ? (Number(ask) - Number(bid)).toPrecision(6) : "");
      tr.append(name, cell(bid, "bid"), cell(ask, "ask"), cell(spread));
      return tr;
    }));

    fillTable("spread-table", (data.spreads || []).map((s) => {
      const tr = el("tr");
      tr.append(cell(s.buy_exchange, "name"), cell(s.sell_exchange, "name"), cell(s.buy_price !== undefined ? s.buy_price : s.ask),
        cell(s.sell_price !== undefined ? s.sell_price : s.bid), cell(s.spread), cell(s.spread_bps !== undefined ? s.spread_bps : s.bps));
      return tr;
    }));

    const arbs = data.arbitrage || [];
    fillTable("arb-table", arbs.length ? arbs.map((a) => {
      const tr = el("tr", { class: "arb" });
      tr.append(cell(a.buy_exchange, "name"), cell(a.sell_exchange, "name"), cell(a.buy_price), cell(a.sell_price),
        cell(a.size), cell(a.profit_bps !== undefined ? a.profit_bps : a.spread_bps), cell(a.net_profit));
      return tr;
    }) : [(() => { const tr = el("tr"); const td = cell("none right now", "name"); td.colSpan = 7; tr.append(td); return tr; })()]);
  }

  init().catch((err) => { showError(err.message); setLoading(false); });
})();
