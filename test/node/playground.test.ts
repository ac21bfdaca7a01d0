// The playground page (`npm run playground`), driven through its UI: startPlayground() bundles
// playground/app.js (which imports 'surefetch' by name) and serves it next to a fault server; a real
// Chromium (Debian's, driven by playwright-core) picks faults, fills the form, presses Send. The
// assertions read the page's DOM (data-testid), never pixels; the screenshots in
// test-output/playground/ are for people to look at.
import {existsSync, mkdirSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {chromium, type Browser, type Page} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startPlayground, type Playground} from '../../playground/serve.js';
import {charsets} from '../fault-server/charsets.js';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const shots = fileURLToPath(new URL('../../test-output/playground/', import.meta.url));

let playground: Playground;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
	if (!existsSync(executablePath)) {
		throw new Error(`No Chromium at ${executablePath}: install it (\`apt-get install -y chromium\`) or set CHROMIUM_PATH.`);
	}
	mkdirSync(shots, {recursive: true});
	[playground, browser] = await Promise.all([
		startPlayground({port: 0}),
		chromium.launch({executablePath, args: chromiumArgs, headless: true}),
	]);
	page = await browser.newPage({viewport: {width: 1280, height: 800}});
	page.on('pageerror', (error) => pageErrors.push(error.message));
	await page.goto(playground.url);
	await page.waitForSelector('body[data-state="ready"]', {timeout: 20_000});
}, 60_000);

afterAll(async () => {
	await browser?.close();
	await playground?.close();
});

const text = async (testid: string) => (await page.getByTestId(testid).first().innerText()).trim();

/** Picks a fault, fills form fields (by data-testid), presses Send and waits until both sides are done. */
async function send(fault: string, fill: Record<string, number>) {
	const before = await page.getByTestId('history-item').count();
	await page.getByTestId(`fault-${fault}`).click();
	for (const [testid, value] of Object.entries(fill)) await page.getByTestId(testid).fill(String(value));
	await page.getByTestId('send').click();
	await page.waitForFunction((count) => document.querySelectorAll('[data-testid="history-item"]').length === count && document.body.dataset.state === 'done', before + 1, {timeout: 25_000});
}

/** A screenshot with the form scrolled back to its top (filling the last fields scrolled it). */
async function screenshot(name: string) {
	await page.evaluate(() => document.querySelector('#form .col-scroll')?.scrollTo(0, 0));
	await page.screenshot({path: `${shots}${name}.png`});
}

async function rows() {
	return page.getByTestId('timeline-row').evaluateAll((nodes) => nodes.map((node) => ({
		attempt: (node as HTMLElement).dataset.attempt,
		outcome: (node as HTMLElement).dataset.outcome,
		phases: [...node.querySelectorAll<HTMLElement>('.seg')].map((seg) => seg.dataset.phase),
		text: (node as HTMLElement).innerText.replace(/\s+/g, ' '),
	})));
}

async function markers() {
	return page.getByTestId('deadline-marker').evaluateAll((nodes) => nodes.map((node) => ({phase: (node as HTMLElement).dataset.phase, label: (node as HTMLElement).innerText.trim()})));
}

