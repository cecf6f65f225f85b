/*
 * media-panels.js: one renderer per media kind, for the run page (run-media.js) and the compare view.
 *
 * Reads: the items of TrackerData.media[runId] (data/media/<slug>.js, docs/site-data.md), and the
 * data of the JSON kinds and text from the scripts media/<aa>/<sha256>.js, which load() inserts on
 * demand and which fill TrackerData.mediaFiles[<sha256>]. Needs window.Plotly (plotly figures,
 * histograms, ROC/PR curves) and window.TrackerChartStyle (chart-style.js) loaded before any
 * renderer runs; reads no other module's global while it loads.
 *
 * Exposes: window.TrackerMediaPanels = {KINDS, STEPPED_KINDS, DATA_KINDS, renderers, render, load,
 *   itemAt, leftOutNotice, safeFigure, whenNear, drawNearNow, stopWaiting, waitingBody, bodyDrawn}.
 *   renderers[kind](container, items, options) -> Promise, one per kind of docs/format.md:
 *     image, table, figure, histogram, text, audio, video, confusion_matrix, roc_curve, pr_curve,
 *     feature_importance. It empties `container` and draws `items` into it.
 *     items:   the items to draw together: those of one key at one step (a run page), or one per
 *              run at the same step (the compare view); each an item of the media data file,
 *              {index, file, leftOut, size_bytes, fields}, plus optionally `label` (a run's name,
 *              prefixed to curve names and captions when several runs are drawn at once).
 *     options: {root: the site root relative to the page ("../../" on a run page, "" on compare),
 *              series: the key's entry {key, kind, steps, items} (histogram: the heatmap is drawn
 *              over its steps, at most HEATMAP_STEPS of them evenly spaced), step: the step shown (histogram: its line on the heatmap),
 *              normalised: confusion matrix starts normalised per true class (default false),
 *              difference: confusion_matrix of two items draws items[0] - items[1] (compare)}.
 *   render(kind, container, items, options): renderers[kind], with the left-out notice for items
 *     that have no file and a message for a kind this file does not know.
 *   load(root, item) -> Promise of a JSON kind's data (the text itself for text); cached per file.
 *   itemAt(series, step) -> the items of `series` at `step`, or at the latest step before it (a key
 *     logged every 5 steps shows its last logged one), [] before its first.
 *   leftOutNotice(item) -> an element saying why an item has no file ("left out: over the site's
 *     media budget").
 *   safeFigure(figure) -> a plotly figure's JSON with its labels unable to link or run script.
 *   whenNear(element, draw): calls draw() once, when `element` first comes within NEAR_VIEW_PX of
 *     the viewport (IntersectionObserver), or at once without one; before printing, every element
 *     still waiting is drawn. A page of forty keys draws, and loads the data scripts of, the
 *     panels on screen rather than all forty.
 *   drawNearNow(): draws at once the waiting elements near the viewport now, rather than on the
 *     observer's first report a frame later (so the first screen is drawn before the load event).
 *   stopWaiting(element): forgets an element whose panel was replaced before it was drawn.
 *   waitingBody(className, heightPx) -> a panel body not drawn yet: aria-busy, holding heightPx of
 *     the page so that panels drawn above it do not move what the reader looks at;
 *     bodyDrawn(body) ends that once its panel is drawn (or failed).
 * Everything logged (captions, cells, titles, names, text) goes in as text: textContent, or
 * TrackerChartStyle.text() in plotly labels; SVG figures are shown with <img>, never inlined.
 */
