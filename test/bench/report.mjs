// Turns the runs of run.mjs into the markdown table and the SVG chart (hand-written SVG, no
// dependency). Also a CLI, to redraw from a saved run:
//   node test/bench/report.mjs test/bench/results/20.20.2.json

import {readFileSync, writeFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

export const CASE_ORDER = ['small', 'c64', 'mib', 'gbk', 'utf8', 'records', 'rss', 'heap'];

const TITLES = {
	small: '(a) sequential small JSON (~100 B), concurrency 1',
	c64: '(b) 1 KB JSON, concurrency 64',
	mib: '(c) 1 MiB bodies, concurrency 8',
	gbk: '(d) `.json()` of a 10 MB GBK JSON body (`charset=gbk`)',
	utf8: '(d) `.json()` of a 10 MB UTF-8 JSON body',
	records: '(d) `.json()` of a 12 MB UTF-8 JSON array of records, ASCII and CJK',
	rss: '(e) memory: peak RSS reading a 200 MiB body',
	heap: '(e) memory: heap after N small JSON requests (concurrency 8)',
};

/** What each client calls in the memory case (the 200 MiB read). */
const RSS_READERS = {
	fetch: '`response.bytes()`',
	'fetch-arrayBuffer': '`response.arrayBuffer()`',
	ky: '`.bytes()`',
	surefetch: '`.bytes()`, `maxBodyBytes: false`',
	'surefetch-full': '`.bytes()`, `maxBodyBytes: false`',
	'surefetch-node': '`.bytes()`, `maxBodyBytes: false`',
	ofetch: '`responseType: \'arrayBuffer\'`',
	axios: '`responseType: \'arraybuffer\'`',
	got: '`.buffer()`',
	undici: '`body.bytes()`',
};

/** What the GBK case calls: the raw baselines decode by hand, the libraries use their own `.json()`. */
const GBK_READERS = {
	fetch: '`new TextDecoder(\'gbk\').decode(await r.arrayBuffer())` + `JSON.parse`',
	undici: '`new TextDecoder(\'gbk\').decode(await body.arrayBuffer())` + `JSON.parse`',
};

export const median = (values) => {
	const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
	if (sorted.length === 0) return Number.NaN;
	const mid = sorted.length >> 1;
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** case -> client -> {rps, cpu, spread, correct, errors, rounds, ...memory medians} */
export function summarize(runs) {
	const out = {};
	for (const run of runs) {
		const byClient = (out[run.case] ??= {});
		const entry = (byClient[run.client] ??= {ok: [], errors: []});
		if (run.ok) entry.ok.push(run);
		else entry.errors.push(run.error);
	}
	for (const byClient of Object.values(out)) {
		for (const [client, entry] of Object.entries(byClient)) {
			const pick = (key) => median(entry.ok.map((r) => r[key]));
			const rpsValues = entry.ok.map((r) => r.rps).filter(Number.isFinite);
			const rps = pick('rps');
			byClient[client] = {
				rounds: entry.ok.length,
				errors: entry.errors,
				rps,
				/** round -> req/s, for the per-round ratios of the decoding cases. */
				byRound: Object.fromEntries(entry.ok.map((r) => [r.round, r.rps])),
				cpu: pick('cpuUsPerReq'),
				spread: rpsValues.length > 1 ? (Math.max(...rpsValues) - Math.min(...rpsValues)) / rps : 0,
				correct: entry.ok.every((r) => r.correct !== false),
				sample: entry.ok.find((r) => r.sample !== undefined)?.sample,
				requests: pick('requests'),
				seconds: pick('seconds'),
				rssBefore: pick('rssBefore'),
				rssPeak: pick('rssPeak'),
				rssGrowth: pick('rssGrowth'),
				heapBefore: pick('heapBefore'),
				heapAfter: pick('heapAfter'),
				heapGrowth: pick('heapGrowth'),
			};
		}
	}
	return out;
}

const MB = 2 ** 20;
/** Cases that read one big body whose text is checked. */
const DECODING = ['gbk', 'utf8', 'records'];

/** The client's time per read ÷ the baseline's, round by round (fetch's req/s ÷ the client's in the same round). */
function roundRatios(row, base) {
	return Object.entries(row?.byRound ?? {}).filter(([round]) => Number.isFinite(base?.byRound?.[round])).map(([round, rps]) => base.byRound[round] / rps);
}

/** Round by round, the client's time per read ÷ the baseline's, and the worst. */
function perRound(row, base) {
	const ratios = roundRatios(row, base);
	if (ratios.length === 0) return 'n/a';
	return `${ratios.map((r) => r.toFixed(2)).join(' · ')} (worst ${Math.max(...ratios).toFixed(2)}×)`;
}

/** [what, measured, met] for each of issue 10's speed targets this run has the clients and cases for. */
// Three decimals: a figure shown as 0.95 must not be judged below 0.95.
function targetRows(summary) {
	const rows = [];
	const c64 = summary.c64;
	if (c64?.surefetch && c64.ky) {
		const rps = c64.surefetch.rps / c64.ky.rps;
		const cpu = c64.surefetch.cpu / c64.ky.cpu;
		rows.push(['(b) surefetch ÷ ky, req/s ≥ 0.95×', `${rps.toFixed(3)}×`, rps >= 0.95]);
		rows.push(['(b) surefetch ÷ ky, CPU per request ≤ 1.10×', `${cpu.toFixed(3)}×`, cpu <= 1.1]);
	}
	if (c64?.['surefetch-node'] && c64.fetch) {
		const rps = c64['surefetch-node'].rps / c64.fetch.rps;
		rows.push(['(b) surefetch/node ÷ raw fetch, req/s ≥ 1.2×', `${rps.toFixed(3)}×`, rps >= 1.2]);
	}
	for (const [name, limit, what] of [['records', 1.1, '12 MB UTF-8 records: `.json()` time ÷ `response.json()`'], ['gbk', 1.3, '10 MB GBK: `.json()` time ÷ TextDecoder + JSON.parse']]) {
		const ratios = roundRatios(summary[name]?.surefetch, summary[name]?.fetch);
		if (ratios.length === 0) continue;
		const worst = Math.max(...ratios);
		rows.push([`(d) ${what}, every round ≤ ${limit.toFixed(1)}×`, `worst ${worst.toFixed(3)}× (median ${(summary[name].fetch.rps / summary[name].surefetch.rps).toFixed(2)}×)`, worst <= limit]);
	}
	return rows;
}
const num = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}) : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const clientCell = (client, row) => `${client === 'fetch-arrayBuffer' ? 'fetch' : client}${row.errors.length ? ` (${row.errors.length} failed round${row.errors.length > 1 ? 's' : ''})` : ''}`;

