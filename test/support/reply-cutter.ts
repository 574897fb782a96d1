import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real Redis that can lose one reply the way a failover does: the
 * command reaches Redis and runs, then the connection drops before its reply gets back. Armed
 * with markers, it waits for a request carrying them, swallows that request's reply (any reply but
 * `-NOSCRIPT`, whose command did not run) and closes both sides of that connection. Every other
 * byte passes through unchanged, and new connections are accepted as before.
 */
export class ReplyCutter {
  private markers: string[] | undefined;
  private refuseMs = 0;
  private relisten: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<Socket>();
  /** Replies lost so far. */
  cut = 0;

  private readonly server: Server;
  private port = 0;

  private constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => this.pipe(client, target));
  }

  /** Listens on a free port of 127.0.0.1, forwarding to `target`. */
  static async start(target: { host: string; port: number }): Promise<ReplyCutter> {
    const cutter = new ReplyCutter(target);
    await new Promise<void>((resolve) => cutter.server.listen(0, '127.0.0.1', resolve));
    const address = cutter.server.address();
    if (typeof address !== 'object' || !address) throw new Error('proxy has no port');
    cutter.port = address.port;
    return cutter;
  }

  /** The URL to give a client instead of Redis's own. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Loses the reply of the next request whose bytes contain every one of `markers`, then refuses
   * connections for `refuseMs`. ioredis re-sends an unanswered command after reconnecting, so
   * without `refuseMs` its caller never sees the loss; with it (longer than ioredis's reconnect
   * attempts), the command fails and the caller must re-run it.
   */
  arm(markers: string[], options: { refuseMs?: number } = {}): void {
    this.markers = markers;
    this.refuseMs = options.refuseMs ?? 0;
  }

  private pipe(client: Socket, target: { host: string; port: number }): void {
    const upstream = connect(target.port, target.host);
    this.sockets.add(client).add(upstream);
    let armedHere = false;
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (this.markers?.every((m) => text.includes(m))) {
        this.markers = undefined;
        armedHere = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (armedHere && !chunk.toString('latin1').startsWith('-NOSCRIPT')) {
        this.cut++;
        client.destroy();
        upstream.destroy();
        if (this.refuseMs > 0) this.refuse(this.refuseMs);
        return;
      }
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  /** Stops listening for `ms` (connections are refused, as while a master is unreachable), then listens again. */
  private refuse(ms: number): void {
    this.server.close();
    this.relisten = setTimeout(() => this.server.listen(this.port, '127.0.0.1'), ms);
  }

  /** Closes every proxied connection and the listener. */
  async stop(): Promise<void> {
    clearTimeout(this.relisten);
    for (const socket of this.sockets) socket.destroy();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
