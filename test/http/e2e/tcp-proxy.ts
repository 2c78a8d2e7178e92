// A TCP proxy the test controls, in front of PostgreSQL or Redis: `cut()` closes every connection
// through it and refuses new ones at once (a network partition that the client notices), and
// `stall()` keeps every connection open with nothing passing either way, and new ones accepted and
// never answered (a peer that stopped answering, which no error reports), until `restore()`.
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/** A proxy to one host and port. */
export interface TcpProxy {
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Closes every connection and refuses new ones. */
  cut(): void;
  /** Lets nothing through, either way, on any connection; closes none. */
  stall(): void;
  /** Lets connections through again. */
  restore(): void;
  /** Cuts and stops listening. */
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port to the host and port of `target` (a URL). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const defaultPort = target.startsWith('redis') ? 6379 : 5432;
  const upstream = {
    host: hostname === '' ? '127.0.0.1' : hostname,
    port: port === '' ? defaultPort : Number(port),
  };
  const sockets = new Set<Socket>();
  let open = true;
  let stalled = false;
  const pairs = new Set<{ client: Socket; server: Socket }>();
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    if (stalled) {
      // Accepted, never answered.
      sockets.add(client);
      client.on('error', () => client.destroy());
      client.on('close', () => sockets.delete(client));
      return;
    }
    const server = connect(upstream);
    sockets.add(client);
    sockets.add(server);
    const pair = { client, server };
    pairs.add(pair);
    const end = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
      pairs.delete(pair);
    };
    client.on('error', end);
    server.on('error', end);
    client.on('close', end);
    server.on('close', end);
    client.pipe(server);
    server.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  const cut = () => {
    open = false;
    for (const socket of [...sockets]) socket.destroy();
    sockets.clear();
  };
  return {
    port: address.port,
    via(url) {
      const rewritten = new URL(url);
      rewritten.hostname = '127.0.0.1';
      rewritten.port = String(address.port);
      return rewritten.toString();
    },
    cut,
    stall() {
      stalled = true;
      for (const { client, server } of pairs) {
        client.unpipe(server);
        server.unpipe(client);
        client.pause();
        server.pause();
      }
    },
    restore() {
      open = true;
      if (stalled) {
        stalled = false;
        for (const { client, server } of pairs) {
          client.pipe(server);
          server.pipe(client);
        }
      }
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
