import { writableProblem } from './redis.health';

const master = (...replicas: string[]) =>
  [
    '# Replication',
    'role:master',
    `connected_slaves:${replicas.length}`,
    ...replicas.map((r, i) => `slave${i}:${r}`),
    'master_failover_state:no-failover',
  ].join('\r\n');

describe('writableProblem (readiness of the commands connection)', () => {
  it('accepts a master when no replica confirmation is asked for', () => {
    expect(writableProblem(master(), 0)).toBeUndefined();
  });

  it('refuses a replica: writes there are refused (a demoted master)', () => {
    expect(writableProblem('# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n', 0)).toMatch(/slave, not a master/);
  });

  it('counts only replicas online and acknowledging within 2 s', () => {
    const online = 'ip=127.0.0.1,port=7001,state=online,offset=100,lag=0';
    const lagging = 'ip=127.0.0.1,port=7002,state=online,offset=90,lag=7';
    const syncing = 'ip=127.0.0.1,port=7003,state=wait_bgsave,offset=0,lag=0';
    expect(writableProblem(master(online), 1)).toBeUndefined();
    expect(writableProblem(master(online, lagging, syncing), 2)).toMatch(/^1 of the 2 replica/);
    expect(writableProblem(master(), 1)).toMatch(/^0 of the 1 replica/);
  });
});
