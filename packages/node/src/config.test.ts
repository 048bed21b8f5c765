// Address parsing and the wildcard rule of validateConfig (SPEC "Addresses").
import t from 'tap';
import { isWildcard, parseHostPort, testConfig, validateConfig } from './config.js';

t.test('HOST[:PORT], IPv6 in brackets; malformed forms are refused', async (t) => {
  t.same(parseHostPort('10.0.0.5'), { host: '10.0.0.5' });
  t.same(parseHostPort('db-1.ring.svc:7070'), { host: 'db-1.ring.svc', port: 7070 });
  t.same(parseHostPort('[fd00::1]:8070'), { host: '[fd00::1]', port: 8070 });
  for (const bad of ['', 'a:b', 'host:0', 'host:65536', 'fd00::1', 'two words', 'h:1:2', '[zz]']) t.equal(parseHostPort(bad), undefined, JSON.stringify(bad));
});

t.test('a wildcard bind needs --advertise', async (t) => {
  t.ok(isWildcard('0.0.0.0') && isWildcard('::') && !isWildcard('127.0.0.1'));
  t.throws(() => validateConfig({ host: '0.0.0.0' }, testConfig), { code: 'KV_ERR_CONFIG', message: /advertise/ });
  t.equal(validateConfig({ host: '0.0.0.0', advertise: '10.1.2.3:7070' }, testConfig).advertise, '10.1.2.3:7070');
  t.throws(() => validateConfig({ gossipAdvertise: 'x:99999' }, testConfig), { code: 'KV_ERR_CONFIG', message: /gossipAdvertise/ });
});

t.test('--zone: a short name or none; anything else is KV_ERR_CONFIG', async (t) => {
  t.equal(validateConfig({}, testConfig).zone, '', 'no zone by default');
  t.equal(validateConfig({ zone: 'eu-west-1a' }, testConfig).zone, 'eu-west-1a');
  for (const bad of ['-a', 'a b', 'z'.repeat(64), 'zone/1', 'ä']) t.throws(() => validateConfig({ zone: bad }, testConfig), { code: 'KV_ERR_CONFIG', message: /zone/ }, JSON.stringify(bad));
  const peers = [{ id: 'b', address: 'http://db-2.ring.svc:7070', zone: 'z2' }];
  t.same(validateConfig({ peers }, testConfig).peers, peers, 'a static peer with a zone and a host name');
  t.throws(() => validateConfig({ peers: [{ id: 'b', address: 'http://h:1', zone: 'bad zone' }] }, testConfig), { code: 'KV_ERR_CONFIG', message: /peers/ });
});

t.test('seeds: host names, IPv4 and [IPv6] with a port; advertised hosts must be what gossip accepts', async (t) => {
  const seeds = ['ringkv-seeds.default.svc.cluster.local:7946', '10.0.0.1:7946', '[::1]:7946', '[fd00::2]:1'];
  t.same(validateConfig({ seeds }, testConfig).seeds, seeds);
  for (const bad of ['::1:7946', 'host', 'host:0', 'a_b:1', 'h/x:1', '[zz]:1', 'x'.repeat(300) + ':1']) t.throws(() => validateConfig({ seeds: [bad] }, testConfig), { code: 'KV_ERR_CONFIG', message: /seeds/ }, JSON.stringify(bad));
  t.equal(validateConfig({ host: '::', advertise: '[::1]:7070' }, testConfig).advertise, '[::1]:7070', 'an IPv6 wildcard with an advertised address');
  t.throws(() => validateConfig({ host: '::' }, testConfig), { code: 'KV_ERR_CONFIG', message: /advertise/ }, 'the IPv6 wildcard without one, like 0.0.0.0');
  t.equal(validateConfig({ advertise: 'ringkv-0.ringkv.default.svc' }, testConfig).advertise, 'ringkv-0.ringkv.default.svc', 'a StatefulSet pod name');
  t.throws(() => validateConfig({ advertise: 'under_score:7070' }, testConfig), { code: 'KV_ERR_CONFIG', message: /advertise/ }, 'a name gossip would drop');
});
