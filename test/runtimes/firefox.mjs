// Firefox driven over WebDriver BiDi, the protocol Firefox speaks itself (`--remote-debugging-port`):
// no geckodriver, no Playwright build, nothing downloaded. Just what the runtime suites need: start
// a headless Firefox ESR with a fresh profile, open a page, call a function in it and await its
// promise, and hear its console.
//
//   const firefox = await launchFirefox({executablePath, onConsole: (text) => …});
//   await firefox.navigate('http://127.0.0.1:…/page.html');
//   const value = await firefox.call('(a, b) => window.work(a, b)', ['x', 1], {timeoutMs: 60_000});
//   await firefox.close();
//
// The profile keeps Firefox off the network: every background service it has is switched off, and a
// proxy auto-config sends anything that is not 127.0.0.1/localhost (or a `.invalid` name, which
// must fail in DNS) to a closed local port.

import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/** Preferences of the fresh profile: quiet, offline except loopback, and strict about certificates. */
function prefs(deadPort) {
	const pac = `function FindProxyForURL(url, host) { if (host === '127.0.0.1' || host === 'localhost' || dnsDomainIs(host, '.invalid')) return 'DIRECT'; return 'PROXY 127.0.0.1:${deadPort}'; }`;
	const off = 'http://127.0.0.1:' + deadPort + '/';
	return {
		'network.proxy.type': 2,
		'network.proxy.autoconfig_url': `data:text/javascript,${encodeURIComponent(pac)}`,
		'network.proxy.allow_hijacking_localhost': false,
		'network.captive-portal-service.enabled': false,
		'network.connectivity-service.enabled': false,
		'network.dns.disablePrefetch': true,
		'network.prefetch-next': false,
		'network.http.speculative-parallel-limit': 0,
		'network.trr.mode': 5,
		'network.dns.native_https_query': false,
		'security.OCSP.enabled': 0,
		'security.remote_settings.crlite_filters.enabled': false,
		'security.certerrors.mitm.priming.enabled': false,
		'app.update.disabledForTesting': true,
		'app.update.auto': false,
		'app.normandy.enabled': false,
		'app.shield.optoutstudies.enabled': false,
		'browser.safebrowsing.malware.enabled': false,
		'browser.safebrowsing.phishing.enabled': false,
		'browser.safebrowsing.downloads.enabled': false,
		'browser.safebrowsing.blockedURIs.enabled': false,
		'browser.safebrowsing.provider.mozilla.updateURL': '',
		'browser.safebrowsing.provider.google4.updateURL': '',
		'browser.search.update': false,
		'browser.region.network.url': '',
		'browser.region.update.enabled': false,
		'browser.newtabpage.enabled': false,
		'browser.startup.page': 0,
		'browser.startup.homepage': 'about:blank',
		'browser.shell.checkDefaultBrowser': false,
		'browser.topsites.contile.enabled': false,
		'browser.discovery.enabled': false,
		'browser.ping-centre.telemetry': false,
		'captivedetect.canonicalURL': '',
		'datareporting.policy.dataSubmissionEnabled': false,
		'datareporting.healthreport.uploadEnabled': false,
		'toolkit.telemetry.enabled': false,
		'toolkit.telemetry.server': off,
		'toolkit.telemetry.unified': false,
		'extensions.update.enabled': false,
		'extensions.getAddons.cache.enabled': false,
		'extensions.blocklist.enabled': false,
		'extensions.systemAddon.update.enabled': false,
		'services.settings.server': off,
		'dom.push.connection.enabled': false,
		'media.gmp-manager.updateEnabled': false,
		'media.gmp-manager.url': off,
		'geo.provider.network.url': '',
		'identity.fxaccounts.enabled': false,
		'browser.tabs.remote.separatedMozillaDomains': '',
		// No network probes of its own from the remote agent's recommended settings either.
		'remote.prefs.recommended': true,
	};
}

