// Types of serve.js (the `npm run playground` servers).

export interface Playground {
  /** 'http://127.0.0.1:PORT/': the page. */
  readonly url: string;
  /** 'http://127.0.0.1:PORT': the fault server the page sends its requests to. */
  readonly faultUrl: string;
  /** Closes the page's server (keep-alive connections too) and the fault server. Idempotent. */
  close(): Promise<void>;
}

export interface PlaygroundOptions {
  /** Exactly this port (0: any free port). Without it: 5173, or any free port when 5173 is taken. */
  port?: number;
}

/** Bundles playground/app.js, starts the fault server and the page's server, both on 127.0.0.1. */
export function startPlayground(options?: PlaygroundOptions): Promise<Playground>;
