// `npm run playground`: a page in the browser where you pick a fault, set deadlines and retries,
// press Send, and see what raw `fetch` and surefetch each made of it, with a timeline of every
// attempt. This file starts two servers, both on 127.0.0.1 only:
//
//   - the fault-injection server (test/fault-server/server.js), which misbehaves on purpose;
//   - a small static server for the page: index.html, style.css, app.js (bundled once at start by
//     esbuild, importing `surefetch` by name, that is the BUILT package in dist/, as an app would)
//     and /config.json, which tells the page where the fault server listens.
//
//   npm run playground            # build the package, then start (port 5173, or a free one if taken)
//   PORT=8080 npm run playground  # that port exactly
//
// It runs until Ctrl-C (SIGINT or SIGTERM), then closes both servers. Tests import
// `startPlayground({ port: 0 })` and get `{ url, faultUrl, close }`.

import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ROUTES, startFaultServer } from '../test/fault-server/server.js';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 5173;
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** The page's files, read from disk on every request (edit the CSS or HTML, reload). */
const STATIC = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0f172a"/><path d="M7 17h6l3-8 4 14 3-6h2" fill="none" stroke="#34d399" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

/** Bundles playground/app.js for browsers; `surefetch` resolves to this package's dist/ through its exports map. */
async function bundleApp() {
  const result = await build({
    entryPoints: [here('./app.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/**
 * Starts the fault server and the page's server.
 * @param {{ port?: number }} [options] `port`: exactly this one (0: any free port). Without it:
 *   5173, or any free port when 5173 is taken.
 * @returns {Promise<{ url: string, faultUrl: string, close: () => Promise<void> }>}
 */
export async function startPlayground(options = {}) {
  const bundle = await bundleApp(); // first: a build error leaves nothing running
  const fault = await startFaultServer({ host: HOST });
  const config = JSON.stringify({
    faultUrl: fault.url,
    tlsUrl: fault.tlsUrl,
    refusedUrl: fault.refusedUrl,
    routes: ROUTES.map(({ path, description }) => ({ path, description })),
  });

  const server = http.createServer((req, res) => {
    handle(req, res, { bundle, config }).catch((error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`playground: ${error?.message ?? error}`);
    });
  });

  let port;
  try {
    port = await listen(server, options.port ?? DEFAULT_PORT, options.port === undefined);
  } catch (error) {
    await fault.close();
    throw error;
  }

  let closing;
  return {
    url: `http://${HOST}:${port}/`,
    faultUrl: fault.url,
    /** Closes the page's server (open keep-alive connections too) and the fault server. Idempotent. */
    close() {
      closing ??= Promise.all([
        new Promise((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
        fault.close(),
      ]).then(() => {});
      return closing;
    },
  };
}

async function handle(req, res, { bundle, config }) {
  const { pathname } = new URL(req.url ?? '/', 'http://playground.invalid');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    return void res.end('GET or HEAD only');
  }
  const send = (type, body) => {
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (pathname === '/app.js') return send('text/javascript; charset=utf-8', bundle);
  if (pathname === '/config.json') return send('application/json', config);
  if (pathname === '/favicon.svg' || pathname === '/favicon.ico') return send('image/svg+xml', FAVICON);
  const entry = STATIC[pathname];
  if (!entry) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    return void res.end(`not found: ${pathname}`);
  }
  send(entry.type, await readFile(here(`./${entry.file}`)));
}

/** Listens on `port`; with `fallback`, a taken port means "any free port" instead of an error. */
function listen(server, port, fallback) {
  return new Promise((resolve, reject) => {
    const onError = (error) => {
      if (fallback && error.code === 'EADDRINUSE') {
        fallback = false;
        server.listen(0, HOST);
        return;
      }
      server.off('listening', onListening);
      server.off('error', onError);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address().port);
    };
    server.on('error', onError);
    server.once('listening', onListening);
    server.listen(port, HOST);
  });
}

async function main() {
  const env = process.env.PORT;
  const port = env === undefined || env === '' ? undefined : Number(env);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new RangeError(`PORT must be an integer from 0 to 65535, got "${env}"`);
  }
  let playground;
  try {
    playground = await startPlayground({ port });
  } catch (error) {
    if (error?.code !== 'EADDRINUSE') throw error;
    console.error(`Port ${port} is taken. Pick another one (PORT=0 for any free port), or leave PORT unset.`);
    process.exitCode = 1;
    return;
  }
  const busy = port === undefined && !playground.url.endsWith(`:${DEFAULT_PORT}/`);
  console.log(`surefetch playground

  open         ${playground.url}${busy ? `   (port ${DEFAULT_PORT} was taken)` : ''}
  fault server ${playground.faultUrl}

Pick a fault, press Send. Ctrl-C to stop.`);

  let stopping = false;
  const stop = (signal) => {
    if (stopping) {
      console.log(`\n${signal} again: exiting now.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: closing the servers…`);
    playground.close().then(() => {
      console.log('closed.');
      // Nothing is left to keep Node running: it exits by itself. The timer (unref'd) is a safety net.
      setTimeout(() => process.exit(0), 2000).unref();
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function isEntryPoint() {
  try {
    return Boolean(process.argv[1]) && fileURLToPath(import.meta.url) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