export function machineLine(meta) {
	return `${meta.cpu}, ${meta.cores} cores, ${meta.ramGiB.toFixed(1)} GiB RAM, ${meta.platform}`;
}

/** Which code was measured, and how quiet the machine was (older result files lack these fields). */
function provenanceLines(meta, short = false) {
	const lines = [];
	if (meta.commit) {
		const [hash, date, ...subject] = meta.commit.split(' ');
		const limit = short ? 40 : 90;
		const code = `surefetch at commit ${hash} (${date}, "${subject.join(' ').slice(0, limit)}${subject.join(' ').length > limit ? '…' : ''}")`;
		lines.push(`Code: ${code}${meta.srcDirty ? ' plus uncommitted changes in src/' : ''}; dist ${meta.distHash}${meta.built ? ', built at the start of the run' : ' (not rebuilt by the run)'}`);
		if (meta.commitAtEnd && meta.commitAtEnd !== meta.commit) lines.push(`Note: HEAD moved during the run (to ${meta.commitAtEnd.split(' ')[0]}); every client used the snapshot of dist/ taken at the start`);
		else if (meta.distRebuiltDuringRun) lines.push('Note: dist/ was rebuilt during the run; every client used the snapshot taken at the start');
	}
	if (meta.loadavgStart) {
		const fmtLoad = (l) => l.map((v) => v.toFixed(2)).join(' ');
		const busy = meta.loadavgStart[0] > 1;
		lines.push(`Load average (1/5/15 min) at start: ${fmtLoad(meta.loadavgStart)}; at end: ${fmtLoad(meta.loadavgEnd)}${busy ? ' — ⚠ the machine was busy when the run started: compare with care' : ''}`);
	}
	return lines;
}

