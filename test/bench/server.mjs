// The bench server: node:http on 127.0.0.1 with keep-alive, in its own process. Every body is built
// once at startup; a request costs the server a header write and one buffer write.
//
//   /small     ~100 B of JSON              /1k        ~1 KB of JSON
//   /1m        1 MiB of bytes              /big       200 MiB, streamed in 1 MiB writes
//   /gbk-10m   10 MB of JSON, charset=gbk  /utf8-10m  10 MB of JSON, charset=utf-8
//   /records-12m  12 MB JSON array of records, ASCII and CJK, charset=utf-8
//
// Started by run.mjs / profile.mjs with an IPC channel: it sends {port} once listening and exits
// when the parent disconnects. Standalone: `node test/bench/server.mjs` prints the URL.

import {createServer} from 'node:http';
import {BIG_BYTES, buildGbkBody, buildRecordsBody, buildUtf8Body, MIB, ONE_KB, SMALL} from './bodies.mjs';

const json = (value) => Buffer.from(JSON.stringify(value));
const routes = new Map();
function route(path, body, contentType) {
	routes.set(path, {body, headers: {'content-type': contentType, 'content-length': String(body.length)}});
}
route('/small', json(SMALL), 'application/json; charset=utf-8');
route('/1k', json(ONE_KB), 'application/json; charset=utf-8');
const oneMiB = Buffer.alloc(MIB);
for (let i = 0; i < oneMiB.length; i++) oneMiB[i] = (i * 31 + 7) & 0xff;
route('/1m', oneMiB, 'application/octet-stream');
route('/gbk-10m', Buffer.from(buildGbkBody()), 'application/json; charset=gbk');
route('/utf8-10m', Buffer.from(buildUtf8Body()), 'application/json; charset=utf-8');
route('/records-12m', Buffer.from(buildRecordsBody()), 'application/json; charset=utf-8');

const BIG_CHUNKS = BIG_BYTES / MIB;

/** Writes `BIG_CHUNKS` times the same 1 MiB buffer, waiting for 'drain' when the socket is full. */
function streamBig(res) {
	res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': String(BIG_BYTES)});
	let sent = 0;
	const pump = () => {
		while (sent < BIG_CHUNKS) {
			sent++;
			const more = res.write(oneMiB);
			if (sent === BIG_CHUNKS) return res.end();
			if (!more) return res.once('drain', pump);
		}
	};
	res.on('close', () => {
		sent = BIG_CHUNKS; // the client went away: stop writing
	});
	pump();
}

const server = createServer({keepAlive: true, noDelay: true, keepAliveTimeout: 60_000, headersTimeout: 65_000}, (req, res) => {
	const path = req.url.split('?', 1)[0];
	if (path === '/big') return streamBig(res);
	const hit = routes.get(path);
	if (!hit) {
		res.writeHead(404, {'content-type': 'text/plain'});
		return res.end('not found');
	}
	res.writeHead(200, hit.headers);
	res.end(hit.body);
});

server.listen(0, '127.0.0.1', () => {
	const {port} = server.address();
	if (process.send) {
		process.send({port});
		process.on('disconnect', () => process.exit(0));
	} else {
		console.log(`bench server on http://127.0.0.1:${port} (${[...routes.keys(), '/big'].join(' ')})`);
	}
});
