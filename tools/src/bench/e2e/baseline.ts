import type { Redis } from 'ioredis';
import { delay, RedisServer } from '@eo/local';
import { cpuSeconds } from '../proc';
import { BASELINE_SECONDS, BASELINE_WARMUP_SECONDS } from './options';
import { active, interrupted } from './lifecycle';

// Raw baseline

export interface Baseline {
  pairsPerSec: number;
  seconds: number;
  subscribers: number;
  delivered: number;
  redisCpuUsPerPair: number;
  nodeCpuUsPerPair: number;
}

/**
 * One Node process (this one), one ioredis command connection, `connections` loops each doing
 * PUBLISH then SET k v NX PX, with `subscribers` connections listening on the channel (the fan-out
 * the replicas cause). Pairs per second against the same Redis, for the services' ratio.
 */
export async function runBaseline(server: RedisServer, connections: number, subscribers: number): Promise<Baseline> {
  const pub = server.client();
  pub.on('error', () => undefined);
  active.clients.add(pub);
  const subs: Redis[] = [];
  let delivered = 0;
  try {
    for (let i = 0; i < subscribers; i++) {
      const sub = server.client();
      sub.on('error', () => undefined);
      active.clients.add(sub);
      subs.push(sub);
      await sub.subscribe('bench:baseline');
      sub.on('message', () => delivered++);
    }
    // About the size of an OrderPlaced envelope.
    const payload = JSON.stringify({
      v: 1,
      type: 'OrderPlaced',
      orderId: '0'.repeat(36),
      items: [{ sku: 'BENCH-1', quantity: 1 }],
      x: 'y'.repeat(120),
    });
    let pairs = 0;
    let measuring = false;
    let stop = false;
    const loop = async (c: number): Promise<void> => {
      for (let n = 0; !stop && !interrupted; n++) {
        await pub.publish('bench:baseline', payload);
        await pub.set(`bench:baseline:${c}:${n}`, 'token', 'PX', 5000, 'NX');
        if (measuring) pairs++;
      }
    };
    const loops = Array.from({ length: connections }, (_, c) => loop(c));
    await delay(BASELINE_WARMUP_SECONDS * 1000);
    const redisCpu0 = cpuSeconds(server.pid!);
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    measuring = true;
    await delay(BASELINE_SECONDS * 1000);
    measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    const redisCpu = cpuSeconds(server.pid!) - redisCpu0;
    const self = process.cpuUsage(self0);
    const measured = pairs;
    stop = true;
    await Promise.all(loops);
    return {
      pairsPerSec: measured / seconds,
      seconds,
      subscribers,
      delivered,
      redisCpuUsPerPair: (redisCpu * 1e6) / measured,
      nodeCpuUsPerPair: (self.user + self.system) / measured,
    };
  } finally {
    for (const client of [pub, ...subs]) {
      client.disconnect();
      active.clients.delete(client);
    }
  }
}