/** CPU that other processes used during the client runs (% of one core): mean and worst run. */
function backgroundLine(runs) {
	const values = runs.map((r) => r.otherCpu).filter(Number.isFinite);
	if (values.length === 0) return undefined;
	const mean = values.reduce((a, b) => a + b, 0) / values.length;
	const worst = runs.reduce((w, r) => (Number.isFinite(r.otherCpu) && r.otherCpu > (w?.otherCpu ?? -1) ? r : w), undefined);
	const noisy = values.filter((v) => v > 20).length;
	return `Background: other processes used ${mean.toFixed(1)}% of one core on average during the client runs (worst: ${worst.otherCpu.toFixed(0)}% in ${worst.case}/${worst.client} round ${worst.round}); ${noisy} of ${values.length} runs above 20%${noisy > 0 ? ' — ⚠ those rounds were disturbed' : ''}`;
}

export function renderMarkdown({meta, runs}) {
	const summary = summarize(runs);
	const lines = [];
	lines.push(`# surefetch bench: Node ${meta.node}${meta.quick ? ' (quick smoke run, not for comparison)' : ''}`);
	lines.push('');
	lines.push(`- Machine: ${machineLine(meta)}`);
	lines.push(`- Clients on Node ${meta.node} (V8 ${meta.v8}, bundled undici ${meta.undici}); server on Node ${meta.serverNode}, same machine, 127.0.0.1, keep-alive`);
	lines.push(`- Date: ${meta.date}; run took ${Math.round(meta.seconds)} s`);
	for (const line of provenanceLines(meta)) lines.push(`- ${line}`);
	const background = backgroundLine(runs);
	if (background) lines.push(`- ${background}`);
	const w = meta.windows;
	lines.push(`- Method: one process per client per round, rounds interleaved (A B C … A B C …), medians of ${meta.rounds} round${meta.rounds > 1 ? 's' : ''}. Cases a–c: ${w.small.warmupMs} ms warm-up + ${w.small.durationMs} ms measured; 10/12 MB cases: ${w.gbk.warmupMs} ms + ${w.gbk.durationMs} ms; 200 MiB read: median of ${Math.min(meta.rounds, 2)} round(s); heap: ${meta.heapRequests.toLocaleString('en-US')} requests, 1 round.`);
	lines.push('- CPU µs/req: `process.cpuUsage()` (user + system, all threads of the client process, GC included) over the measured window ÷ requests. Ratios: req/s ÷ the baseline\'s req/s (higher is faster) · CPU ÷ the baseline\'s CPU (lower is cheaper). Spread: (max − min) ÷ median of req/s over the rounds.');
	lines.push('');
	const targets = targetRows(summary);
	if (targets.length > 0) {
		lines.push('## Issue 10\'s speed targets, in this run');
		lines.push('');
		lines.push('| target | measured | met |');
		lines.push('|---|--:|:-:|');
		for (const [what, value, met] of targets) lines.push(`| ${what} | ${value} | ${met ? '✓' : '✗'} |`);
		lines.push('');
	}
	for (const name of meta.cases) {
		const rows = summary[name];
		if (!rows) continue;
		lines.push(`## ${TITLES[name].replace('N small', `${meta.heapRequests.toLocaleString('en-US')} small`)}`);
		lines.push('');
		if (name === 'rss') {
			const base = rows.fetch;
			const ky = rows.ky;
			lines.push('| client | reader | peak RSS MB | growth MB (peak − before) | time s | CPU ms | growth vs fetch | growth vs ky |');
			lines.push('|---|---|--:|--:|--:|--:|--:|--:|');
			for (const [client, row] of Object.entries(rows)) {
				lines.push(`| ${clientCell(client, row)} | ${RSS_READERS[client] ?? ''} | ${num(row.rssPeak / MB)} | ${num(row.rssGrowth / MB)} | ${num(row.seconds, 2)} | ${num(row.cpu / 1000)} | ${ratio(row.rssGrowth, base?.rssGrowth)} | ${ratio(row.rssGrowth, ky?.rssGrowth)} |`);
			}
			lines.push('');
			lines.push('The body is 200 MiB (209.7 MB); a reader that holds the chunks and then the joined copy peaks near 2×. "before" is the RSS after one small request and a GC, just before the read.');
		} else if (name === 'heap') {
			const base = rows.fetch;
			const ky = rows.ky;
			lines.push('| client | heap before MB | heap after MB | growth MB | req/s | after vs fetch | after vs ky |');
			lines.push('|---|--:|--:|--:|--:|--:|--:|');
			for (const [client, row] of Object.entries(rows)) {
				lines.push(`| ${clientCell(client, row)} | ${num(row.heapBefore / MB, 2)} | ${num(row.heapAfter / MB, 2)} | ${num(row.heapGrowth / MB, 2)} | ${num(row.rps)} | ${ratio(row.heapAfter, base?.heapAfter)} | ${ratio(row.heapAfter, ky?.heapAfter)} |`);
			}
			lines.push('');
			lines.push('`heapUsed` after 500 warm-up requests and three full GCs (before), then after the requests and three full GCs (after).');
		} else {
			const base = rows.fetch;
			const ky = rows.ky;
			const decoding = DECODING.includes(name);
			lines.push(`| client | req/s | CPU µs/req | spread | vs fetch: req/s · CPU | vs ky: req/s · CPU |${decoding ? ' time per read ÷ fetch\'s, each round | decoded text |' : ''}`);
			lines.push(`|---|--:|--:|--:|--:|--:|${decoding ? '--:|---|' : ''}`);
			for (const [client, row] of Object.entries(rows)) {
				const text = !decoding ? '' : row.rounds === 0 ? ' n/a | n/a |' : ` ${perRound(row, base)} | ${row.correct ? '✓' : `✗ wrong (\`${row.sample}…\`)`} |`;
				lines.push(`| ${clientCell(client, row)} | ${num(row.rps, row.rps < 100 ? 1 : 0)} | ${num(row.cpu)} | ${Number.isFinite(row.spread) ? `${Math.round(row.spread * 100)}%` : 'n/a'} | ${ratio(row.rps, base?.rps)} · ${ratio(row.cpu, base?.cpu)} | ${ratio(row.rps, ky?.rps)} · ${ratio(row.cpu, ky?.cpu)} |${text}`);
			}
			if (decoding) {
				lines.push('');
				lines.push('Each round: fetch\'s req/s ÷ the client\'s in that round (the time one read takes, relative to raw fetch\'s; above 1 is slower), then the worst round.');
			}
			if (name === 'gbk') {
				lines.push('');
				lines.push(`fetch and undici decode by hand: ${GBK_READERS.fetch}; every library uses its own \`.json()\` (what its users get). ✗: the text decoded as UTF-8 (U+FFFD), so JSON.parse "succeeds" with the wrong string.`);
			}
		}
		const failures = Object.entries(rows).flatMap(([client, row]) => row.errors.map((e) => `${client}: ${e}`));
		if (failures.length) {
			lines.push('');
			for (const failure of [...new Set(failures)]) lines.push(`- failed: ${failure}`);
		}
		lines.push('');
	}
	return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// SVG: one panel per case; throughput cases show req/s (left) and CPU µs/req (right) as bars.

