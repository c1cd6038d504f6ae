// The FlashSale operator console. Plain JavaScript, no library, nothing from another origin.
// The admin token comes from the URL fragment (#token=…, never sent to a server), is kept in sessionStorage
// and sent as a bearer header; the live view is read with fetch() because EventSource cannot send that header.
'use strict';

(() => {
  const TOKEN_KEY = 'flashsale.console.token';
  const API = '/api/v1/admin';
  const HISTORY_SECONDS = 60;
  const COLORS = {
    'created': '#1f7a4d', 'replay': '#6b8fd6', 'sold-out': '#8a8f98', 'sold-out-cached': '#b9bdc4',
    'limit': '#d48a00', 'rate-limited': '#7b3fb5', 'busy': '#c2410c', 'admission-required': '#0e7490',
    'not-started': '#9aa3b2', 'ended': '#5b6575', 'not-on-sale': '#a3a3a3', 'key-conflict': '#be185d',
    'recovering': '#b3261e', 'not-durable': '#e11d48', 'error': '#7f1d1d',
  };
  const SPARE_COLORS = ['#0f766e', '#9333ea', '#ca8a04', '#2563eb', '#db2777', '#65a30d'];

  const numbers = new Intl.NumberFormat();
  const decimals = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    stream: null,          // AbortController of the live stream
    retry: null,           // timer of the next reconnect
    history: [],           // [{ second, outcomes }]
    colors: new Map(),
    peaks: new Map(),
    campaigns: [],         // GET /admin/campaigns
    live: null,            // the last LiveUpdate
  };

  const fmt = (n) => (n === null || n === undefined ? '–' : numbers.format(n));
  const ms = (n) => (n === null || n === undefined ? '–' : `${decimals.format(n)} ms`);

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // ---- Authentication ------------------------------------------------------------------------------------------

  function takeTokenFromFragment() {
    const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (match) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
      // Out of the address bar and the history, so it is not copied along with the link.
      history.replaceState(null, '', location.pathname + location.search);
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${state.token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401 || response.status === 403) {
      signOut(response.status === 401
        ? 'The token was not accepted: it is expired or not signed for this deployment.'
        : 'This token is not an admin\'s: the console needs the admin role.');
      throw new SignedOut();
    }
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    return { status: response.status, ok: response.ok, json };
  }

  class SignedOut extends Error {}

  async function signIn(token) {
    state.token = token;
    let answer;
    try {
      answer = await api('GET', `${API}/campaigns`);
    } catch (error) {
      if (!(error instanceof SignedOut)) showSignIn('The Ingress did not answer; try again.');
      return;
    }
    if (!answer.ok) {
      showSignIn(`The Ingress answered ${answer.status}; try again.`);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    state.campaigns = answer.json || [];
    $('sign-in').hidden = true;
    $('app').hidden = false;
    $('sign-out').hidden = false;
    renderCampaigns();
    connect();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    if (state.stream) state.stream.abort();
    clearTimeout(state.retry);
    state.stream = null;
    state.live = null;
    state.history = [];
    state.campaigns = [];
    // No data stays on a signed-out page.
    $('campaigns').replaceChildren();
    blocks.clear();
    $('findings').replaceChildren();
    $('rate-legend').replaceChildren();
    $('reconcile-result').replaceChildren();
    showSignIn(message || '');
  }

  function showSignIn(message) {
    $('app').hidden = true;
    $('sign-out').hidden = true;
    $('sign-in').hidden = false;
    $('sign-in-message').textContent = message;
    setConnection('Not signed in');
  }

  // ---- The live stream ---------------------------------------------------------------------------------------

  function setConnection(text) {
    $('connection').textContent = text;
  }

  async function connect() {
    const controller = new AbortController();
    state.stream = controller;
    setConnection('Connecting…');
    try {
      const response = await fetch(`${API}/live`, {
        headers: { Authorization: `Bearer ${state.token}`, Accept: 'text/event-stream' },
        signal: controller.signal,
        cache: 'no-store',
      });
      if (response.status === 401 || response.status === 403) {
        signOut(response.status === 401 ? 'The token was not accepted.' : 'This token is not an admin\'s.');
        return;
      }
      if (!response.ok || !response.body) throw new Error(`live stream answered ${response.status}`);
      setConnection('Live');
      await readEvents(response.body, controller.signal);
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    if (state.stream === controller && !controller.signal.aborted) {
      setConnection('Disconnected; reconnecting…');
      state.retry = setTimeout(connect, 2000);
    }
  }

  async function readEvents(body, signal) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) type = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (type === 'update' && data.length > 0) {
          onUpdate(JSON.parse(data.join('\n')));
        }
      }
    }
  }

  function onUpdate(update) {
    state.live = update;
    const at = new Date(update.at);
    setConnection(update.error ? `Live, with a problem: ${update.error}` : `Live · ${at.toLocaleTimeString()}`);
    state.history.push({ second: update.second, outcomes: update.outcomes || {} });
    while (state.history.length > HISTORY_SECONDS) state.history.shift();
    renderTiles(update);
    renderChart();
    renderCampaigns();
    renderReconciler(update.reconciler);
  }

  // ---- Rendering -----------------------------------------------------------------------------------------------

  function renderTiles(update) {
    const outcomes = update.outcomes || {};
    const answers = Object.values(outcomes).reduce((a, b) => a + b, 0);
    $('tile-created').textContent = fmt(outcomes.created || 0);
    $('tile-answers').textContent = fmt(answers);
    $('tile-p50').textContent = ms(update.p50Ms);
    $('tile-p99').textContent = ms(update.p99Ms);
    $('tile-outbox').textContent = fmt(update.outboxBacklog);
    $('tile-kafka').textContent = update.kafkaLag === null ? 'unknown' : fmt(update.kafkaLag);
    const drift = update.reconciler ? update.reconciler.drift : null;
    $('tile-drift').textContent = drift === null ? 'no report' : fmt(drift);
    $('tile-drift').classList.toggle('bad', drift > 0);
    $('tile-fenced').textContent = fmt(update.fenced);
    $('tile-fenced').classList.toggle('bad', update.fenced > 0);
    $('rates-note').textContent = `· ${fmt(update.reporting)} Ingress reporting · latency over ${fmt(update.latencyWindowSeconds)} s (${fmt(update.latencySamples)} requests)`;
  }

  function colorOf(outcome) {
    if (!state.colors.has(outcome)) {
      state.colors.set(outcome, COLORS[outcome] || SPARE_COLORS[state.colors.size % SPARE_COLORS.length]);
    }
    return state.colors.get(outcome);
  }

  function renderChart() {
    const canvas = $('rate-chart');
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 800;
    const height = canvas.clientHeight || 220;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);

    const outcomes = new Set();
    for (const point of state.history) for (const name of Object.keys(point.outcomes)) outcomes.add(name);
    let max = 1;
    for (const point of state.history) for (const value of Object.values(point.outcomes)) max = Math.max(max, value);
    const top = niceCeiling(max);
    const left = 48, right = 8, topPad = 8, bottom = 20;
    const plotW = width - left - right, plotH = height - topPad - bottom;

    g.strokeStyle = '#d9dde4';
    g.fillStyle = '#5b6575';
    g.font = '11px system-ui, sans-serif';
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = topPad + plotH - (plotH * i) / 4;
      g.beginPath(); g.moveTo(left, y); g.lineTo(width - right, y); g.stroke();
      g.fillText(numbers.format(Math.round((top * i) / 4)), 4, y + 4);
    }
    g.fillText(`-${HISTORY_SECONDS}s`, left, height - 4);
    g.fillText('now', width - right - 22, height - 4);

    const last = state.history.length ? state.history[state.history.length - 1].second : 0;
    const x = (second) => left + plotW - ((last - second) / (HISTORY_SECONDS - 1)) * plotW;
    const y = (value) => topPad + plotH - (value / top) * plotH;
    g.lineWidth = 2;
    for (const outcome of outcomes) {
      g.strokeStyle = colorOf(outcome);
      g.beginPath();
      let started = false;
      for (const point of state.history) {
        const px = x(point.second), py = y(point.outcomes[outcome] || 0);
        if (started) g.lineTo(px, py); else { g.moveTo(px, py); started = true; }
      }
      g.stroke();
    }

    const legend = $('rate-legend');
    const current = state.history.length ? state.history[state.history.length - 1].outcomes : {};
    const items = [...outcomes].sort().map((outcome) => {
      const peak = Math.max(...state.history.map((p) => p.outcomes[outcome] || 0));
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = colorOf(outcome);
      return el('li', { 'data-outcome': outcome, 'data-now': current[outcome] || 0, 'data-peak': peak },
        swatch, `${outcome} `, el('b', { text: fmt(current[outcome] || 0) }), `/s (peak ${fmt(peak)})`);
    });
    legend.replaceChildren(...(items.length ? items : [el('li', { text: 'No reservations in the last minute.' })]));
  }

  function niceCeiling(value) {
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
    return 10 * power;
  }

  // Each campaign's block is made once and its numbers updated in place, so its buttons keep focus across updates.
  const blocks = new Map();

  function renderCampaigns() {
    const live = new Map((state.live ? state.live.campaigns : []).map((c) => [c.campaignId, c]));
    const listed = new Map(state.campaigns.map((c) => [c.campaignId, c]));
    // Live campaigns first (the latest to start first), then the rest of the list.
    const ids = [...live.keys(), ...state.campaigns.map((c) => c.campaignId).filter((id) => !live.has(id))];
    for (const id of [...blocks.keys()]) if (!ids.includes(id)) blocks.delete(id);
    const entries = ids.map((id) => {
      let entry = blocks.get(id);
      if (!entry || entry.live !== live.has(id)) {
        entry = campaignBlock(id, live.has(id));
        blocks.set(id, entry);
      }
      updateBlock(entry, live.get(id), listed.get(id));
      return entry.block;
    });
    const container = $('campaigns');
    const current = [...container.children];
    if (current.length !== entries.length || current.some((node, i) => node !== entries[i])) {
      container.replaceChildren(...(entries.length ? entries : [el('p', { class: 'note', text: 'No campaigns yet: create one below.' })]));
    }
    $('live-note').textContent = state.live && state.live.truncated
      ? 'Only the first SKUs are shown live; the rest are left out to keep the live view cheap.' : '';
  }

  function campaignBlock(id, isLive) {
    const period = el('span', { class: 'window' });
    const head = el('div', { class: 'campaign-head' },
      el('h3', { text: id }),
      period,
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'secondary', 'data-action': 'warmup', 'data-campaign': id, onclick: () => warmUp(id) }, 'Warm up'),
        el('button', { type: 'button', class: 'secondary', 'data-action': 'reconcile', 'data-campaign': id, onclick: () => reconcile(id, false) }, 'Reconcile'),
        el('button', { type: 'button', class: 'danger', 'data-action': 'repair', 'data-campaign': id, onclick: () => confirmRepair(id) }, 'Repair…')));
    const block = el('article', { class: 'campaign', 'data-campaign': id }, head);
    const note = el('p', { class: 'note' });
    const body = el('tbody');
    if (isLive) {
      block.append(el('div', { class: 'table-wrap' }, el('table', {},
        el('caption', { class: 'note', text: `${id}: stock per SKU` }),
        el('thead', {}, el('tr', {},
          ...['SKU', 'Stock', 'Total', 'Available', 'Reserved', 'Sold', 'Outbox', 'Drift', 'State'].map((h, i) =>
            el('th', { scope: 'col', class: i === 1 ? 'stock' : i === 8 ? 'state' : null, text: h })))),
        body)));
    } else {
      block.append(note);
    }
    return { block, period, note, body, live: isLive };
  }

  function updateBlock(entry, live, listed) {
    const source = live || listed;
    entry.period.textContent = `${new Date(source.startsAt).toLocaleString()} → ${new Date(source.endsAt).toLocaleString()}`;
    if (!live) {
      entry.note.textContent = `${fmt(listed.skuCount)} SKU(s); not in the live view (ended before the reconciler's look-back).`;
      return;
    }
    entry.body.replaceChildren(...live.skus.map((sku) => {
      const share = sku.total > 0 ? sku.available / sku.total : 0;
      const meter = el('div', {
        class: `meter${sku.available === 0 ? ' empty' : share < 0.2 ? ' low' : ''}`, role: 'meter',
        'aria-valuemin': 0, 'aria-valuemax': sku.total, 'aria-valuenow': sku.available,
        'aria-label': `SKU ${sku.skuId}: ${fmt(sku.available)} of ${fmt(sku.total)} available`,
      }, el('span'));
      meter.firstChild.style.width = `${(share * 100).toFixed(1)}%`;
      return el('tr', { 'data-sku': sku.skuId },
        el('td', { text: sku.skuId }),
        el('td', { class: 'stock' }, meter),
        el('td', { 'data-field': 'total', text: fmt(sku.total) }),
        el('td', { 'data-field': 'available', 'data-value': sku.available, text: fmt(sku.available) }),
        el('td', { 'data-field': 'reserved', text: fmt(sku.reserved) }),
        el('td', { 'data-field': 'sold', text: fmt(sku.sold) }),
        el('td', { 'data-field': 'outbox', text: fmt(sku.outbox) }),
        el('td', { 'data-field': 'drift', class: sku.drift > 0 ? 'drift-bad' : null, text: sku.drift === null ? '–' : fmt(sku.drift) }),
        el('td', { 'data-field': 'state', class: `state state-${sku.state}`, text: sku.state }));
    }));
  }

  function renderReconciler(report) {
    if (!report) {
      $('reconciler-summary').textContent = 'No report from the reconciler in the last minute (is a Persister running?).';
      $('findings').replaceChildren();
      return;
    }
    $('reconciler-summary').textContent =
      `Last round ${new Date(report.at).toLocaleTimeString()}: ${fmt(report.skus)} SKU(s), drift ${fmt(report.drift)} unit(s) after repairs.`;
    $('findings').replaceChildren(...report.findings.map((f) => el('li', {
      text: `${f.campaignId}/${f.skuId}: ${f.kind}${f.orderNo ? `, order ${f.orderNo}` : ''}, ${fmt(f.units)} unit(s)`,
    })));
  }

  // ---- Actions ---------------------------------------------------------------------------------------------------

  function say(text, failed) {
    const message = $('action-message');
    message.textContent = text;
    message.classList.toggle('failed', Boolean(failed));
  }

  function problemText(answer) {
    const p = answer.json || {};
    return p.detail || p.title || `answered ${answer.status}`;
  }

  async function refreshList() {
    const answer = await api('GET', `${API}/campaigns`);
    if (answer.ok) {
      state.campaigns = answer.json || [];
      renderCampaigns();
    }
  }

  async function warmUp(id) {
    say(`Warming up ${id}…`);
    try {
      const answer = await api('POST', `${API}/campaigns/${encodeURIComponent(id)}/warmup`);
      if (answer.ok) {
        const skus = answer.json.skus || [];
        say(`Warmed up ${id}: ${skus.map((s) => `SKU ${s.skuId} ${s.outcome}, ${fmt(s.available)} available`).join('; ')}.`);
      } else {
        say(`Warm-up of ${id} refused: ${problemText(answer)}`, true);
      }
    } catch (error) {
      if (!(error instanceof SignedOut)) say(`Warm-up of ${id} failed: the Ingress did not answer.`, true);
    }
  }

  function confirmRepair(id) {
    const dialog = $('repair-dialog');
    $('repair-text').textContent =
      `Repair ${id}: lost reservations are published again, orders Redis forgot are held again, and units of unreleased cancels go back on sale. ` +
      'Every repair re-checks its condition in Redis first. Repair now?';
    dialog.returnValue = '';
    dialog.addEventListener('close', () => {
      if (dialog.returnValue === 'repair') reconcile(id, true);
    }, { once: true });
    dialog.showModal();
  }

  async function reconcile(id, repair) {
    say(`${repair ? 'Repairing' : 'Checking'} ${id}…`);
    try {
      const answer = await api('POST', `${API}/campaigns/${encodeURIComponent(id)}/reconcile${repair ? '?repair=true' : ''}`);
      if (!answer.ok) {
        say(`Reconcile of ${id} refused: ${problemText(answer)}`, true);
        return;
      }
      const result = answer.json;
      say(`${repair ? 'Repaired' : 'Checked'} ${id}: ${result.drift === 0 ? 'no drift' : `${fmt(result.drift)} unit(s) drift`}.`, result.drift > 0);
      renderReconcileResult(result);
    } catch (error) {
      if (!(error instanceof SignedOut)) say(`Reconcile of ${id} failed: the Ingress did not answer.`, true);
    }
  }

  function renderReconcileResult(result) {
    const head = ['SKU', 'Total', 'Redis available', 'reserved', 'sold', 'MySQL pending', 'paid', 'cancelled', 'In flight', 'Drift', 'Repairs'];
    const rows = result.skus.map((s) => {
      const a = s.after;
      const drift = result.repaired && s.before.drift !== a.drift ? `${fmt(s.before.drift)} → ${fmt(a.drift)}` : fmt(a.drift);
      const repairs = Object.entries(s.repairs).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || '–';
      return el('tr', { 'data-sku': s.skuId },
        el('td', { text: s.skuId }), el('td', { text: fmt(a.total) }),
        el('td', { text: a.warmed ? fmt(a.redis.available) : 'not loaded' }), el('td', { text: fmt(a.redis.reserved) }),
        el('td', { text: fmt(a.redis.sold) }), el('td', { text: fmt(a.db.pending) }), el('td', { text: fmt(a.db.paid) }),
        el('td', { text: fmt(a.db.cancelled) }), el('td', { text: fmt(a.inFlight) }),
        el('td', { class: a.drift > 0 ? 'drift-bad' : null, text: drift }), el('td', { text: repairs }));
    });
    $('reconcile-result').replaceChildren(el('div', { class: 'table-wrap' }, el('table', { 'data-campaign': result.campaignId },
      el('caption', { class: 'note', text: `${result.repaired ? 'Repair' : 'Check'} of ${result.campaignId}` }),
      el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, rows))));
  }

  // ---- Creating a campaign ------------------------------------------------------------------------------------------

  function skuRow(sku) {
    const index = $('sku-rows').children.length;
    const input = (name, label, value) => el('div', { class: 'field' },
      el('label', { for: `f-sku-${index}-${name}`, text: label }),
      el('input', { id: `f-sku-${index}-${name}`, 'data-field': `skus[${index}].${name}`, value: value ?? '', autocomplete: 'off',
        'aria-describedby': `error-skus-${index}` }));
    const row = el('div', { class: 'sku-row', 'data-index': index },
      input('skuId', `SKU ${index + 1} id`, sku.skuId),
      input('price', 'Price', sku.price),
      input('stock', 'Stock', sku.stock),
      input('perUserLimit', 'Per buyer', sku.perUserLimit),
      el('button', { type: 'button', class: 'secondary', 'aria-label': `Remove SKU ${index + 1}`, onclick: () => { row.remove(); renumber(); } }, 'Remove'),
      el('p', { class: 'field-error', id: `error-skus-${index}` }));
    $('sku-rows').append(row);
  }

  function renumber() {
    const skus = [...$('sku-rows').children].map((row) => Object.fromEntries(
      [...row.querySelectorAll('input')].map((i) => [i.dataset.field.replace(/^skus\[\d+\]\./, ''), i.value])));
    $('sku-rows').replaceChildren();
    skus.forEach(skuRow);
  }

  function fillForm(definition) {
    for (const name of ['campaignId', 'startsAt', 'endsAt', 'paymentWindowSeconds']) {
      $(`f-${name}`).value = definition[name] ?? '';
    }
    $('sku-rows').replaceChildren();
    (Array.isArray(definition.skus) ? definition.skus : []).forEach(skuRow);
  }

  function defaultForm() {
    const now = new Date();
    const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    fillForm({
      campaignId: '', startsAt: iso(now), endsAt: iso(new Date(now.getTime() + 3600_000)), paymentWindowSeconds: 900,
      skus: [{ skuId: '', price: '', stock: '', perUserLimit: 1 }],
    });
  }

  // An integer field goes as a JSON number when it reads as one; anything else goes as typed, and the API names the field.
  function value(input, numeric) {
    const text = input.value.trim();
    return numeric && /^-?\d+$/.test(text) ? Number(text) : text;
  }

  function definitionFromForm() {
    return {
      campaignId: value($('f-campaignId')),
      startsAt: value($('f-startsAt')),
      endsAt: value($('f-endsAt')),
      paymentWindowSeconds: value($('f-paymentWindowSeconds'), true),
      skus: [...$('sku-rows').children].map((row) => {
        const field = (name) => row.querySelector(`[data-field$=".${name}"]`);
        return {
          skuId: value(field('skuId'), true),
          price: value(field('price')),
          stock: value(field('stock'), true),
          perUserLimit: value(field('perUserLimit'), true),
        };
      }),
    };
  }

  function clearErrors() {
    for (const node of document.querySelectorAll('#create-form .field-error')) node.textContent = '';
    for (const node of document.querySelectorAll('#create-form [aria-invalid]')) node.removeAttribute('aria-invalid');
  }

  // "skus[1].stock" → the input of that field and the error line of its row; "skus[1]" → the row; "campaignId" → its field.
  function showFieldError(field, messages) {
    const text = messages.join(' ');
    const sku = /^skus\[(\d+)\](?:\.(\w+))?/i.exec(field || '');
    if (sku && $(`error-skus-${sku[1]}`)) {
      $(`error-skus-${sku[1]}`).textContent += (($(`error-skus-${sku[1]}`).textContent ? ' ' : '') + text);
      const input = sku[2] ? document.querySelector(`[data-field="skus[${sku[1]}].${sku[2]}" i]`) : null;
      if (input) input.setAttribute('aria-invalid', 'true');
      return;
    }
    const name = (field || 'body').replace(/\[.*$/, '');
    const line = $(`error-${name}`) || $('error-body');
    line.textContent += (line.textContent ? ' ' : '') + text;
    const input = document.querySelector(`#create-form [data-field="${name}"]`);
    if (input) input.setAttribute('aria-invalid', 'true');
  }

  async function create(event) {
    event.preventDefault();
    clearErrors();
    const definition = definitionFromForm();
    let answer;
    try {
      answer = await api('POST', `${API}/campaigns`, definition);
    } catch (error) {
      if (!(error instanceof SignedOut)) $('error-body').textContent = 'The Ingress did not answer; try again.';
      return;
    }
    if (answer.ok) {
      say(`Campaign ${answer.json.campaignId} ${answer.status === 201 ? 'created' : 'already exists, unchanged'}. Warm it up to put its stock on sale.`);
      defaultForm();
      await refreshList();
      return;
    }
    const problem = answer.json || {};
    if (problem.errors) {
      for (const [field, messages] of Object.entries(problem.errors)) showFieldError(field, messages);
    } else if (problem.field) {
      showFieldError(problem.field, [problem.detail || problem.title]);
    } else {
      $('error-body').textContent = problemText(answer);
    }
  }

  function loadJson() {
    $('error-json').textContent = '';
    try {
      fillForm(JSON.parse($('f-json').value));
    } catch (error) {
      $('error-json').textContent = `Not JSON: ${error.message}`;
    }
  }

  // ---- Start --------------------------------------------------------------------------------------------------------

  function start() {
    $('sign-in-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const token = $('token-input').value.trim();
      $('token-input').value = '';
      if (token) signIn(token);
    });
    $('sign-out').addEventListener('click', () => signOut('Signed out.'));
    $('create-form').addEventListener('submit', create);
    $('add-sku').addEventListener('click', () => skuRow({ perUserLimit: 1 }));
    $('load-json').addEventListener('click', loadJson);
    window.addEventListener('resize', () => { if (state.live) renderChart(); });
    defaultForm();

    takeTokenFromFragment();
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) signIn(token); else showSignIn('');
  }

  start();
})();