describe('npm run playground', () => {
	it('serves the page, the bundle and /config.json, on 127.0.0.1 only', async () => {
		expect(playground.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
		expect(playground.faultUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		const config = await (await fetch(new URL('/config.json', playground.url))).json() as {faultUrl: string; routes: unknown[]};
		expect(config.faultUrl).toBe(playground.faultUrl);
		expect(config.routes.length).toBeGreaterThan(20);
		const bundle = await fetch(new URL('/app.js', playground.url));
		expect(bundle.headers.get('content-type')).toMatch(/javascript/);
		const code = (await bundle.text()).split('\n//# sourceMappingURL=')[0]!;
		expect(code).not.toMatch(/^import\s[^\n]*from\s*["']surefetch["']/m); // bundled, not left as a bare import
		expect(code).toContain('isFetchError');
		expect((await fetch(new URL('/nope', playground.url))).status).toBe(404);
	});

	it('(a) GBK JSON: raw fetch returns mojibake, surefetch the decoded greeting', async () => {
		await send('gbk-json', {});
		expect(await text('sure-kind')).toBe('ok');
		expect(await text('sure-value')).toContain(charsets.gbk.json.greeting);
		expect(await text('sure-attempts')).toBe('1');
		expect(await page.getByTestId('raw-card').getAttribute('data-outcome')).toBe('warn');
		expect(await text('raw-value')).toContain('\uFFFD');
		expect(await rows()).toMatchObject([{attempt: '1', outcome: 'ok', phases: ['headers', 'body']}]);
		await screenshot('gbk-json');
	});

	it('(b) reset mid-body, then a retry: two attempts on the timeline, the second succeeds', async () => {
		await send('flaky-reset-body', {'retry-limit': 1, 'retry-delay': 150});
		const url = await text('request-url');
		expect(url).toContain('/flaky?id=');
		expect(url).toContain('mode=reset-body');
		expect(await text('sure-kind')).toBe('ok');
		expect(await text('sure-attempts')).toBe('2');
		expect(await text('sure-value')).toMatch(/"hits":\s*2/);
		// Raw fetch (its own ?id=, so its own first failure) only gets a bare TypeError from the body read.
		expect(await page.getByTestId('raw-card').getAttribute('data-outcome')).toBe('bad');
		expect(await text('raw-error')).toMatch(/^TypeError/);
		const timeline = await rows();
		expect(timeline).toHaveLength(2);
		expect(timeline[0]).toMatchObject({attempt: '1', outcome: 'failed', phases: ['headers', 'body']});
		expect(timeline[0]!.text).toContain('network/body');
		expect(timeline[1]).toMatchObject({attempt: '2', outcome: 'ok', phases: ['backoff', 'headers', 'body']});
		expect(await markers()).toEqual([]);
		await screenshot('reset-then-retry');
	});

	it('(c) stalled body: the idle deadline fires and is marked on the timeline; raw fetch just waits', async () => {
		await send('stall-mid-body', {'timeout-idle': 300, 'retry-limit': 1, 'retry-delay': 150, 'raw-timeout': 1200});
		expect(await text('sure-kind')).toBe('timeout');
		expect(await text('sure-phase')).toBe('idle');
		expect(await text('sure-timeout')).toBe('300 ms');
		expect(await text('sure-attempts')).toBe('2');
		expect(await text('sure-message')).toContain('300 ms');
		const timeline = await rows();
		expect(timeline.map((row) => row.outcome)).toEqual(['failed', 'failed']);
		expect(timeline.every((row) => row.phases.includes('body'))).toBe(true);
		expect(await markers()).toEqual([{phase: 'idle', label: 'idle 300 ms'}, {phase: 'idle', label: 'idle 300 ms'}]);
		expect(await page.getByTestId('raw-card').getAttribute('data-outcome')).toBe('hung');
		// AbortSignal.timeout(1200): not sooner (but for the browser's coarse clock), later on a busy machine.
		const waited = /^Still waiting… aborted after (\d+) ms$/.exec(await text('raw-title'));
		expect(waited).not.toBeNull();
		expect(Number(waited![1])).toBeGreaterThanOrEqual(1190);
		await screenshot('stalled-body');
	});

	it('keeps a history of the runs, and the page threw nothing', async () => {
		expect(await page.getByTestId('history-item').count()).toBe(3);
		expect(pageErrors).toEqual([]);
	});

	// Below ~1000 px the page used to break: labels over inputs, cards so narrow that text went one
	// word per line, the page wider than the screen. At each width, with the last run (stalled body)
	// on screen: nothing wider than the viewport, no two boxes of one row over each other, and no
	// text squeezed below a readable width.
	for (const width of [900, 600, 375]) {
		it(`fits a ${width} px wide screen: nothing wider than it, no overlapping labels, no squeezed text`, async () => {
			await page.setViewportSize({width, height: 800});
			// The timeline re-renders on resize; wait until its rows are laid out at the new width.
			await page.waitForFunction((w) => window.innerWidth === w && document.querySelectorAll('[data-testid="timeline-row"]').length === 2, width);
			const problems = await page.evaluate(() => {
				const found: string[] = [];
				const visible = (node: Element) => node.getClientRects().length > 0 && getComputedStyle(node).visibility !== 'hidden';
				const name = (node: Element) => `${node.tagName.toLowerCase()}${node.id ? `#${node.id}` : ''}${typeof node.className === 'string' && node.className ? `.${node.className.trim().split(/\s+/).join('.')}` : ''}`;
				// Inside a box that clips or scrolls (a long URL with an ellipsis, the events list), overflow is intended.
				const clipped = (node: Element) => {
					for (let up = node.parentElement; up && up !== document.body; up = up.parentElement) {
						if (/(hidden|auto|scroll|clip)/.test(getComputedStyle(up).overflowX)) return true;
					}
					return false;
				};
				if (document.documentElement.scrollWidth > window.innerWidth) found.push(`the page is ${document.documentElement.scrollWidth} px wide`);
				for (const node of document.querySelectorAll('body *')) {
					if (!visible(node) || clipped(node)) continue;
					const box = node.getBoundingClientRect();
					if (box.right > window.innerWidth + 1 || box.left < -1) found.push(`${name(node)} spans ${Math.round(box.left)}..${Math.round(box.right)}`);
				}
				const overlap = (a: Element, b: Element) => {
					const p = a.getBoundingClientRect();
					const q = b.getBoundingClientRect();
					return Math.min(p.right, q.right) - Math.max(p.left, q.left) > 1 && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 1;
				};
				// The parts of one row, each pair side by side: they must not cover each other.
				const rows: Array<[string, string]> = [
					['.topbar', ':scope > .brand, :scope > .tagline, :scope > .server'],
					['#form .field', ':scope > .switch, :scope > .switch-placeholder, :scope > .field-name, :scope > .num'],
					['#form .inline-fields', ':scope > label'],
					['#form .reader', ':scope > label'],
					['.cards', ':scope > .card'],
					['.fields', ':scope > div'],
					['#timeline .tl-row', ':scope > .tl-label, :scope > .tl-track, :scope > .tl-outcome'],
					['.history li', ':scope > span'],
				];
				for (const [rowSelector, parts] of rows) {
					for (const row of document.querySelectorAll(rowSelector)) {
						const boxes = [...row.querySelectorAll(parts)].filter(visible);
						for (let i = 0; i < boxes.length; i++) {
							for (let j = i + 1; j < boxes.length; j++) if (overlap(boxes[i]!, boxes[j]!)) found.push(`${name(boxes[i]!)} overlaps ${name(boxes[j]!)} in ${rowSelector}`);
						}
					}
				}
				// Text that people read keeps a readable measure (12-13 px text: ~6.5 px a character).
				const minWidths: Array<[string, number]> = [
					['.tagline', 200], ['.fault-explain', 150], ['.field-name', 120], ['.note', 150], ['.card', 240], ['.card-body', 220],
					['.why', 220], ['.tl-outcome', 80], ['.history .name', 100],
				];
				for (const [selector, least] of minWidths) {
					for (const node of document.querySelectorAll(selector)) {
						if (visible(node) && node.getBoundingClientRect().width < least) found.push(`${name(node)} is ${Math.round(node.getBoundingClientRect().width)} px wide (at least ${least})`);
					}
				}
				return found;
			});
			await page.screenshot({path: `${shots}narrow-${width}.png`, fullPage: true});
			expect(problems).toEqual([]);
			// Still usable: the result is there, and the form can send again.
			await expect.poll(() => text('sure-phase')).toBe('idle');
			expect(await page.getByTestId('send').isVisible()).toBe(true);
		});
	}

	it('the page threw nothing at any width', async () => {
		await page.setViewportSize({width: 1280, height: 800});
		expect(pageErrors).toEqual([]);
	});
});
