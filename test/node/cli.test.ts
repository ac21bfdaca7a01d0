// The `surefetch` command as users run it: the built dist/node/cli.js in a child Node, against the
// fault server. One test per exit code, then what it prints. Every child is killed at its time limit.
import {spawn, spawnSync} from 'node:child_process';
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {charsets} from '../fault-server/charsets.js';
import {at, fault, stats, uid} from '../support/fault.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/node/cli.js');

interface Run {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stdoutBytes: Buffer;
	stderr: string;
	ms: number;
}

/** Runs the command; `limitMs` kills it (a hang fails the test instead of stalling the suite). */
function surefetch(args: string[], {limitMs = 45_000, script = cli, onStderr}: {limitMs?: number; script?: string; onStderr?: (all: string, child: ReturnType<typeof spawn>) => void} = {}): Promise<Run> {
	return new Promise((resolve, reject) => {
		const started = performance.now();
		const child = spawn(process.execPath, [script, ...args], {stdio: ['ignore', 'pipe', 'pipe'], cwd: root});
		const out: Buffer[] = [];
		let stderr = '';
		child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
		child.stderr!.on('data', (chunk: Buffer) => {
			stderr += chunk;
			onStderr?.(stderr, child);
		});
		const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
		child.on('error', reject);
		child.on('close', (code, signal) => {
			clearTimeout(killer);
			const stdoutBytes = Buffer.concat(out);
			resolve({code, signal, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr, ms: performance.now() - started});
		});
	});
}

const json = (run: Run) => JSON.parse(run.stdout) as Record<string, any>;

beforeAll(() => {
	// npm test builds first (test/run.mjs); run alone, build with `npx tsup` before.
	if (!existsSync(cli)) throw new Error(`${cli} is missing: build with \`npx tsup\` first`);
});

// A child takes 1-7 s to start and run on a busy 2-core machine: each test has a minute, and more per extra child.
describe('surefetch command: exit codes', {timeout: 60_000}, () => {
	it('0: prints the body and exits 0; an error status without --fail is printed too, exit 0', async () => {
		const ok = await surefetch([at('/ok')]);
		expect(ok).toMatchObject({code: 0, stdout: '{"ok":true}', stderr: ''});
		const notFound = await surefetch([at('/status/404')]);
		expect(notFound).toMatchObject({code: 0, stdout: '{"error":"Not Found"}', stderr: ''});
	}, 120_000);

	it('3: an invalid request (a bad URL, a header value with CR) and a bad command line; the header value never shows', async () => {
		const url = await surefetch(['http://exa mple.com/']);
		expect(url.code).toBe(3);
		expect(url.stderr).toMatch(/invalid request \(url\)/);
		const header = await surefetch(['-H', 'x-api-key: S3CR3T\rinjected', at('/ok')]);
		expect(header.code).toBe(3);
		expect(header.stderr).toMatch(/invalid request \(header\)/);
		expect(header.stderr).not.toContain('S3CR3T');
		for (const args of [['--bogus', at('/ok')], ['--retry', 'many', at('/ok')], [], ['--timeout', 'headers=soon', at('/ok')], ['-H', 'no-colon', at('/ok')]]) {
			const bad = await surefetch(args);
			expect(bad.code, args.join(' ')).toBe(3);
			expect(bad.stderr, args.join(' ')).toMatch(/^surefetch: .*\nTry surefetch --help\.\n$/);
			expect(bad.stdout).toBe('');
		}
	}, 240_000); // seven children, one after the other

	it('6: a name that does not resolve (.invalid)', async () => {
		const run = await surefetch(['--retry', '0', 'http://surefetch-cli-test.invalid/']);
		expect(run.code).toBe(6);
		expect(run.stderr).toMatch(/network error \(dns\)/);
		expect(run.stdout).toBe('');
	});

	it('7: a refused connection', async () => {
		const run = await surefetch(['--retry', '0', fault.refusedUrl]);
		expect(run.code).toBe(7);
		expect(run.stderr).toMatch(/network error \(refused\)/);
	});

	it('22: an HTTP error with --fail prints no body', async () => {
		const run = await surefetch(['--fail', at('/status/404')]);
		expect(run.code).toBe(22);
		expect(run.stdout).toBe('');
		expect(run.stderr).toMatch(/^surefetch: \(22\) GET http:\/\/127\.0\.0\.1:\d+\/status\/404: HTTP 404 Not Found/);
	});

	it('28: a deadline that fires; --report says which', async () => {
		const run = await surefetch(['--report', '--retry', '0', '--timeout', 'headers=200', at('/stall-before-headers')]);
		expect(run.code).toBe(28);
		expect(json(run)).toMatchObject({ok: false, error: {name: 'TimeoutError', kind: 'timeout', phase: 'headers', timeout: 200, attempts: 1}});
		expect(run.ms).toBeLessThan(30_000); // a 200 ms deadline, and a child's start on a busy machine
	});

	it('35: a certificate the client does not trust (the fault server\'s self-signed one)', async () => {
		const run = await surefetch([fault.tlsUrl]);
		expect(run.code).toBe(35);
		expect(run.stderr).toMatch(/network error \(tls\)/);
	});

	it('47: a redirect loop', async () => {
		const run = await surefetch(['--retry', '0', at('/redirect-loop')]);
		expect(run.code).toBe(47);
		expect(run.stderr).toMatch(/network error \(protocol\)/);
	});

	it('56: a connection reset before the headers', async () => {
		const run = await surefetch(['--retry', '0', at('/reset-before-headers')]);
		expect(run.code).toBe(56);
		expect(run.stderr).toMatch(/network error \(reset\)/);
	});

	it('61: a body over --max-body, and a charset TextDecoder does not know', async () => {
		const large = await surefetch(['--max-body', '100', at('/big?n=1000')]);
		expect(large.code).toBe(61);
		expect(large.stderr).toMatch(/cannot decode the body \(too-large\)/);
		const charset = await surefetch([at('/charset/wrong-label?as=text')]);
		expect(charset.code).toBe(61);
		expect(charset.stderr).toMatch(/cannot decode the body \(charset\).*x-klingon/);
	}, 120_000);

	it('130: Ctrl-C (SIGINT) while waiting for headers closes the client and exits 130', async () => {
		let sent = 0;
		const run = await surefetch(['-v', at('/stall-before-headers')], {
			onStderr(all, child) {
				if (!sent && all.includes('> GET')) {
					sent = performance.now();
					child.kill('SIGINT');
				}
			},
		});
		expect(sent).toBeGreaterThan(0);
		expect(run.signal).toBe(null); // it exited by itself, not killed by the signal
		expect(run.code).toBe(130);
		expect(run.stderr).toMatch(/aborted by client\.close\(\)/);
		expect(run.stderr).toMatch(/✗ aborted \(interrupted\)/);
		expect(performance.now() - sent).toBeLessThan(20_000); // closing is immediate; a busy machine is not
	});
});

