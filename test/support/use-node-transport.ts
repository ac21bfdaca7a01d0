// Setup file of the transport run: the contract suite again, with `surefetch/node`'s transport in
// place of the global fetch, so both transports are held to the same union and deadlines.
import {createNodeTransport} from '../../src/node/index.js';

globalThis.fetch = createNodeTransport() as typeof globalThis.fetch;