/** A port that refuses connections (bound, then closed). */
async function closedPort() {
	const server = net.createServer();
	await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
	const {port} = server.address();
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/**
 * Starts Firefox and a BiDi session (`track(child)` lets the caller kill it whatever happens). Throws (with what Firefox printed) when it does not start
 * within `startMs`.
 */
export async function launchFirefox({executablePath, onConsole = () => {}, startMs = 60_000, track = (child) => child}) {
	if (typeof WebSocket === 'undefined') throw new Error('the BiDi client needs a global WebSocket (Node >= 22, or --experimental-websocket)');
	const profile = mkdtempSync(join(tmpdir(), 'surefetch-firefox-'));
	const deadPort = await closedPort();
	writeFileSync(join(profile, 'user.js'), Object.entries(prefs(deadPort)).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n') + '\n');
	const child = track(spawn(executablePath, ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port=0', 'about:blank'], {
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true, // its own process group: close() takes the content processes with it
		env: {...process.env, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_AUTO_SAFE_MODE: '1'},
	}));
	let output = '';
	const endpoint = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`Firefox did not offer WebDriver BiDi within ${startMs} ms. It printed:\n${output}`)), startMs);
		const onData = (chunk) => {
			output += chunk;
			const match = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(output);
			if (match) {
				clearTimeout(timer);
				resolve(match[1]);
			}
		};
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		child.once('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			reject(new Error(`Firefox exited (${code ?? signal}) before offering WebDriver BiDi. It printed:\n${output}`));
		});
	}).catch((error) => {
		kill(child);
		rmSync(profile, {recursive: true, force: true});
		throw error;
	});
	child.stdout.removeAllListeners('data');
	child.stderr.removeAllListeners('data');
	child.stdout.resume();
	child.stderr.resume();

	const socket = new WebSocket(`${endpoint}/session`);
	await new Promise((resolve, reject) => {
		socket.addEventListener('open', resolve, {once: true});
		socket.addEventListener('error', () => reject(new Error(`could not connect to ${endpoint}/session`)), {once: true});
	});
	let nextId = 1;
	const pending = new Map();
	socket.addEventListener('message', (event) => {
		const message = JSON.parse(String(event.data));
		if (message.id !== undefined && pending.has(message.id)) {
			const {resolve, reject} = pending.get(message.id);
			pending.delete(message.id);
			if (message.type === 'error') reject(new Error(`BiDi ${message.error}: ${message.message}`));
			else resolve(message.result);
		} else if (message.method === 'log.entryAdded') {
			const {text, args, level} = message.params;
			onConsole(text ?? (args ?? []).map((a) => a.value ?? a.type).join(' '), level);
		}
	});
	socket.addEventListener('close', () => {
		for (const {reject} of pending.values()) reject(new Error('the BiDi connection closed'));
		pending.clear();
	});
	const send = (method, params = {}, timeoutMs = 60_000) => new Promise((resolve, reject) => {
		const id = nextId++;
		const timer = setTimeout(() => {
			pending.delete(id);
			reject(new Error(`BiDi ${method} got no answer within ${timeoutMs} ms`));
		}, timeoutMs);
		pending.set(id, {
			resolve: (value) => (clearTimeout(timer), resolve(value)),
			reject: (error) => (clearTimeout(timer), reject(error)),
		});
		socket.send(JSON.stringify({id, method, params}));
	});

	let context;
	try {
		const session = await send('session.new', {capabilities: {alwaysMatch: {acceptInsecureCerts: false, unhandledPromptBehavior: {default: 'dismiss'}}}});
		await send('session.subscribe', {events: ['log.entryAdded']});
		const tree = await send('browsingContext.getTree', {});
		context = tree.contexts[0].context;
		var version = `${session.capabilities.browserName} ${session.capabilities.browserVersion}`;
	} catch (error) {
		socket.close();
		kill(child);
		rmSync(profile, {recursive: true, force: true});
		throw error;
	}

	return {
		version,
		async navigate(url, timeoutMs = 60_000) {
			await send('browsingContext.navigate', {context, url, wait: 'complete'}, timeoutMs);
		},
		/** Calls `fn` (source) in the page with JSON-able arguments; resolves with its awaited value (JSON-able). */
		async call(fn, args = [], {timeoutMs = 60_000} = {}) {
			const result = await send('script.callFunction', {
				functionDeclaration: fn,
				awaitPromise: true,
				target: {context},
				arguments: args.map((value) => ({type: 'string', value: JSON.stringify(value)})),
				resultOwnership: 'none',
			}, timeoutMs);
			if (result.type === 'exception') throw new Error(`in the page: ${result.exceptionDetails.text}`);
			return result.result.type === 'string' ? JSON.parse(result.result.value) : undefined;
		},
		async close() {
			try {
				await send('browser.close', {}, 10_000);
			} catch {
				// it may be gone already
			}
			socket.close();
			await new Promise((resolve) => {
				if (child.exitCode !== null || child.signalCode !== null) return resolve();
				const timer = setTimeout(() => (kill(child), resolve()), 10_000);
				child.once('exit', () => (clearTimeout(timer), resolve()));
			});
			kill(child);
			rmSync(profile, {recursive: true, force: true});
		},
	};
}

function kill(child) {
	try {
		process.kill(-child.pid, 'SIGKILL');
	} catch {
		// gone
	}
}
