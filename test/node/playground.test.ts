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
});