(function () {
  "use strict";

  const KINDS = ["image", "table", "figure", "histogram", "text", "audio", "video", "confusion_matrix",
                 "roc_curve", "pr_curve", "feature_importance"];
  // Kinds whose data is a script under media/ (load()), and plotly figures; the others are shown from their file.
  const DATA_KINDS = new Set(["table", "histogram", "text", "confusion_matrix", "roc_curve", "pr_curve",
                              "feature_importance"]);
  const STEPPED_KINDS = KINDS.filter((kind) => kind !== "histogram"); // a histogram shows all its steps
  const TABLE_ROWS_SHOWN = 500; // rows drawn at once; the search narrows the rest
  const HEATMAP_BINS = 64;      // histograms of different edges are redrawn on one grid of this many bins
  // Columns of a histogram's heatmap: each is a script to load, and a heatmap wider than this shows no
  // more on a screen; a longer series is shown at evenly spaced steps, its first, last and marked kept.
  const HEATMAP_STEPS = 200;

  const loading = new Map();

  function mediaFiles() {
    window.TrackerData = window.TrackerData || { runs: {} };
    window.TrackerData.mediaFiles = window.TrackerData.mediaFiles || {};
    return window.TrackerData.mediaFiles;
  }

  /** The data of a JSON kind (or a text's text), inserting its script once; rejects when it fails. */
  function load(root, item) {
    const match = /([0-9a-f]{64})\.js$/.exec(item.file || "");
    if (!match) return Promise.reject(new Error("no data file for this item"));
    const sha = match[1];
    if (mediaFiles()[sha] !== undefined) return Promise.resolve(mediaFiles()[sha]);
    if (!loading.has(sha)) {
      loading.set(sha, new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = root + item.file;
        script.onload = () => (mediaFiles()[sha] === undefined
          ? reject(new Error(`${item.file} holds no data`)) : resolve(mediaFiles()[sha]));
        script.onerror = () => {
          loading.delete(sha); // a later try may find it (a site being rebuilt)
          reject(new Error(`could not load ${item.file}`));
        };
        document.head.appendChild(script);
      }));
    }
    return loading.get(sha);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function itemAt(series, step) {
    let found = -1;
    series.steps.forEach((value, position) => { if (value <= step) found = position; });
    return found < 0 ? [] : series.items[found];
  }

  function leftOutNotice(item) {
    return element("p", "media-left-out", `left out: ${item.leftOut || "no file"}`);
  }

  function failure(container, error) {
    container.appendChild(element("p", "media-error", `Could not show this: ${error.message || error}`));
  }

  function captionOf(item) {
    const caption = item.fields && item.fields.caption;
    const parts = [item.label, caption].filter((part) => part !== undefined && part !== null && part !== "");
    return parts.length ? parts.join(" · ") : null;
  }

  function numberText(value, digits) {
    if (value === null || value === undefined) return "-";
    if (typeof value === "object" && value.number) return value.number; // NaN, ±Infinity markers
    return typeof value === "number" ? Number(value.toFixed(digits)).toString() : String(value);
  }

  // ---- images ---------------------------------------------------------------------------------------

  function enlarge(src, caption) {
    const dialog = element("dialog", "media-lightbox");
    const image = element("img");
    image.src = src;
    image.alt = caption || "";
    const close = element("button", "media-lightbox-close", "Close");
    close.type = "button";
    close.addEventListener("click", () => dialog.close());
    dialog.append(close, image);
    if (caption) dialog.appendChild(element("p", "media-caption", caption));
    dialog.addEventListener("close", () => dialog.remove());
    dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
    document.body.appendChild(dialog);
    dialog.showModal();
  }

  function imageTile(item, options) {
    const figure = element("figure", "media-image");
    const caption = captionOf(item);
    if (!item.file) {
      figure.appendChild(leftOutNotice(item));
    } else {
      const button = element("button", "media-image-open");
      button.type = "button";
      button.title = "Enlarge";
      const image = element("img");
      image.src = options.root + item.file;
      image.loading = "lazy";
      image.alt = caption || `image ${item.index}`;
      const fields = item.fields || {};
      if (fields.width && fields.height) {
        image.width = fields.width;
        image.height = fields.height;
      }
      button.appendChild(image);
      button.addEventListener("click", () => enlarge(image.src, caption));
      figure.appendChild(button);
    }
    if (caption) figure.appendChild(element("figcaption", "media-caption", caption));
    return figure;
  }

  function renderImages(container, items, options) {
    container.replaceChildren();
    const grid = element("div", "media-grid");
    for (const item of items) grid.appendChild(imageTile(item, options));
    container.appendChild(grid);
    return Promise.resolve();
  }

  // ---- tables ---------------------------------------------------------------------------------------

  function cellValue(cell) {
    if (cell === null || cell === undefined) return null;
    if (typeof cell === "object" && cell.number) return { "NaN": NaN, "Infinity": Infinity, "-Infinity": -Infinity }[cell.number];
    if (typeof cell === "object" && cell.image) return cell.caption || "";
    return cell;
  }

  function cellNode(cell, options) {
    const td = element("td");
    if (cell && typeof cell === "object" && cell.image) {
      const image = element("img", "media-thumb");
      image.src = options.root + cell.image;
      image.loading = "lazy";
      image.alt = cell.caption || "";
      td.appendChild(image);
      if (cell.caption) td.appendChild(element("span", "media-thumb-caption", cell.caption));
    } else if (cell && typeof cell === "object" && cell.number) {
      td.textContent = cell.number;
      td.className = "number";
    } else if (cell === null || cell === undefined) {
      td.textContent = "";
    } else {
      td.textContent = String(cell);
      if (typeof cell === "number") td.className = "number";
    }
    return td;
  }

  function compareCells(a, b) {
    const x = cellValue(a);
    const y = cellValue(b);
    if (x === null) return y === null ? 0 : 1; // empty cells last either way
    if (y === null) return -1;
    if (typeof x === "number" && typeof y === "number") {
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
      if (Number.isNaN(y)) return -1;
      return x - y;
    }
    return String(x).localeCompare(String(y), undefined, { numeric: true });
  }

  function droppedNotice(fields) {
    const parts = [];
    if (fields.dropped_rows) parts.push(`${fields.dropped_rows.toLocaleString("en")} rows`);
    if (fields.dropped_columns) parts.push(`${fields.dropped_columns.toLocaleString("en")} columns`);
    if (!parts.length) return null;
    return element("p", "media-notice",
      `${parts.join(" and ")} past the table's cap (10,000 rows x 100 columns) were dropped when it was logged; `
      + `${(fields.rows || 0).toLocaleString("en")} rows are kept.`);
  }

  function drawTable(holder, table, item, options) {
    const columns = table.columns || [];
    const types = table.column_types || [];
    const rows = table.rows || [];
    const search = element("input", "media-table-search");
    search.type = "search";
    search.placeholder = "Search rows";
    search.setAttribute("aria-label", "Search the table's rows");
    const status = element("span", "media-table-status muted");
    const controls = element("div", "media-table-controls");
    controls.append(search, status);
    const notice = droppedNotice(item.fields || {});
    const wrap = element("div", "long-table media-table-wrap");
    const tableNode = element("table", "media-table");
    const head = element("thead");
    const headRow = element("tr");
    const body = element("tbody");
    let sortColumn = -1;
    let descending = false;
    const texts = rows.map((row) => row.map((cell) => {
      const value = cellValue(cell);
      return value === null ? "" : String(value).toLowerCase();
    }).join("\u0000"));

    function draw() {
      const needle = search.value.trim().toLowerCase();
      let order = rows.map((_, index) => index);
      if (needle) order = order.filter((index) => texts[index].includes(needle));
      if (sortColumn >= 0) {
        order.sort((a, b) => (descending ? -1 : 1) * compareCells(rows[a][sortColumn], rows[b][sortColumn]) || a - b);
      }
      body.replaceChildren();
      for (const index of order.slice(0, TABLE_ROWS_SHOWN)) {
        const tr = element("tr");
        for (let column = 0; column < columns.length; column += 1) tr.appendChild(cellNode(rows[index][column], options));
        body.appendChild(tr);
      }
      status.textContent = order.length > TABLE_ROWS_SHOWN
        ? `showing ${TABLE_ROWS_SHOWN} of ${order.length.toLocaleString("en")} matching rows`
        : `${order.length.toLocaleString("en")} of ${rows.length.toLocaleString("en")} rows`;
      headRow.querySelectorAll("th").forEach((th, column) => {
        th.setAttribute("aria-sort", column === sortColumn ? (descending ? "descending" : "ascending") : "none");
      });
    }

    columns.forEach((name, column) => {
      const th = element("th");
      th.scope = "col";
      const button = element("button", "media-sort", name);
      button.type = "button";
      button.addEventListener("click", () => {
        descending = sortColumn === column ? !descending : false;
        sortColumn = column;
        draw();
      });
      th.appendChild(button);
      if (types[column] === "number") th.className = "number";
      headRow.appendChild(th);
    });
    head.appendChild(headRow);
    tableNode.append(head, body);
    wrap.appendChild(tableNode);
    search.addEventListener("input", draw);
    holder.append(...[notice, controls, wrap].filter(Boolean));
    draw();
  }

  function renderTables(container, items, options) {
    container.replaceChildren();
    return Promise.all(items.map((item) => {
      const holder = element("div", "media-table-item");
      if (item.label) holder.appendChild(element("h4", "media-item-label", item.label));
      container.appendChild(holder);
      if (!item.file) {
        holder.appendChild(leftOutNotice(item));
        return null;
      }
      return load(options.root, item).then((table) => drawTable(holder, table, item, options),
                                           (error) => failure(holder, error));
    }));
  }

  // ---- figures --------------------------------------------------------------------------------------

  // Plotly draws a subset of HTML in labels; only these tags keep their meaning. Every other "<"
  // (an <a href="javascript:..."> link, an <img onerror=...>) is shown as the character it is.
  const KEPT_TAGS = /<(?!\/?(?:b|i|em|sub|sup|br)\s*\/?>)/gi;

  function safeStrings(value) {
    if (typeof value === "string") return value.replace(KEPT_TAGS, "&lt;");
    if (Array.isArray(value)) return value.map(safeStrings);
    if (value && typeof value === "object") {
      const copy = {};
      for (const [key, inner] of Object.entries(value)) copy[key] = safeStrings(inner);
      return copy;
    }
    return value;
  }

  function safeFigure(figure) {
    const safe = safeStrings(figure || {});
    const layout = safe.layout || {};
    // layout images and map tiles are URLs: a figure must not make the page request anything
    // outside the site, so only inline (data:) images are kept and map styles are dropped
    if (Array.isArray(layout.images)) {
      layout.images = layout.images.filter((image) => typeof (image && image.source) === "string"
                                                     && image.source.startsWith("data:image/"));
    }
    const data = Array.isArray(safe.data) ? safe.data : [];
    for (const trace of data) { // an image trace's source is a URL too
      if (trace && typeof trace.source === "string" && !trace.source.startsWith("data:image/")) delete trace.source;
    }
    for (const key of Object.keys(layout)) {
      if (/^(mapbox|map)\d*$/.test(key) && layout[key]) delete layout[key].style;
    }
    return { data, layout, frames: Array.isArray(safe.frames) ? safe.frames : [] };
  }

  function plotConfig(options) {
    // topojson (geo plots) would be fetched from a CDN: point it into the site, where it is not
    return Object.assign({}, window.TrackerChartStyle.CONFIG, { topojsonURL: `${options.root}assets/vendor/topojson/` });
  }

  function renderFigures(container, items, options) {
    container.replaceChildren();
    return Promise.all(items.map((item) => {
      const holder = element("figure", "media-figure");
      container.appendChild(holder);
      const caption = captionOf(Object.assign({}, item, { fields: { caption: item.fields && item.fields.title } }));
      if (!item.file) {
        holder.appendChild(leftOutNotice(item));
      } else if ((item.fields || {}).format === "svg") {
        const image = element("img", "media-svg"); // never inlined: an SVG's script must not run
        image.src = options.root + item.file;
        image.alt = caption || "figure";
        image.loading = "lazy";
        holder.appendChild(image);
      } else {
        const plot = element("div", "media-plot"); // its title is the figure's own: no caption under it
        holder.appendChild(plot);
        if (item.label) holder.appendChild(element("figcaption", "media-caption", item.label));
        return load(options.root, item).then((figure) => {
          const safe = safeFigure(figure);
          return window.Plotly.newPlot(plot, safe.data, safe.layout, plotConfig(options));
        }).catch((error) => failure(holder, error));
      }
      if (caption) holder.appendChild(element("figcaption", "media-caption", caption));
      return null;
    }));
  }

  // ---- charts drawn with plotly (histograms, ROC/PR) --------------------------------------------------

  function chartLayout(extra) {
    const style = window.TrackerChartStyle;
    return Object.assign(style.layout(style.palette()), extra);
  }

  function histogramGrid(histograms) {
    const finite = histograms.filter((one) => one && one.edges && one.edges.length > 1);
    const low = Math.min(...finite.map((one) => one.edges[0]));
    const high = Math.max(...finite.map((one) => one.edges[one.edges.length - 1]));
    const width = high > low ? (high - low) / HEATMAP_BINS : 1;
    const centers = Array.from({ length: HEATMAP_BINS }, (_, bin) => low + (bin + 0.5) * width);
    const columns = histograms.map((one) => {
      const column = new Array(HEATMAP_BINS).fill(0);
      if (!one || !one.edges) return column;
      one.counts.forEach((count, bin) => {
        const middle = (one.edges[bin] + one.edges[bin + 1]) / 2;
        const at = Math.min(HEATMAP_BINS - 1, Math.max(0, Math.floor((middle - low) / width)));
        column[at] += count;
      });
      return column;
    });
    return { centers, columns };
  }

  /** At most HEATMAP_STEPS of ``columns`` ({item, step}, in step order), evenly spaced, keeping the first,
   *  the last and the one at ``markedStep``. */
  function heatmapColumns(columns, markedStep) {
    if (columns.length <= HEATMAP_STEPS) return columns;
    const chosen = new Set();
    for (let index = 0; index < HEATMAP_STEPS - 1; index += 1) {
      chosen.add(Math.round(index * (columns.length - 1) / (HEATMAP_STEPS - 2)));
    }
    const marked = columns.findIndex((one) => one.step === markedStep);
    if (marked >= 0) chosen.add(marked);
    return [...chosen].sort((a, b) => a - b).map((index) => columns[index]);
  }

  function renderHistogram(container, items, options) {
    container.replaceChildren();
    const series = options.series;
    const firsts = series ? series.items.map((at) => at[0]) : items;
    const steps = series ? series.steps : items.map((_, position) => position);
    const withFile = firsts.map((item, position) => ({ item, step: steps[position] })).filter((one) => one.item && one.item.file);
    const leftOut = firsts.length - withFile.length;
    const kept = heatmapColumns(withFile, options.step);
    const plot = element("div", "media-plot media-heatmap");
    container.appendChild(plot);
    if (leftOut) container.appendChild(element("p", "media-left-out",
      `left out: ${leftOut} of ${firsts.length} steps (${(firsts.find((item) => item && !item.file) || {}).leftOut || "no file"})`));
    if (kept.length < withFile.length) container.appendChild(element("p", "media-notice",
      `showing ${kept.length} of ${withFile.length} steps, evenly spaced`));
    if (!kept.length) return Promise.resolve();
    return Promise.all(kept.map((one) => load(options.root, one.item))).then((histograms) => {
      const grid = histogramGrid(histograms);
      const z = grid.centers.map((_, bin) => grid.columns.map((column) => column[bin]));
      const colors = window.TrackerChartStyle.palette();
      const layout = chartLayout({ margin: { l: 56, r: 12, t: 8, b: 40 },
                                   xaxis: { title: { text: "step" } }, yaxis: { title: { text: "value" } } });
      Object.assign(layout.xaxis, { gridcolor: colors.grid }, { title: { text: "step" } });
      if (options.step !== undefined && options.step !== null) {
        layout.shapes = [{ type: "line", x0: options.step, x1: options.step, yref: "paper", y0: 0, y1: 1,
                           line: { color: colors.accent, width: 2 } }];
      }
      const trace = { type: "heatmap", x: kept.map((one) => one.step), y: grid.centers, z,
                      colorscale: "Viridis", showscale: false, hovertemplate: "step %{x}<br>value %{y:.4g}<br>count %{z}<extra></extra>" };
      return window.Plotly.react(plot, [trace], layout, window.TrackerChartStyle.CONFIG);
    }).catch((error) => failure(container, error));
  }

  function curveRenderer(kind) {
    const roc = kind === "roc_curve";
    const [xName, yName, areaName] = roc ? ["fpr", "tpr", "auc"] : ["recall", "precision", "average_precision"];
    const areaLabel = roc ? "AUC" : "AP";
    return function renderCurves(container, items, options) {
      container.replaceChildren();
      const plot = element("div", "media-plot media-curves");
      const kept = items.filter((item) => item.file);
      container.appendChild(plot);
      items.filter((item) => !item.file).forEach((item) => container.appendChild(leftOutNotice(item)));
      if (!kept.length) return Promise.resolve();
      return Promise.all(kept.map((item) => load(options.root, item))).then((charts) => {
        const text = window.TrackerChartStyle.text;
        const traces = [];
        charts.forEach((chart, position) => {
          const prefix = kept[position].label ? `${kept[position].label} · ` : "";
          for (const curve of chart.curves || []) {
            const area = curve[areaName];
            const name = `${prefix}${curve.label} (${areaLabel} ${area === null || area === undefined ? "n/a" : area.toFixed(4)})`;
            traces.push({ type: "scatter", mode: "lines", x: curve[xName], y: curve[yName], name: text(name),
                          line: { shape: roc ? "linear" : "hv", width: 2 } });
          }
        });
        if (roc) {
          traces.push({ type: "scatter", mode: "lines", x: [0, 1], y: [0, 1], name: "chance", hoverinfo: "skip",
                        showlegend: false, line: { dash: "dot", width: 1, color: window.TrackerChartStyle.palette().muted } });
        }
        // the legend (each curve's area) above the plot: below it, it would cover the axis title on a phone
        const layout = chartLayout({ showlegend: true, margin: { l: 52, r: 12, t: 8, b: 40 },
                                     legend: { orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom" } });
        layout.xaxis = Object.assign(layout.xaxis || {}, { title: { text: roc ? "false positive rate" : "recall" }, range: [0, 1] });
        layout.yaxis = Object.assign(layout.yaxis || {}, { title: { text: roc ? "true positive rate" : "precision" }, range: [0, 1.02] });
        return window.Plotly.react(plot, traces, layout, window.TrackerChartStyle.CONFIG);
      }).catch((error) => failure(container, error));
    };
  }

  // ---- confusion matrix, feature importance, text, audio, video ------------------------------------

  function drawMatrix(holder, labels, matrix, state) {
    const table = element("table", "media-cm");
    const caption = element("caption", "muted", state.difference ? "difference: first minus second"
      : state.normalised ? "share of each true class" : "counts");
    const head = element("thead");
    const headRow = element("tr");
    const corner = element("th", "media-cm-corner", "true \\ predicted");
    corner.scope = "col";
    headRow.appendChild(corner);
    for (const label of labels) {
      const th = element("th", null, label);
      th.scope = "col";
      headRow.appendChild(th);
    }
    head.appendChild(headRow);
    const body = element("tbody");
    const rowTotals = matrix.map((row) => row.reduce((sum, count) => sum + Math.abs(count), 0));
    const largest = Math.max(1, ...matrix.flat().map(Math.abs));
    matrix.forEach((row, i) => {
      const tr = element("tr");
      const th = element("th", null, labels[i]);
      th.scope = "row";
      tr.appendChild(th);
      row.forEach((count, j) => {
        const share = rowTotals[i] ? count / rowTotals[i] : 0;
        const td = element("td", "media-cm-cell number",
          state.normalised && !state.difference ? share.toFixed(2) : String(count));
        td.dataset.count = String(count);
        const strength = state.normalised ? Math.abs(share) : Math.abs(count) / largest;
        td.style.setProperty("--cm-strength", strength.toFixed(3));
        if (state.difference && count) td.classList.add(count > 0 ? "media-cm-more" : "media-cm-less");
        if (i === j) td.classList.add("media-cm-diagonal");
        td.title = `true ${labels[i]}, predicted ${labels[j]}: ${count}`;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.append(caption, head, body);
    holder.replaceChildren(table);
  }

  function renderConfusionMatrix(container, items, options) {
    container.replaceChildren();
    const kept = items.filter((item) => item.file);
    items.filter((item) => !item.file).forEach((item) => container.appendChild(leftOutNotice(item)));
    if (!kept.length) return Promise.resolve();
    const state = { normalised: Boolean(options.normalised), difference: Boolean(options.difference) && kept.length === 2 };
    const toggleLabel = element("label", "media-toggle");
    const toggle = element("input");
    toggle.type = "checkbox";
    toggle.checked = state.normalised;
    toggleLabel.append(toggle, document.createTextNode(" Normalised (per true class)"));
    container.appendChild(toggleLabel);
    const holders = (state.difference ? [kept[0]] : kept).map((item) => {
      const wrap = element("div", "media-cm-item");
      if (item.label && !state.difference) wrap.appendChild(element("h4", "media-item-label", item.label));
      const holder = element("div", "long-table");
      wrap.appendChild(holder);
      container.appendChild(wrap);
      return holder;
    });
    return Promise.all(kept.map((item) => load(options.root, item))).then((matrices) => {
      const draw = () => {
        if (state.difference) {
          const [a, b] = matrices;
          const difference = a.matrix.map((row, i) => row.map((count, j) => count - ((b.matrix[i] || [])[j] || 0)));
          drawMatrix(holders[0], a.labels, difference, state);
        } else {
          matrices.forEach((one, position) => drawMatrix(holders[position], one.labels, one.matrix, state));
        }
      };
      toggle.addEventListener("change", () => { state.normalised = toggle.checked; draw(); });
      draw();
    }).catch((error) => failure(container, error));
  }

  function renderFeatureImportance(container, items, options) {
    container.replaceChildren();
    return Promise.all(items.map((item) => {
      const holder = element("div", "media-bars-item");
      if (item.label) holder.appendChild(element("h4", "media-item-label", item.label));
      container.appendChild(holder);
      if (!item.file) {
        holder.appendChild(leftOutNotice(item));
        return null;
      }
      return load(options.root, item).then((data) => {
        const features = data.features || [];
        const largest = Math.max(1e-300, ...features.map((one) => Math.abs(one.value)));
        const list = element("ol", "media-bars");
        for (const feature of features) {
          const row = element("li", "media-bar-row");
          const bar = element("span", `media-bar${feature.value < 0 ? " negative" : ""}`);
          bar.style.width = `${(100 * Math.abs(feature.value) / largest).toFixed(2)}%`;
          const track = element("span", "media-bar-track");
          track.appendChild(bar);
          row.append(element("span", "media-bar-name", feature.name), track,
                     element("span", "media-bar-value number", numberText(feature.value, 4)));
          list.appendChild(row);
        }
        holder.appendChild(list);
        if (item.fields && item.fields.dropped) {
          holder.appendChild(element("p", "media-notice", `${item.fields.dropped} smaller features were dropped when logged.`));
        }
      }, (error) => failure(holder, error));
    }));
  }

  function renderText(container, items, options) {
    container.replaceChildren();
    return Promise.all(items.map((item) => {
      const holder = element("div", "media-text-item");
      if (item.label) holder.appendChild(element("h4", "media-item-label", item.label));
      container.appendChild(holder);
      if (!item.file) {
        holder.appendChild(leftOutNotice(item));
        return null;
      }
      return load(options.root, item).then((text) => {
        holder.appendChild(element("pre", "media-text", text));
        if (item.fields && item.fields.truncated) {
          holder.appendChild(element("p", "media-notice", `cut to its first characters when logged (${item.fields.chars} in all)`));
        }
      }, (error) => failure(holder, error));
    }));
  }

  function mediaPlayer(tag) {
    return function renderPlayers(container, items, options) {
      container.replaceChildren();
      const grid = element("div", "media-grid media-players");
      for (const item of items) {
        const figure = element("figure", "media-player");
        const caption = captionOf(item);
        if (!item.file) {
          figure.appendChild(leftOutNotice(item));
        } else if (tag === "video" && (item.fields || {}).format === "gif") {
          const image = element("img");
          image.src = options.root + item.file;
          image.alt = caption || "video";
          image.loading = "lazy";
          figure.appendChild(image);
        } else {
          const player = element(tag);
          player.controls = true;
          player.preload = "metadata";
          player.src = options.root + item.file;
          figure.appendChild(player);
        }
        if (caption) figure.appendChild(element("figcaption", "media-caption", caption));
        grid.appendChild(figure);
      }
      container.appendChild(grid);
      return Promise.resolve();
    };
  }

  const renderers = Object.freeze({
    image: renderImages,
    table: renderTables,
    figure: renderFigures,
    histogram: renderHistogram,
    text: renderText,
    audio: mediaPlayer("audio"),
    video: mediaPlayer("video"),
    confusion_matrix: renderConfusionMatrix,
    roc_curve: curveRenderer("roc_curve"),
    pr_curve: curveRenderer("pr_curve"),
    feature_importance: renderFeatureImportance,
  });

  function render(kind, container, items, options) {
    const renderer = renderers[kind];
    if (!renderer) {
      container.replaceChildren(element("p", "muted", `This site does not know how to show media of kind "${kind}".`));
      return Promise.resolve();
    }
    if (!items.length && kind !== "histogram") {
      container.replaceChildren(element("p", "muted", "Nothing logged at or before this step."));
      return Promise.resolve();
    }
    return renderer(container, items, options || { root: "" });
  }

  // ---- drawing a panel once it is near the viewport --------------------------------------------------

  const NEAR_VIEW_PX = 400; // start drawing a panel this far below (or above) the viewport
  const waiting = new Map(); // element -> its draw(), until it first comes near the viewport
  const observer = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting) drawWaiting(entry.target);
  }, { rootMargin: `${NEAR_VIEW_PX}px 0px` }) : null;

  function drawWaiting(target) {
    const draw = waiting.get(target);
    if (!draw) return;
    stopWaiting(target);
    draw();
  }

  function stopWaiting(target) {
    if (waiting.delete(target) && observer) observer.unobserve(target);
  }

  function whenNear(target, draw) {
    if (!observer) {
      draw();
      return;
    }
    waiting.set(target, draw);
    observer.observe(target);
  }

  function waitingBody(className, heightPx) {
    const body = element("div", className);
    body.setAttribute("aria-busy", "true");
    body.style.minHeight = `${heightPx}px`;
    return body;
  }

  function bodyDrawn(body) {
    body.style.minHeight = "";
    body.removeAttribute("aria-busy");
  }

  function drawNearNow() {
    const bottom = window.innerHeight + NEAR_VIEW_PX;
    for (const target of [...waiting.keys()]) {
      const box = target.getBoundingClientRect();
      if (box.height && box.bottom >= -NEAR_VIEW_PX && box.top <= bottom) drawWaiting(target);
    }
  }

  // a printed page shows every panel, not only those scrolled past
  window.addEventListener("beforeprint", () => [...waiting.keys()].forEach(drawWaiting));

  window.TrackerMediaPanels = Object.freeze({ KINDS, STEPPED_KINDS, DATA_KINDS: Object.freeze([...DATA_KINDS]),
                                              renderers, render, load, itemAt, leftOutNotice, safeFigure,
                                              whenNear, drawNearNow, stopWaiting, waitingBody, bodyDrawn });
})();
