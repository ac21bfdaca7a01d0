// A forward proxy of our own on 127.0.0.1, for the tests of `surefetch/node`'s `proxy` option:
// node:http for absolute-form requests (GET http://host:port/path), its `connect` event for CONNECT
// tunnels. Every target is reached on 127.0.0.1 at the port asked for, whatever the host name, so
// made-up names (api.example.test) reach the fault server through it. It counts what it saw (each
// request and CONNECT, with the Proxy-Authorization it carried), the connections open now and at
// most, and it can misbehave on request: `mode`.
import {createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import {connect, type Socket} from 'node:net';

export type ProxyMode =
	/** Forward and tunnel. */
	| 'ok'
	/** A TCP reset as soon as the connection is accepted. */
	| 'reset-on-accept'
	/** A TCP reset once the request (or CONNECT) has been read. */
	| 'reset'
	/** Accepts, reads, never answers. */
	| 'silent'
	/** Answers bytes that are not HTTP. */
	| 'garbage'
	/** 502 Bad Gateway (to CONNECT and to absolute-form requests). */
	| '502';

export interface Seen {
	/** 'CONNECT' or the method of an absolute-form request. */
	method: string;
	/** The request target: `host:port` for CONNECT, the absolute URL otherwise. */
	target: string;
	/** Host header as received. */
	host: string | undefined;
	/** Proxy-Authorization as received (undefined when absent). */
	auth: string | undefined;
	/** The connection that carried it has closed. */
	closed: boolean;
}

export interface TestProxy {
	/** http://127.0.0.1:PORT (no credentials). */
	readonly url: string;
	readonly port: number;
	/** The same URL with userinfo, when credentials are required. */
	urlWith(user: string, password: string): string;
	mode: ProxyMode;
	/** What it saw, in order. */
	readonly seen: Seen[];
	/** Client connections open now, and at most since the last `reset()`. */
	readonly open: number;
	readonly maxOpen: number;
	/** Connections accepted since the last `reset()`. */
	readonly accepted: number;
	reset(): void;
	close(): Promise<void>;
}

/** `auth`: the only Proxy-Authorization accepted (e.g. `Basic ...`); without it, every request is let through. */
export async function startProxy({auth, mode = 'ok'}: {auth?: string; mode?: ProxyMode} = {}): Promise<TestProxy> {
	const sockets = new Set<Socket>();
	const seen: Seen[] = [];
	let open = 0;
	// Concurrency counts only the connections accepted since the last reset (older ones may still be closing).
	let epoch = 0;
	let openNow = 0;
	let maxOpen = 0;
	let accepted = 0;

	const record = (req: IncomingMessage): boolean => {
		const value = req.headers['proxy-authorization'];
		const entry: Seen = {method: req.method ?? '', target: req.url ?? '', host: req.headers.host, auth: value, closed: false};
		seen.push(entry);
		req.socket.once('close', () => {
			entry.closed = true;
		});
		return auth === undefined || value === auth;
	};

	const server: Server = createServer({requestTimeout: 0}, (req: IncomingMessage, res: ServerResponse) => {
		// Asked directly (origin-form), not as a proxy: what it saw so far, as host:port, and forget it
		// (for a child process that runs several cases in a row).
		if (req.url === '/__seen') {
			res.writeHead(200, {'content-type': 'application/json', connection: 'close'}).end(JSON.stringify(hosts(seen.splice(0))));
			return;
		}
		const allowed = record(req);
		if (misbehave(proxy.mode, req.socket)) return;
		if (!allowed) {
			res.writeHead(407, {'proxy-authenticate': 'Basic realm="test"', 'content-type': 'text/plain'}).end('proxy authentication required');
			return;
		}
		if (proxy.mode === '502') {
			res.writeHead(502, {'content-type': 'text/plain'}).end('bad gateway');
			return;
		}
		let target: URL;
		try {
			target = new URL(req.url ?? '');
		} catch {
			res.writeHead(400).end('absolute-form expected');
			return;
		}
		const headers = {...req.headers};
		delete headers['proxy-authorization'];
		delete headers['proxy-connection'];
		const upstream = httpRequest({host: '127.0.0.1', port: Number(target.port || 80), path: `${target.pathname}${target.search}`, method: req.method, headers}, (answer) => {
			res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
			res.flushHeaders();
			answer.pipe(res);
			answer.on('error', () => res.destroy());
		});
		// The origin failed: 502 if nothing was relayed yet, else the client's connection is cut.
		upstream.on('error', () => {
			if (!res.headersSent) res.writeHead(502).end();
			else res.destroy();
		});
		req.pipe(upstream);
	});

	server.on('connection', (socket: Socket) => {
		accepted++;
		sockets.add(socket);
		open++;
		openNow++;
		maxOpen = Math.max(maxOpen, openNow);
		const born = epoch;
		socket.on('close', () => {
			sockets.delete(socket);
			open--;
			if (born === epoch) openNow--;
		});
		if (proxy.mode === 'reset-on-accept') socket.resetAndDestroy();
	});

	server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
		const allowed = record(req);
		if (misbehave(proxy.mode, client)) return;
		if (!allowed) {
			client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
			return;
		}
		if (proxy.mode === '502') {
			client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
			return;
		}
		const port = Number((req.url ?? '').split(':').pop());
		const upstream = connect({host: '127.0.0.1', port}, () => {
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			if (head.length > 0) upstream.write(head);
			upstream.pipe(client);
			client.pipe(upstream);
		});
		sockets.add(upstream);
		// A tunnel ends whole when either side ends (the server's sockets allow half-open ones).
		const end = () => {
			client.destroy();
			upstream.destroy();
		};
		upstream.on('close', () => sockets.delete(upstream));
		for (const socket of [client, upstream]) {
			socket.on('error', end);
			socket.on('end', end);
			socket.on('close', end);
		}
	});
	server.on('clientError', (_error, socket) => socket.destroy());

	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as {port: number}).port;

	const proxy: TestProxy = {
		url: `http://127.0.0.1:${port}`,
		port,
		urlWith: (user, password) => `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
		mode,
		seen,
		get open() {
			return open;
		},
		get maxOpen() {
			return maxOpen;
		},
		get accepted() {
			return accepted;
		},
		reset() {
			seen.length = 0;
			epoch++;
			openNow = 0;
			maxOpen = 0;
			accepted = 0;
		},
		async close() {
			for (const socket of sockets) socket.destroy();
			await new Promise((resolve) => server.close(resolve));
		},
	};
	return proxy;
}

/** The faults that do not depend on the request: true when the socket is taken care of. */
function misbehave(mode: ProxyMode, socket: Socket): boolean {
	switch (mode) {
		case 'reset':
			socket.resetAndDestroy();
			return true;
		case 'silent':
			// The server's sockets allow half-open ones: the client's end closes it.
			socket.on('end', () => socket.destroy());
			return true;
		case 'garbage':
			socket.end('SSH-2.0-OpenSSH_9.6 this is not HTTP\r\n\r\n');
			return true;
		default:
			return false;
	}
}

/** host:port of each request seen: the CONNECT target, or the absolute URL's host. */
export function hosts(seen: readonly Seen[]): string[] {
	return seen.map((s) => (s.method === 'CONNECT' ? s.target : new URL(s.target).host));
}

/** The Proxy-Authorization value of Basic credentials. */
export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