const COLORS = {
	fetch: '#6b7280', 'fetch-arrayBuffer': '#9ca3af', ky: '#2563eb', surefetch: '#059669', 'surefetch-full': '#047857',
	'surefetch-node': '#34d399', ofetch: '#d97706', axios: '#7c3aed', got: '#db2777', undici: '#0891b2',
};
const escapeXml = (s) => String(s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;'})[c]);
const plain = (s) => s.replace(/`/g, '');

export function renderSvg({meta, runs}) {
	const summary = summarize(runs);
	const width = 1200;
	const labelW = 140;
	const gap = 30;
	const valueW = 150; // room for the value text after the longest bar
	const barArea = (width - 2 * 20 - gap) / 2 - labelW - valueW;
	const rowH = 18;
	const parts = [];
	let y = 28;
	const text = (x, yy, s, attrs = '') => parts.push(`<text x="${x}" y="${yy}" ${attrs}>${escapeXml(s)}</text>`);
	text(20, y, `surefetch bench: Node ${meta.node}${meta.quick ? ' (quick smoke run)' : ''}`, 'font-size="18" font-weight="bold"');
	y += 20;
	text(20, y, `${machineLine(meta)}`, 'font-size="12" fill="#374151"');
	y += 16;
	text(20, y, `clients on Node ${meta.node}, server on Node ${meta.serverNode}, 127.0.0.1 keep-alive; ${meta.date.slice(0, 16).replace('T', ' ')} UTC; medians of ${meta.rounds} interleaved round(s)`, 'font-size="12" fill="#374151"');
	for (const line of [...provenanceLines(meta, true), backgroundLine(runs)].filter(Boolean)) {
		y += 16;
		text(20, y, line, 'font-size="12" fill="#374151"');
	}
	y += 10;

	const bars = (x0, yTop, entries, valueOf, unit, digits, title) => {
		text(x0, yTop, title, 'font-size="12" font-weight="bold" fill="#111827"');
		const values = entries.map(([, row]) => valueOf(row)).filter(Number.isFinite);
		const max = Math.max(...values, 1e-9);
		entries.forEach(([client, row], i) => {
			const yy = yTop + 8 + i * rowH;
			const label = client === 'fetch-arrayBuffer' ? 'fetch (arrayBuffer)' : client;
			text(x0 + labelW - 6, yy + 12, label, 'font-size="11" text-anchor="end" fill="#111827"');
			const v = valueOf(row);
			if (!Number.isFinite(v)) {
				text(x0 + labelW, yy + 12, 'failed', 'font-size="11" fill="#b91c1c"');
				return;
			}
			const w = Math.max(1, (v / max) * barArea);
			parts.push(`<rect x="${x0 + labelW}" y="${yy + 2}" width="${w.toFixed(1)}" height="${rowH - 5}" fill="${COLORS[client] ?? '#999'}" rx="2"/>`);
			const wrong = row.correct === false ? ' ✗ wrong' : '';
			text(x0 + labelW + w + 4, yy + 12, `${num(v, digits)} ${unit}${wrong}`, `font-size="11" fill="${wrong ? '#b91c1c' : '#111827'}"`);
		});
		return yTop + 8 + entries.length * rowH;
	};

	const right = 20 + labelW + barArea + valueW + gap;
	for (const name of meta.cases) {
		const rows = summary[name];
		if (!rows) continue;
		const entries = Object.entries(rows);
		y += 30;
		text(20, y, plain(TITLES[name]).replace('N small', `${meta.heapRequests.toLocaleString('en-US')} small`), 'font-size="14" font-weight="bold"');
		y += 20;
		let bottom;
		if (name === 'rss') {
			const a = bars(20, y, entries, (r) => r.rssPeak / MB, 'MB', 0, 'peak RSS (MB, lower is better)');
			const b = bars(right, y, entries, (r) => r.rssGrowth / MB, 'MB', 0, 'growth over RSS before the read (MB)');
			bottom = Math.max(a, b);
		} else if (name === 'heap') {
			const a = bars(20, y, entries, (r) => r.heapAfter / MB, 'MB', 2, 'heapUsed after, full GC (MB, lower is better)');
			const b = bars(right, y, entries, (r) => r.rps, 'req/s', 0, 'req/s during the run');
			bottom = Math.max(a, b);
		} else {
			const digits = DECODING.includes(name) ? 1 : 0;
			const a = bars(20, y, entries, (r) => r.rps, 'req/s', digits, 'req/s (higher is better)');
			const b = bars(right, y, entries, (r) => r.cpu, 'µs', 0, 'CPU µs per request (lower is better)');
			bottom = Math.max(a, b);
		}
		y = bottom;
	}
	y += 24;
	text(20, y, 'Generated by test/bench/run.mjs; the numbers are in the .md file next to this one.', 'font-size="11" fill="#6b7280"');
	y += 12;
	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
		`<rect width="100%" height="100%" fill="#ffffff"/>`,
		...parts,
		'</svg>',
		'',
	].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const file = process.argv[2];
	if (!file) {
		console.error('usage: node test/bench/report.mjs test/bench/results/<version>.json');
		process.exit(1);
	}
	const data = JSON.parse(readFileSync(file, 'utf8'));
	const stem = file.replace(/\.json$/, '');
	writeFileSync(`${stem}.md`, renderMarkdown(data));
	writeFileSync(`${stem}.svg`, renderSvg(data));
	console.log(`wrote ${stem}.md and ${stem}.svg`);
}
