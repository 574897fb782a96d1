import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decode } from '@msgpack/msgpack';

/** A span as the Datadog agent receives it (v0.4 msgpack); ids are uint64. */
export interface AgentSpan {
  trace_id: bigint;
  span_id: bigint;
  parent_id: bigint;
  name: string;
  service: string;
  resource: string;
  type?: string;
  /** Start, epoch nanoseconds. */
  start: bigint;
  /** Nanoseconds. */
  duration: bigint;
  error: number;
  meta: Record<string, string>;
  metrics: Record<string, number>;
}

/** One DogStatsD datagram line, parsed (`name:value|type|#tag:v,…`). */
export interface StatsdPoint {
  name: string;
  value: number;
  type: string;
  tags: Record<string, string>;
}

function asBigInt(value: unknown): bigint {
  return typeof value === 'bigint' ? value : BigInt(Number(value));
}

/**
 * A stand-in for the Datadog agent on free local ports: an HTTP server taking dd-trace's trace
 * payloads (`/v0.4/traces`, msgpack) and a UDP socket taking DogStatsD metrics. Everything else
 * dd-trace calls (`/info`, telemetry, remote config) gets a harmless answer.
 */
export class FakeAgent {
  readonly spans: AgentSpan[] = [];
  readonly points: StatsdPoint[] = [];

  private constructor(
    private readonly http: Server,
    private readonly udp: Socket,
  ) {}

  static async start(): Promise<FakeAgent> {
    const http = createServer();
    const udp = createSocket('udp4');
    const agent = new FakeAgent(http, udp);
    http.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url?.startsWith('/v0.4/traces')) {
          const traces = decode(Buffer.concat(chunks), { useBigInt64: true }) as Array<Array<Record<string, unknown>>>;
          for (const trace of traces) {
            for (const span of trace) {
              agent.spans.push({
                ...(span as unknown as AgentSpan),
                trace_id: asBigInt(span.trace_id),
                span_id: asBigInt(span.span_id),
                parent_id: asBigInt(span.parent_id),
                start: asBigInt(span.start),
                duration: asBigInt(span.duration),
              });
            }
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"rate_by_service":{}}');
        } else if (req.url === '/info') {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ endpoints: ['/v0.4/traces'], client_drop_p0s: false }));
        } else {
          res.writeHead(404).end();
        }
      });
    });
    udp.on('message', (msg) => {
      for (const line of msg.toString().split('\n')) {
        // name:value[:value…]|type[|@rate][|#tag:v,…][|c:container][|T<timestamp>]; several values
        // in one line are packed (DogStatsD 1.1), each a point of its own, as the Agent takes them.
        const [metric, type, ...fields] = line.split('|');
        const at = metric?.indexOf(':') ?? -1;
        if (!metric || !type || at <= 0) continue;
        const tags: Record<string, string> = {};
        for (const tag of fields
          .find((f) => f.startsWith('#'))
          ?.slice(1)
          .split(',') ?? []) {
          const colon = tag.indexOf(':');
          if (colon > 0) tags[tag.slice(0, colon)] = tag.slice(colon + 1);
        }
        for (const value of metric.slice(at + 1).split(':'))
          agent.points.push({ name: metric.slice(0, at), value: Number(value), type, tags });
      }
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    return agent;
  }

  get tracePort(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get statsdPort(): number {
    return this.udp.address().port;
  }

  /** Environment pointing dd-trace at this agent, flushing fast. */
  env(): Record<string, string> {
    return {
      DD_AGENT_HOST: '127.0.0.1',
      DD_TRACE_AGENT_PORT: String(this.tracePort),
      DD_DOGSTATSD_PORT: String(this.statsdPort),
      DD_TRACE_FLUSH_INTERVAL: '100',
      DD_TRACE_AGENT_PROTOCOL_VERSION: '0.4',
      DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
      DD_REMOTE_CONFIGURATION_ENABLED: 'false',
    };
  }

  async stop(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
  }
}
