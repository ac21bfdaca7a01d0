// `surefetch/node`: a fetch-compatible transport on npm `undici`'s dispatcher (an optional peer
// dependency: 8.x, which needs Node >= 22.19, or 7.x). It gives Node users pool settings and a
// real `timeout.connect` phase, with the same union and deadlines as the global fetch.

export {createNodeTransport} from './transport.js';
export type {NodeTransport, NodeTransportOptions} from './transport.js';
