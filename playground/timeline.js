// The timeline of one surefetch call: a row per attempt with its phases (queue, waiting for headers,
// body), the backoff before it, how it ended, and the deadline that fired.
//
// It is built from surefetch's listeners (`on.request` at dispatch, `on.response` when headers
// arrive, `on.retry` when a failed attempt will be retried, `on.error` for the final failure), each
// stamped with performance.now(), and their `timings`. surefetch has no event for "the body of a
// successful attempt ended": the page stamps that itself when the reader resolves (finish()).

/**
 * A recorder for one call. `listeners` goes into createClient({ on }); `finish(outcome)` is called
 * once the call settled (its value, or its error).
 */
export function createRecorder() {
  const rec = {
    t0: performance.now(), // the page sets it again right before calling surefetch
    attempts: [], // {n, start, headers, end, outcome, error, status, backoff, hedge, queue, timings}
    events: [], // {t, type, attempt, detail}
    retries: 0,
    pendingBackoff: undefined, // {from, to, delay} waiting for the next attempt
    done: false,
    end: undefined,
    final: undefined, // {error} | {status}
  };
  const now = () => performance.now() - rec.t0;
  const find = (n) => rec.attempts.find((a) => a.n === n);
  const open = () => rec.attempts.filter((a) => a.end === undefined);
  const log = (type, event, detail) => rec.events.push({ t: now(), type, attempt: event.attempt, detail });

  // An attempt failed; we learn it at `t` (on.retry / on.error). While hedging, the race ends when its
  // last attempt failed: an attempt whose own headers or attempt deadline fired ended earlier, at
  // dispatch + that deadline.
  const fail = (attempt, error, t) => {
    attempt.outcome = 'failed';
    attempt.error = error;
    attempt.end = t;
    if (error?.kind === 'timeout' && error.timeout !== undefined) {
      if ((error.phase === 'headers' && attempt.headers === undefined) || error.phase === 'attempt') attempt.end = Math.min(t, attempt.start + error.timeout);
    }
  };

  // `timings.queue` is the call's time in the queue so far: this attempt's share is what is new.
  const setTimings = (attempt, timings) => {
    attempt.timings = timings;
    if (!timings || attempt.queue !== undefined) return;
    const before = rec.attempts.reduce((sum, a) => sum + (a !== attempt && a.queue ? a.queue : 0), 0);
    attempt.queue = Math.max(0, timings.queue - before);
  };

  rec.listeners = {
    request(event) {
      const t = now();
      log('request', event, `${event.request.method} ${event.request.url}`);
      const sequential = open().length === 0;
      const backoff = sequential ? rec.pendingBackoff : undefined;
      if (backoff) rec.pendingBackoff = undefined;
      rec.attempts.push({
        n: event.attempt,
        start: t,
        backoff,
        hedge: !sequential,
      });
    },
    response(event) {
      const t = now();
      log('response', event, `status ${event.status} · timings ${formatTimings(event.timings)}`);
      const attempt = find(event.attempt) ?? rec.attempts.at(-1);
      if (!attempt) return;
      attempt.headers = t;
      attempt.status = event.status;
      setTimings(attempt, event.timings);
      // Hedging: the first headers win, the other attempts are aborted right away.
      for (const other of open()) {
        if (other !== attempt && other.headers === undefined) {
          other.end = t;
          other.outcome = 'lost';
          other.winner = attempt.n;
        }
      }
    },
    retry(event) {
      const t = now();
      rec.retries++;
      const retryAfter = event.error.kind === 'http' ? event.error.headers?.get('retry-after') : null;
      log('retry', event, `${short(event.error)} · backoff ${Math.round(event.delay)} ms${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}`);
      for (const attempt of open()) fail(attempt, event.error, t);
      rec.pendingBackoff = { from: t, to: t + event.delay, delay: event.delay, retryAfter: Boolean(retryAfter) };
    },
    error(event) {
      const t = now();
      log('error', event, `${short(event.error)} · timings ${formatTimings(event.timings)}`);
      for (const attempt of open()) {
        fail(attempt, event.error, t);
        setTimings(attempt, event.timings);
      }
    },
  };

  /** The call settled: close what is still open. `error` for a failure, else a success. */
  rec.finish = ({ error } = {}) => {
    const t = now();
    rec.end = t;
    rec.done = true;
    rec.pendingBackoff = undefined;
    rec.final = error ? { error } : { ok: true };
    for (const attempt of open()) {
      attempt.end = t;
      if (error) fail(attempt, error, t);
      else {
        attempt.outcome = attempt.headers === undefined ? 'lost' : 'ok';
      }
    }
  };
  rec.now = now;
  return rec;
}

export function short(error) {
  if (!error) return '';
  if (error.kind === undefined) return error.name ?? String(error);
  const detail = error.phase ?? error.code ?? error.reason ?? error.status ?? error.source;
  return detail === undefined ? error.kind : `${error.kind}/${detail}`;
}

function formatTimings(t) {
  if (!t) return '';
  return `{queue ${round(t.queue)}, headers ${round(t.headers)}, body ${round(t.body)}, total ${round(t.total)}}`;
}

