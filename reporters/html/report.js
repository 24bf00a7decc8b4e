// heapsnap report: draws the heap-over-time chart, the flame graph and the tables from the JSON in
// #report-data (docs/html-report.md). Plain DOM and SVG, no library. Names from the data go into the
// page only as text (textContent, attribute values), never as markup.
// The view, search, zoom and table order are kept in the URL's #fragment, so a link shows the same
// state (and a headless browser can be driven to it).
'use strict';
(function () {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const snapshots = data.snapshots;

  // ---- text ----------------------------------------------------------------------------------

  // printf("%.Nf") of a non-negative number: halves round to even, as C does on an exactly
  // representable value (sizes divided by powers of 1024 are exact here).
  function fixed(value, digits) {
    const scale = Math.pow(10, digits);
    const scaled = value * scale;
    let whole = Math.floor(scaled);
    const rest = scaled - whole;
    if (rest > 0.5 || (rest === 0.5 && whole % 2 === 1)) whole += 1;
    return (whole / scale).toFixed(digits);
  }

  // snapshot/format_size.h, i.e. tracemalloc's _format_size: "512 B", "10.0 KiB", "2501 B".
  function formatSize(bytes) {
    let size = bytes;
    for (const unit of ['B', 'KiB', 'MiB', 'GiB', 'TiB']) {
      if (size < 100 && unit !== 'B') return fixed(size, 1) + ' ' + unit;
      if (size < 10 * 1024 || unit === 'TiB') return fixed(size, 0) + ' ' + unit;
      size /= 1024;
    }
  }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }
  function percent(part, whole) { return whole > 0 ? fixed(100 * part / whole, 1) + '%' : '0.0%'; }
  function baseName(path) { return path.slice(path.lastIndexOf('/') + 1); }

  // frames[i] = [function, filename, lineno]
  function frameName(index) {
    if (index < 0) return 'all';
    const [fn, file, line] = data.frames[index];
    return fn || (line ? file + ':' + line : file);
  }
  function frameWhere(index) {
    if (index < 0) return '';
    const [, file, line] = data.frames[index];
    return line ? file + ':' + line : file;
  }
  function frameText(index) {  // "file:line (function)", as the text reports print frames
    if (index < 0) return 'all';
    const fn = data.frames[index][0];
    return frameWhere(index) + (fn ? ' (' + fn + ')' : '');
  }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svgElement(tag, attributes, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---- state in the URL fragment -------------------------------------------------------------

  // The views beyond live memory, from the last snapshot's per-site activity (when it has some).
  const ACTIVITY_MEASURES = ['peak-sites', 'allocated', 'calls', 'temporary'];
  const ACTIVITY_LABELS = { 'peak-sites': 'Held at the peak', allocated: 'Allocated', calls: 'Calls', temporary: 'Temporary' };
  const state = { view: 'peak', search: '', zoom: 0, sort: 'size', order: 'descending' };
  (function readFragment() {
    const params = new URLSearchParams(location.hash.slice(1));
    if (['end', ...ACTIVITY_MEASURES].includes(params.get('view'))) state.view = params.get('view');
    state.search = params.get('search') || '';
    state.zoom = Number(params.get('zoom')) || 0;
    if (['site', 'size', 'count'].includes(params.get('sort'))) state.sort = params.get('sort');
    if (['ascending', 'descending'].includes(params.get('order'))) state.order = params.get('order');
  })();
  function writeFragment() {
    const params = new URLSearchParams();
    if (state.view !== 'peak') params.set('view', state.view);
    if (state.search) params.set('search', state.search);
    if (state.zoom) params.set('zoom', state.zoom);
    if (state.sort !== 'size' || state.order !== 'descending') {
      params.set('sort', state.sort);
      params.set('order', state.order);
    }
    const fragment = params.toString();
    history.replaceState(null, '', fragment ? '#' + fragment : location.pathname + location.search);
  }

  // ---- summary -------------------------------------------------------------------------------

  function renderSummary() {
    const peak = snapshots[data.peak];
    const end = snapshots[data.end];
    const span = (end.unix_time_ms - snapshots[0].unix_time_ms) / 1000;
    const maxPeak = Math.max(...snapshots.map((s) => s.traced_peak));
    let text = plural(snapshots.length, 'snapshot', 'snapshots');
    if (data.argv.length) text += ' of ' + data.argv.join(' ');
    if (snapshots.length > 1) text += ' over ' + fixed(span, 2) + ' s';
    text += '. Largest traced: ' + formatSize(peak.traced_current) + ' (' + baseName(peak.file) + ')';
    text += '; peak traced: ' + formatSize(maxPeak) + '; at the end: ' + formatSize(end.traced_current) + '.';
    if (data.leaks) text += ' Leaked: ' + formatSize(data.leaks.size) + ' in ' + plural(data.leaks.count, 'block', 'blocks') + '.';
    if (snapshots.some((s) => s.sampling_rate > 0)) text += ' Sampled: sizes and counts are estimates.';
    document.getElementById('summary').textContent = text;
  }

  // ---- heap over time ------------------------------------------------------------------------

  // Round steps of 1, 2 or 5 times a power of ten, about `wanted` of them up to `max`.
  function niceStep(max, wanted) {
    const raw = max / wanted;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const factor of [1, 2, 5, 10]) if (factor * power >= raw) return factor * power;
    return 10 * power;
  }

  // Byte ticks on round numbers of the largest binary unit below `max`, labelled by formatSize.
  function byteTicks(max) {
    let unit = 1;
    while (unit < Math.pow(1024, 4) && max / unit >= 1024) unit *= 1024;
    const step = Math.max(1, niceStep(max / unit, 5)) * unit;
    const ticks = [];
    for (let value = 0; value <= max + step / 2; value += step) ticks.push(value);
    if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
    return ticks;
  }

  // A drawing spans its box, but no narrower than 480 px.
  function drawingWidth(box) {
    return Math.max(box.clientWidth || 0, 480);
  }

  function renderChart() {
    const box = document.getElementById('chart');
    box.textContent = '';
    const width = drawingWidth(box);
    const height = 280;
    const margin = { left: 78, right: 24, top: 30, bottom: 40 };
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const start = snapshots[0].unix_time_ms;
    const seconds = snapshots.map((s) => (s.unix_time_ms - start) / 1000);
    const span = seconds[seconds.length - 1];
    const yTicks = byteTicks(Math.max(1, ...snapshots.map((s) => Math.max(s.traced_current, s.traced_peak))));
    const yMax = yTicks[yTicks.length - 1];
    const x = (t) => margin.left + (span > 0 ? (t / span) * plotWidth : plotWidth / 2);
    const y = (bytes) => margin.top + plotHeight - (bytes / yMax) * plotHeight;

    const svg = svgElement('svg', { id: 'chart-svg', width: width, height: height, viewBox: `0 0 ${width} ${height}`,
                                   role: 'img', 'aria-label': 'Traced bytes over time' });
    const yAxis = svgElement('g', { class: 'axis y-axis' });
    for (const tick of yTicks) {
      yAxis.append(svgElement('line', { x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }));
      yAxis.append(svgElement('text', { x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, formatSize(tick)));
    }
    const xAxis = svgElement('g', { class: 'axis x-axis' });
    const xStep = span > 0 ? niceStep(span, 8) : 1;
    const decimals = Math.max(0, -Math.floor(Math.log10(xStep)));
    for (let t = 0; t <= span + xStep / 1e6; t += xStep) {
      xAxis.append(svgElement('line', { x1: x(t), x2: x(t), y1: margin.top + plotHeight, y2: margin.top + plotHeight + 5 }));
      xAxis.append(svgElement('text', { x: x(t), y: margin.top + plotHeight + 18, 'text-anchor': 'middle' },
                              t.toFixed(decimals) + ' s'));
    }
    xAxis.append(svgElement('text', { x: margin.left + plotWidth / 2, y: height - 4, 'text-anchor': 'middle' },
                            'time since the first snapshot'));
    svg.append(yAxis, xAxis);

    const polyline = (values, cls) => svgElement('polyline', {
      class: cls, points: values.map((value, i) => `${x(seconds[i])},${y(value)}`).join(' ') });
    svg.append(polyline(snapshots.map((s) => s.traced_peak), 'line-peak'));
    svg.append(polyline(snapshots.map((s) => s.traced_current), 'line-current'));

    const points = svgElement('g', { class: 'points' });
    snapshots.forEach((s, i) => {
      const circle = svgElement('circle', {
        class: 'point' + (i === data.peak ? ' peak-point' : ''), cx: x(seconds[i]), cy: y(s.traced_current),
        r: i === data.peak ? 5 : 3.5, 'data-index': i, 'data-bytes': s.traced_current });
      circle.append(svgElement('title', {}, `${baseName(s.file)} (${s.reason || 'snapshot'}) at ${seconds[i].toFixed(2)} s: ` +
                               `traced ${formatSize(s.traced_current)}, peak so far ${formatSize(s.traced_peak)}`));
      points.append(circle);
    });
    svg.append(points);

    const legend = svgElement('g', { class: 'legend', transform: `translate(${margin.left + 8},14)` });
    legend.append(svgElement('line', { class: 'line-current', x1: 0, x2: 22, y1: 0, y2: 0 }),
                  svgElement('text', { x: 28, y: 4 }, 'traced at the snapshot'),
                  svgElement('line', { class: 'line-peak', x1: 170, x2: 192, y1: 0, y2: 0 }),
                  svgElement('text', { x: 198, y: 4 }, 'peak traced so far'));
    svg.append(legend);
    box.append(svg);
  }

  // ---- flame graph ---------------------------------------------------------------------------

  // Trees arrive as [frame, size, count, children?]; nodes get ids in preorder, stable for a report.
  function unpack(tree) {
    const nodes = [];
    (function walk(packed, parent, depth) {
      const node = { id: nodes.length, frame: packed[0], size: packed[1], count: packed[2], parent, depth, children: [] };
      nodes.push(node);
      for (const child of packed[3] || []) node.children.push(walk(child, node, depth + 1));
      return node;
    })(tree, null, 0);
    for (const node of nodes) {
      node.selfSize = node.size - node.children.reduce((sum, child) => sum + child.size, 0);
      node.selfCount = node.count - node.children.reduce((sum, child) => sum + child.count, 0);
      node.search = (frameText(node.frame)).toLowerCase();
    }
    return nodes;
  }
  const views = data.views.map((view) => Object.assign({}, view, { nodes: unpack(view.tree) }));
  // A view's key in the switch and the URL: 'peak' and 'end' for live memory, else its measure
  // ('peak-sites' for what the sites held at the traced peak).
  const viewKey = (view) => view.measure === 'live' ? null : view.measure === 'peak' ? 'peak-sites' : view.measure;
  const currentView = () => views.find((view) => viewKey(view) === state.view) ||
                            views[state.view === 'end' ? data.end_view : data.peak_view];
  // An amount of a view's unit: bytes, or a number of allocations (calls, temporary).
  const amount = (view, n) => view.unit === 'bytes' ? formatSize(n) : plural(n, 'allocation', 'allocations');

  // Warm colours, the same for the same function in every view.
  function colour(node) {
    if (node.frame < 0) return '#c8ccd2';
    let hash = 0;
    for (const c of frameName(node.frame)) hash = (hash * 31 + c.charCodeAt(0)) | 0;
    const h = Math.abs(hash) % 50;
    return `hsl(${h + 5}, ${70 + (Math.abs(hash >> 8) % 20)}%, ${58 + (Math.abs(hash >> 16) % 12)}%)`;
  }

  const ROW = 18;
  const CHAR_WIDTH = 6.6;  // of an 11px sans-serif label, to decide what fits

  function renderFlame() {
    const view = currentView();
    const nodes = view.nodes;
    const box = document.getElementById('flamegraph');
    box.textContent = '';
    const width = drawingWidth(box);
    const focus = nodes[state.zoom] || nodes[0];
    if (focus !== nodes[state.zoom]) state.zoom = 0;
    const query = state.search.toLowerCase();

    const frames = [];
    // The focus's ancestors span the width, above it; its subtree shares the width by size.
    for (let node = focus.parent; node; node = node.parent) frames.push({ node, x: 0, w: width, ancestor: true });
    (function place(node, x, w) {
      frames.push({ node, x, w, ancestor: false });
      let childX = x;
      for (const child of node.children) {
        const childW = node.size > 0 ? (w * child.size) / node.size : 0;
        if (childW >= 1) place(child, childX, childW);  // narrower than a pixel: not drawn
        childX += childW;
      }
    })(focus, 0, width);

    const depth = Math.max(...frames.map((f) => f.node.depth)) + 1;
    const svg = svgElement('svg', { id: 'flame-svg', width: width, height: depth * ROW,
                                   viewBox: `0 0 ${width} ${depth * ROW}`, 'data-view': state.view });
    let matchedSize = 0;
    let matchedFrames = 0;
    for (const f of frames) {
      const node = f.node;
      const matched = query !== '' && node.frame >= 0 && node.search.includes(query);
      if (matched) {
        matchedFrames += 1;
        let covered = false;  // bytes under a matched ancestor are counted there already
        for (let up = node.parent; up && up !== focus.parent; up = up.parent) {
          covered = covered || (up.frame >= 0 && up.search.includes(query));
        }
        if (!covered && !f.ancestor) matchedSize += node.size;
      }
      const g = svgElement('g', { class: 'frame' + (f.ancestor ? ' ancestor' : '') + (matched ? ' match' : ''),
                                 'data-id': node.id, 'data-name': frameText(node.frame), 'data-size': node.size });
      g.append(svgElement('rect', { x: f.x, y: node.depth * ROW, width: Math.max(f.w, 0.5), height: ROW - 1, fill: colour(node) }));
      const fits = Math.floor((f.w - 6) / CHAR_WIDTH);
      if (fits >= 3) {
        const name = node.frame < 0 ? `all (${amount(view, node.size)})` : frameName(node.frame);
        g.append(svgElement('text', { x: f.x + 3, y: node.depth * ROW + 12.5 },
                            name.length <= fits ? name : name.slice(0, fits - 1) + '…'));
      }
      svg.append(g);
    }
    box.append(svg);

    const info = document.getElementById('match-info');
    if (query) {
      const where = focus.frame < 0 ? 'of the snapshot' : 'of the zoomed frame';
      info.textContent = `${plural(matchedFrames, 'frame matches', 'frames match')}: ${amount(view, matchedSize)}, ` +
                         `${percent(matchedSize, focus.size)} ${where}`;
    } else {
      info.textContent = '';
    }
    document.getElementById('reset-zoom').disabled = focus === nodes[0];
  }

  function frameTooltip(node) {
    const view = currentView();
    const lines = [frameText(node.frame)];
    if (view.unit === 'bytes') {
      lines.push(`${formatSize(node.size)} (${node.size} B) in ${plural(node.count, view.measure === 'allocated' ? 'allocation' : 'block', view.measure === 'allocated' ? 'allocations' : 'blocks')}, ` +
                 `${percent(node.size, view.size)} of ${baseName(snapshots[view.snapshot].file)}`);
    } else {
      lines.push(`${amount(view, node.size)}, ${percent(node.size, view.size)} of ${baseName(snapshots[view.snapshot].file)}`);
    }
    if (node.children.length && node.selfSize > 0) lines.push(`in this frame itself: ${amount(view, node.selfSize)}`);
    return lines.join('\n');
  }

  function setUpFlameEvents() {
    const box = document.getElementById('flamegraph');
    const tooltip = document.getElementById('tooltip');
    const frameOf = (event) => {
      const g = event.target.closest && event.target.closest('g.frame');
      return g ? currentView().nodes[Number(g.getAttribute('data-id'))] : null;
    };
    box.addEventListener('mousemove', (event) => {
      const node = frameOf(event);
      if (!node) { tooltip.hidden = true; return; }
      tooltip.textContent = frameTooltip(node);
      tooltip.hidden = false;
      const x = Math.min(event.clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
      tooltip.style.left = Math.max(4, x) + 'px';
      tooltip.style.top = (event.clientY + 16) + 'px';
    });
    box.addEventListener('mouseleave', () => { tooltip.hidden = true; });
    box.addEventListener('click', (event) => {
      const node = frameOf(event);
      if (!node) return;
      state.zoom = node.id === state.zoom && node.parent ? node.parent.id : node.id;
      writeFragment();
      renderFlame();
    });
    document.getElementById('reset-zoom').addEventListener('click', () => {
      state.zoom = 0;
      writeFragment();
      renderFlame();
    });
    const search = document.getElementById('search');
    search.value = state.search;
    search.addEventListener('input', () => {
      state.search = search.value.trim();
      writeFragment();
      renderFlame();
    });
  }

  const ACTIVITY_TITLES = {
    'peak-sites': 'What each site held when the traced total was at its peak (the per-site view taken within max(4 KiB, peak/64) of it)',
    allocated: 'Bytes allocated since tracing started, freed or not',
    calls: 'Calls to allocation functions since tracing started',
    temporary: 'Allocations freed as their thread\'s very next allocation or free',
  };

  function renderViewSwitch() {
    const group = document.getElementById('view-switch');
    group.textContent = '';
    // Live memory of the largest snapshot and of the last one.
    const choices = [['peak', 'Live, largest snapshot', data.peak]];
    if (data.end_view !== data.peak_view) choices.push(['end', 'Live, last snapshot', data.end]);
    else if (state.view === 'end') state.view = 'peak';
    // A button that shows view `key` when pressed.
    const viewButton = (key, text, attributes) => {
      const button = element('button', Object.assign({ type: 'button', 'data-view': key, 'aria-pressed': String(state.view === key) },
                                                     attributes), text);
      button.addEventListener('click', () => {
        if (state.view === key) return;
        state.view = key;
        state.zoom = 0;
        writeFragment();
        renderView();
      });
      group.append(button);
    };
    for (const [name, label, index] of choices) {
      const s = snapshots[index];
      viewButton(name, `${label}: ${baseName(s.file)}, ${formatSize(s.traced_current)}`);
    }
    if (choices.length === 1) group.append(element('span', { class: 'note' }, ' (the largest snapshot is the last one)'));
    for (const view of views) {
      const key = viewKey(view);
      if (key) viewButton(key, `${ACTIVITY_LABELS[key]}: ${amount(view, view.size)}`, { title: ACTIVITY_TITLES[key] });
    }
  }

  // ---- top sites -----------------------------------------------------------------------------

  function renderSites() {
    const view = currentView();
    const snapshot = snapshots[view.snapshot];
    const what = { live: 'Live memory', peak: 'Memory held at the peak', allocated: 'Bytes allocated',
                   calls: 'Allocation calls', temporary: 'Temporary allocations' }[view.measure];
    document.getElementById('sites-note').textContent =
      `${what} in ${snapshot.file} by the line that allocated it` +
      (view.total_sites > view.sites.length ? `: the ${view.sites.length} largest of ${view.total_sites} sites.` : '.') +
      ' Click a column heading to sort.';
    const keyOf = { site: (row) => frameText(row[0]), size: (row) => row[1], count: (row) => row[2] };
    const key = keyOf[state.sort];
    const sign = state.order === 'ascending' ? 1 : -1;
    const rows = view.sites.slice().sort((a, b) => {
      const [p, q] = [key(a), key(b)];
      const order = p < q ? -1 : p > q ? 1 : 0;
      return sign * order || b[1] - a[1];
    });
    const body = document.querySelector('#sites-table tbody');
    body.textContent = '';
    for (const [frame, size, count] of rows) {
      const tr = element('tr', { 'data-size': size, 'data-count': count });
      tr.append(element('td', { class: 'site mono' }, frameText(frame)),
                element('td', { class: 'number', title: view.unit === 'bytes' ? size + ' B' : '' }, amount(view, size)),
                element('td', { class: 'number' }, String(count)),
                element('td', { class: 'number' }, percent(size, view.size)));
      body.append(tr);
    }
    for (const th of document.querySelectorAll('#sites-table th[data-key]')) {
      if (th.dataset.key === state.sort) th.setAttribute('aria-sort', state.order);
      else th.removeAttribute('aria-sort');
    }
  }

  function setUpSorting() {
    for (const th of document.querySelectorAll('#sites-table th[data-key]')) {
      const button = th.querySelector('button');
      if (!button) continue;
      button.addEventListener('click', () => {
        const key = th.dataset.key;
        if (state.sort === key) state.order = state.order === 'ascending' ? 'descending' : 'ascending';
        else [state.sort, state.order] = [key, key === 'site' ? 'ascending' : 'descending'];
        writeFragment();
        renderSites();
      });
    }
  }

  // ---- leaks ---------------------------------------------------------------------------------

  function stackList(stack, notCaptured) {
    const list = element('ol');
    for (const frame of stack) list.append(element('li', { class: 'mono' }, frameText(frame)));
    if (notCaptured > 0) list.append(element('li', { class: 'note' }, `... ${plural(notCaptured, 'older frame', 'older frames')} not captured`));
    return list;
  }

  function renderLeaks() {
    const summary = document.getElementById('leaks-summary');
    const table = document.getElementById('leaks-table');
    const leaks = data.leaks;
    if (!leaks) {
      summary.textContent = 'None of the snapshots has a leak analysis (they were taken while the program ran, ' +
        'or with --no-leaks): add the snapshot that heapsnap run writes at exit to see the leaks.';
      table.hidden = true;
      return;
    }
    const analysed = snapshots[leaks.snapshot].file;
    if (leaks.count === 0) {
      summary.textContent = `No leaks: every block still allocated when ${analysed} was taken was reachable.`;
      table.hidden = true;
      return;
    }
    let text = `${formatSize(leaks.size)} leaked in ${plural(leaks.count, 'block', 'blocks')} at ` +
               `${plural(leaks.total_sites, 'site', 'sites')}`;
    if (leaks.cycle_count > 0) text += `, ${plural(leaks.cycle_count, 'unreachable reference cycle', 'unreachable reference cycles')}`;
    summary.textContent = text + ` in ${analysed}. Direct leaks are pointed to by no other leaked block; ` +
      'indirect ones only by leaked blocks; cycle members keep each other alive.';

    const cycles = document.getElementById('leak-cycles');
    cycles.textContent = '';
    if (leaks.cycles.length) cycles.append(element('h3', {}, 'Reference cycles, by shape'));
    for (const shape of leaks.cycles) {
      const details = element('details', { class: 'cycle' });
      details.append(element('summary', {}, shape.headline), element('pre', {}, shape.members));
      cycles.append(details);
    }

    const body = table.querySelector('tbody');
    body.textContent = '';
    leaks.sites.forEach((site, i) => {
      const tr = element('tr', { 'data-kind': site.kind, 'data-size': site.size, 'data-count': site.count });
      const where = element('td', { class: 'site' });
      const details = element('details');
      details.append(element('summary', { class: 'mono' }, site.stack.length ? frameText(site.stack[0]) : '<unknown>'),
                     stackList(site.stack, site.frames_not_captured));
      where.append(details);
      tr.append(element('td', { class: 'number' }, String(i + 1)),
                element('td', { class: 'kind-' + site.kind }, site.kind),
                element('td', { class: 'number', title: site.size + ' B' }, formatSize(site.size)),
                element('td', { class: 'number' }, String(site.count)), where);
      body.append(tr);
    });
    if (leaks.total_sites > leaks.sites.length) {
      const tr = element('tr');
      tr.append(element('td', { colspan: 5, class: 'note' }, `... and ${leaks.total_sites - leaks.sites.length} smaller sites`));
      body.append(tr);
    }
  }

  // ---- wiring --------------------------------------------------------------------------------

  function renderView() {
    renderViewSwitch();
    renderFlame();
    renderSites();
  }

  renderSummary();
  renderChart();
  renderView();
  renderLeaks();
  setUpFlameEvents();
  setUpSorting();
  // Redraw only a drawing whose width would change: a redraw replaces the elements under the mouse,
  // and one between a press and its release loses the click. Browsers send resize events that change
  // nothing here (a scroll bar appearing elsewhere, the page zoom settling).
  function redrawIfWidthChanged(boxId, svgId, render) {
    const drawn = document.getElementById(svgId);
    if (drawn !== null && Number(drawn.getAttribute('width')) === drawingWidth(document.getElementById(boxId))) return;
    render();
  }
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      redrawIfWidthChanged('chart', 'chart-svg', renderChart);
      redrawIfWidthChanged('flamegraph', 'flame-svg', renderFlame);
    }, 150);
  });
  document.documentElement.setAttribute('data-rendered', 'true');
})();