describe('surefetch command: output', {timeout: 60_000}, () => {
	it('prints a GBK body as UTF-8 text', async () => {
		const run = await surefetch([at('/charset/gbk?as=text')]);
		expect(run.code).toBe(0);
		expect(run.stdout).toBe(charsets.gbk.text);
		expect(run.stdoutBytes.equals(Buffer.from(charsets.gbk.text, 'utf8'))).toBe(true);
	});

	it('--encoding overrides the header', async () => {
		const run = await surefetch(['--encoding', 'gbk', at('/charset/gbk?as=text&header=none')]);
		expect(run.stdout).toBe(charsets.gbk.text);
	});

	it('--report: one JSON object with the response', async () => {
		const id = uid('cli-report');
		const run = await surefetch(['--report', at(`/flaky?id=${id}&fail=1&mode=reset`)]);
		expect(run.code).toBe(0);
		expect(run.stdout.trim().split('\n')).toHaveLength(1);
		const report = json(run);
		expect(Object.keys(report)).toEqual(['ok', 'status', 'statusText', 'headers', 'url', 'attempts', 'timings', 'body']);
		expect(report).toMatchObject({ok: true, status: 200, statusText: 'OK', url: at(`/flaky?id=${id}&fail=1&mode=reset`), attempts: 2, body: '{"ok":true,"hits":2}'});
		expect(report.headers).toMatchObject({'content-type': 'application/json', 'content-length': '20'});
		expect(Object.keys(report.timings)).toEqual(['queue', 'headers', 'body', 'total']);
		for (const value of Object.values(report.timings)) expect(value).toBeGreaterThanOrEqual(0);
		expect(report.timings.total).toBeGreaterThanOrEqual(report.timings.headers);
		expect(report.timings.total).toBeGreaterThanOrEqual(300); // the backoff before the second attempt
	});

	it('--report on a failure: {ok: false, error: error.toJSON()}, redacted', async () => {
		const run = await surefetch(['--report', '--fail', '--retry', '0', at('/status/503?token=S3CR3T')]);
		expect(run.code).toBe(22);
		expect(json(run)).toEqual({ok: false, error: expect.objectContaining({name: 'HttpError', kind: 'http', status: 503, statusText: 'Service Unavailable', attempts: 1})});
		expect(json(run).error.request.url).toMatch(/token=\*\*\*$/);
		expect(run.stdout).not.toContain('S3CR3T');
		expect(run.stderr).not.toContain('S3CR3T');
	});

	it('-v: a waterfall of each attempt (queue, connect, headers, body), the backoff and the failure, aligned', async () => {
		const id = uid('cli-v');
		const run = await surefetch(['-v', at(`/flaky?id=${id}&fail=1&mode=reset`)]);
		expect(run.code).toBe(0);
		expect(run.stdout).toBe('{"ok":true,"hits":2}');
		expect((await stats(id)).hits).toBe(2);
		const lines = run.stderr.split('\n');
		expect(lines[0]).toMatch(/^\* transport: surefetch\/node \(undici \d+\.\d+\.\d+\)$/);
		const top = lines.findIndex((line) => line.startsWith('phase'));
		const bottom = lines.findIndex((line) => line.startsWith('total'));
		expect(top).toBeGreaterThan(0);
		const rows = lines.slice(top + 1, bottom);
		const labels = rows.map((line) => line.slice(0, 11).trimEnd());
		expect(labels).toEqual(['attempt 1', '  queue', '  connect', '  headers', 'backoff', 'attempt 2', '  queue', '  connect', '  headers', '  body']);
		expect(rows[3]).toMatch(/✗ network reset \(ECONNRESET\)$/);
		expect(rows[4]).toMatch(/^backoff +\d+ ms +\d+ ms  +░+ +\d+ ms planned$/);
		expect(rows[8]).toMatch(/← 200 OK$/);
		expect(rows[9]).toMatch(/█ +20 B$/);
		// Every row: label, start and duration in ms, then a bar in the same 40 columns.
		for (const row of rows) {
			expect(row.slice(27, 29)).toBe('  ');
			expect(row.slice(29, 69)).toMatch(/^ *[█░─]+ *$/);
		}
		const bar = (row: string) => row.slice(29, 69);
		// The picture goes left to right: attempt 2 starts after the backoff ended.
		expect(bar(rows[6]!).search(/\S/)).toBeGreaterThanOrEqual(bar(rows[4]!).search(/\S/));
		expect(lines[bottom]).toMatch(/^total +\d+ ms  2 attempts, 200 OK$/);
		expect(run.stderr).toMatch(/^< content-type: application\/json$/m);
	});

	it('-v shows the deadline that fired, with its limit', async () => {
		const run = await surefetch(['-v', '--retry', '0', '--timeout', 'headers=200', at('/stall-before-headers')]);
		expect(run.code).toBe(28);
		expect(run.stderr).toMatch(/^ {2}headers .*✗ timeout\.headers 200 ms fired$/m);
		expect(run.stderr).toMatch(/^total .*1 attempt, ✗ timeout\.headers 200 ms fired$/m);
	});

	it('-o writes the exact bytes (to a file, or to stdout with -o -); --report then gives the file and its size', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'surefetch-cli-'));
		try {
			const file = join(dir, 'bytes.bin');
			const run = await surefetch(['-o', file, '--report', at('/bytes?n=300000')]);
			expect(run.code).toBe(0);
			expect(json(run)).toMatchObject({ok: true, status: 200, body: null, file, bytes: 300_000});
			const written = readFileSync(file);
			expect(written.length).toBe(300_000);
			expect(written.every((byte, i) => byte === i % 256)).toBe(true);
			expect(run.stderr).toBe(''); // stderr is no terminal here: no progress line
			// `-o -`: the same bytes on stdout, undecoded.
			const raw = await surefetch(['-o', '-', at('/bytes?n=70000')]);
			expect(raw.code).toBe(0);
			expect(raw.stdoutBytes.length).toBe(70_000);
			expect(raw.stdoutBytes.every((byte, i) => byte === i % 256)).toBe(true);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	}, 120_000);

	it('-o at a terminal: a progress line with bytes, rate, percent and time left, rewritten in place and cleared', async () => {
		// `script` (util-linux) gives the command a pseudo-terminal, so stderr is a TTY.
		const dir = mkdtempSync(join(tmpdir(), 'surefetch-cli-'));
		try {
			const file = join(dir, 'body.json');
			const command = [process.execPath, cli, '-o', file, '--retry', '0', '--timeout', 'idle=1500', at('/stall-mid-body?framing=cl')].map((a) => `'${a}'`).join(' ');
			const result = spawnSync('script', ['-qec', command, '/dev/null'], {encoding: 'utf8', timeout: 45_000});
			expect(result.error).toBeUndefined();
			expect(result.status).toBe(28); // the body stalls: the idle deadline ends it
			expect(result.stdout).toMatch(/\r\x1b\[2K\d+ B {2}[\d.]+ (?:B|KiB|MiB)\/s {2}\d+% of [\d.]+ (?:B|KiB) {2}\d+ s left\r\x1b\[2K/);
			expect(result.stdout).toMatch(/\r\x1b\[2Ksurefetch: \(28\) .*timeout\.idle of 1500 ms passed/);
			expect(readFileSync(file).length).toBeGreaterThan(0); // what arrived before the stall
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	it('an error status without --fail is the answer (not retried); with --fail a 503 is retried', async () => {
		const plain = uid('cli-503');
		const once = await surefetch([at(`/flaky?id=${plain}&fail=1`)]);
		expect(once).toMatchObject({code: 0, stdout: '{"error":"flaky: failure 1 of 1"}'});
		expect((await stats(plain)).hits).toBe(1);
		const failing = uid('cli-503-fail');
		const retried = await surefetch(['--fail', at(`/flaky?id=${failing}&fail=1`)]);
		expect(retried).toMatchObject({code: 0, stdout: '{"ok":true,"hits":2}'});
		expect((await stats(failing)).hits).toBe(2);
	}, 120_000);

	it('--json sends a JSON body with its Content-Type and Accept, as curl does', async () => {
		const run = await surefetch(['--json', '{"name":"Ada"}', at('/echo')]);
		expect(run.code).toBe(0);
		const echo = json(run);
		expect(echo).toMatchObject({method: 'POST', body: '{"name":"Ada"}'});
		expect(echo.headers).toMatchObject({'content-type': 'application/json', accept: 'application/json'});
	});

	it('-X, -H and -d: the method, the headers and a form body', async () => {
		const run = await surefetch(['-X', 'PUT', '-H', 'X-Trace: abc', '-d', 'a=1', '-d', 'b=2', at('/echo')]);
		expect(json(run)).toMatchObject({method: 'PUT', body: 'a=1&b=2', headers: {'x-trace': 'abc', 'content-type': 'application/x-www-form-urlencoded'}});
	});

	it('--help and --version', async () => {
		const help = await surefetch(['--help']);
		expect(help.code).toBe(0);
		expect(help.stdout).toMatch(/^Usage: surefetch \[options\] <url>/);
		const version = await surefetch(['--version']);
		const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {version: string};
		expect(version.stdout).toMatch(new RegExp(`^surefetch ${pkg.version.replaceAll('.', '\\.')} \\(ky \\d+\\.\\d+\\.\\d+, surefetch/node on undici \\d+\\.\\d+\\.\\d+, Node ${process.versions.node}\\)\\n$`));
	}, 120_000);
});

describe('surefetch command without npm undici', {timeout: 120_000}, () => {
	// The built files in a folder of their own, with ky and abort-controller-x but no undici.
	const dir = mkdtempSync(join(tmpdir(), 'surefetch-cli-no-undici-'));
	const script = join(dir, 'node_modules/surefetch/dist/node/cli.js');
	beforeAll(() => {
		mkdirSync(join(dir, 'node_modules/surefetch/dist'), {recursive: true});
		cpSync(join(root, 'dist/node'), join(dir, 'node_modules/surefetch/dist/node'), {recursive: true});
		cpSync(join(root, 'package.json'), join(dir, 'node_modules/surefetch/package.json'));
		for (const name of ['ky', 'abort-controller-x']) symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
	});
	afterAll(() => rmSync(dir, {recursive: true, force: true}));

	it('uses the global fetch, says so in -v, and refuses timeout.connect (exit 3)', async () => {
		const run = await surefetch(['-v', at('/ok')], {script});
		expect(run.code).toBe(0);
		expect(run.stdout).toBe('{"ok":true}');
		expect(run.stderr).toMatch(/^\* transport: the global fetch \(Node [\d.]+; npm undici not found/);
		const connect = await surefetch(['--timeout', 'connect=1000', at('/ok')], {script});
		expect(connect.code).toBe(3);
		expect(connect.stderr).toMatch(/timeout\.connect/);
		const proxy = await surefetch(['--proxy', 'http://127.0.0.1:9/', at('/ok')], {script});
		expect(proxy.code).toBe(3);
		expect(proxy.stderr).toMatch(/--proxy needs the surefetch\/node transport/);
	}, 120_000);
});