const round = (value) => Math.round(value);

// ---------------------------------------------------------------------------------------------
// Rendering: plain HTML elements positioned in percent of the time axis.
// ---------------------------------------------------------------------------------------------

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

/** A "nice" step (1, 2 or 5 × 10^k) for about `count` ticks over `span` ms. */
function tickStep(span, count = 6) {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

export const formatMs = (value) => (value >= 1000 ? `${+(value / 1000).toFixed(value % 1000 === 0 ? 0 : 2)} s` : `${Math.round(value)} ms`);

/** Where a fired deadline sits on an attempt's row: the band it measured, and the line where it fired. */
function deadlineOf(attempt) {
  const e = attempt.error;
  if (!e || e.kind !== 'timeout' || e.phase === 'total') return undefined;
  const end = attempt.end;
  const limit = e.timeout;
  let from;
  if (e.phase === 'idle') from = limit === undefined ? (attempt.headers ?? attempt.start) : Math.max(attempt.headers ?? attempt.start, end - limit);
  else if (e.phase === 'queue') from = attempt.start - (attempt.queue ?? 0);
  else from = attempt.start;
  return { phase: e.phase, limit, from, at: end };
}

/**
 * Renders the timeline of `rec` into `root`. While the call runs, open phases grow up to now.
 * @param {HTMLElement} root
 * @param {ReturnType<typeof createRecorder>} rec
 */
export function renderTimeline(root, rec) {
  const now = rec.done ? rec.end : rec.now();
  const finalError = rec.final?.error;
  const totalFired = finalError?.kind === 'timeout' && finalError.phase === 'total';
  let span = Math.max(now, 1);
  if (totalFired && finalError.timeout !== undefined) span = Math.max(span, finalError.timeout);
  // The track's width in px (the row is label | track | outcome, see .timeline and .tl-row in
  // style.css: the two side columns are --tl-label and --tl-outcome, narrower on small screens).
  const style = getComputedStyle(root);
  const px = (value, fallback) => Number.parseFloat(value) || fallback;
  const sides = px(style.paddingLeft, 13) + px(style.paddingRight, 13) + px(style.getPropertyValue('--tl-label'), 84)
    + px(style.getPropertyValue('--tl-outcome'), 142) + 2 * px(style.getPropertyValue('--tl-gap'), 12);
  const trackPx = root.clientWidth > 0 ? Math.max(60, root.clientWidth - sides) : 400;
  // As many ticks as fit their labels (about 70 px each): 6 on a wide screen, 2 on a phone.
  const step = tickStep(span, Math.max(2, Math.min(6, Math.floor(trackPx / 70))));
  const max = Math.max(step, Math.ceil((span * 1.04) / step) * step);
  const x = (t) => `${Math.max(0, Math.min(100, (t / max) * 100))}%`;
  const w = (a, b) => `${Math.max(0, Math.min(100, ((Math.max(b, a) - a) / max) * 100))}%`;

  root.replaceChildren();
  root.dataset.attempts = String(rec.attempts.length);

  // The axis.
  const axis = el('div', 'tl-axis');
  axis.append(el('div', 'tl-label tl-axis-title'));
  const ticks = el('div', 'tl-track tl-ticks');
  for (let t = 0; t <= max + 1e-6; t += step) {
    const tick = el('span', 'tl-tick', formatMs(t));
    tick.style.left = x(t);
    if (t === 0) tick.classList.add('first');
    if (t + step > max + 1e-6) tick.classList.add('last');
    ticks.append(tick);
  }
  axis.append(ticks, el('div', 'tl-outcome'));
  root.append(axis);

  const rows = el('div', 'tl-rows');
  const grid = el('div', 'tl-grid');
  for (let t = step; t < max - 1e-6; t += step) {
    const line = el('span', 'tl-gridline');
    line.style.left = x(t);
    grid.append(line);
  }
  rows.append(grid);

  if (rec.attempts.length === 0) {
    const row = el('div', 'tl-row tl-row-empty');
    row.append(el('div', 'tl-label', '—'));
    const track = el('div', 'tl-track');
    track.append(el('span', 'tl-note', rec.done ? 'No attempt was dispatched.' : 'Waiting to dispatch…'));
    row.append(track, el('div', 'tl-outcome'));
    rows.append(row);
  }

  for (const attempt of rec.attempts) {
    const end = attempt.end ?? now;
    const row = el('div', 'tl-row');
    row.dataset.testid = 'timeline-row';
    row.dataset.attempt = String(attempt.n);
    row.dataset.outcome = attempt.outcome ?? 'running';

    const label = el('div', 'tl-label');
    label.append(el('strong', '', `attempt ${attempt.n}`));
    if (attempt.hedge) label.append(el('span', 'tl-tag', 'hedge'));
    row.append(label);

    const track = el('div', 'tl-track');
    const segment = (kind, from, to, text, title) => {
      if (to - from <= 0) return;
      const seg = el('div', `seg seg-${kind}`);
      seg.style.left = x(from);
      seg.style.width = w(from, to);
      seg.title = title;
      seg.dataset.phase = kind;
      // The longest label that fits (`text` may list several, longest first), else the duration, else
      // none: the title has it all.
      const px = ((to - from) / max) * trackPx;
      const fits = (label) => label.length * 6.3 + 12 <= px;
      const label = text ? [...[text].flat(), formatMs(to - from)].find(fits) : undefined;
      if (label) seg.append(el('span', 'seg-text', label));
      track.append(seg);
    };
    if (attempt.backoff) {
      const b = attempt.backoff;
      const labels = [`backoff ${formatMs(b.delay)}${b.retryAfter ? ' (Retry-After)' : ''}`, `backoff ${formatMs(b.delay)}`];
      segment('backoff', b.from, Math.min(b.to, attempt.start), labels, `backoff: ${formatMs(b.delay)}${b.retryAfter ? ", the server's Retry-After" : ', the retry delay'}`);
    }
    // The wait for a concurrency or rate slot ends at dispatch (only with limits; timings.queue).
    if (attempt.queue >= 1) segment('queue', attempt.start - attempt.queue, attempt.start, 'queue', `queue: ${formatMs(attempt.queue)} waiting for a slot`);
    const headersEnd = attempt.headers ?? end;
    segment('headers', attempt.start, headersEnd, [`waiting for headers ${formatMs(headersEnd - attempt.start)}`, `headers ${formatMs(headersEnd - attempt.start)}`], `waiting for headers: ${formatMs(headersEnd - attempt.start)} from dispatch`);
    if (attempt.headers !== undefined) segment('body', attempt.headers, end, `body ${formatMs(end - attempt.headers)}`, `body: ${formatMs(end - attempt.headers)} from headers to ${attempt.outcome === 'failed' ? 'the failure' : 'its end'}`);
    // A hairline so that even a 1 ms attempt is visible.
    if (end - attempt.start <= 0 || (end - attempt.start) / max < 0.004) segment(attempt.headers === undefined ? 'headers' : 'body', attempt.start, attempt.start + max * 0.004, '', 'under 1 ms');

    const deadline = deadlineOf(attempt);
    if (deadline) {
      const band = el('div', 'tl-band');
      band.style.left = x(deadline.from);
      band.style.width = w(deadline.from, deadline.at);
      band.title = `the ${deadline.phase} deadline measured this span`;
      track.append(band);
      track.append(marker(deadline.phase, deadline.limit, x(deadline.at), deadline.at / max > 0.6));
    }

    if (attempt.end !== undefined) {
      const symbol = attempt.outcome === 'ok' ? '✓' : attempt.outcome === 'lost' ? '–' : '✕';
      const cap = el('span', `tl-cap tl-cap-${attempt.outcome}`, symbol);
      cap.style.left = x(end);
      track.append(cap);
    }
    row.append(track);
    row.append(outcomeCell(attempt, rec));
    rows.append(row);
  }

  // The total deadline spans the whole call: one line over every row, labelled above the axis.
  if (totalFired) {
    const at = finalError.timeout ?? rec.end;
    const overlay = el('div', 'tl-overlay');
    const line = marker('total', finalError.timeout, x(at), at / max > 0.6);
    overlay.append(line);
    rows.append(overlay);
    axis.classList.add('has-total');
  }
  root.append(rows);
}

function marker(phase, limit, left, flip) {
  const line = el('div', `tl-deadline${flip ? ' flip' : ''}`);
  line.dataset.testid = 'deadline-marker';
  line.dataset.phase = phase;
  line.style.left = left;
  line.append(el('span', 'tl-deadline-label', `${phase} ${limit === undefined ? '(runtime timer)' : formatMs(limit)}`));
  return line;
}

function outcomeCell(attempt, rec) {
  const cell = el('div', 'tl-outcome');
  if (attempt.outcome === undefined) {
    cell.append(el('span', 'out out-running', attempt.headers === undefined ? 'waiting for headers…' : 'reading body…'));
    return cell;
  }
  if (attempt.outcome === 'ok') {
    cell.append(el('span', 'out out-ok', `✓ ${attempt.status ?? ''} ${rec.final?.ok ? 'done' : ''}`.replace(/\s+/g, ' ').trim()));
    return cell;
  }
  if (attempt.outcome === 'lost') {
    cell.append(el('span', 'out out-lost', attempt.winner ? `cancelled: #${attempt.winner} won` : 'cancelled'));
    return cell;
  }
  const e = attempt.error;
  const text = e?.kind === 'timeout' ? `✕ ${e.phase} deadline` : e?.kind === 'http' ? `✕ HTTP ${e.status}` : `✕ ${short(e)}`;
  const out = el('span', `out out-failed kind-text-${e?.kind ?? 'other'}`, text);
  cell.append(out);
  const next = rec.attempts.find((a) => a.n === attempt.n + 1 && !a.hedge);
  if (next) cell.append(el('span', 'out-sub', '→ retried'));
  return cell;
}
