import { serviceAclRules } from './acl';

describe('serviceAclRules', () => {
  it('grants the services their keys and channels, and only the commands they send', () => {
    expect(serviceAclRules().join(' ')).toBe(
      'resetkeys ~order:* ~orders:* ~idem:* ~lock:* ~stock:* ~inventory:replicas ' +
        'resetchannels &order_updates &order_status &order_status:* -@all ' +
        '+auth +hello +ping +info +select +quit +client|setname +evalsha +eval +wait +subscribe +unsubscribe +publish ' +
        '+get +set +del +exists +pexpire +persist +scan +time +hget +hmget +hgetall +hset +hsetnx +hdel +hincrby ' +
        '+zadd +zrem +zcard +zrange +zrangebyscore +zrangebylex +zremrangebyscore',
    );
  });

  it('narrows keys and channels to the namespace', () => {
    expect(serviceAclRules('staging').slice(0, 4)).toEqual(['resetkeys', '~staging:*', 'resetchannels', '&staging:*']);
  });
});
