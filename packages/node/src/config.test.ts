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
