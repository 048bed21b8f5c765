// Address parsing and the wildcard rule of validateConfig (SPEC "Addresses"); the SWIM,
// transfer and reaper settings, table-driven.
import t from 'tap';
import { defaultConfig, isWildcard, parseHostPort, swimConfigOf, testConfig, validateConfig, type NodeConfig } from './config.js';
import { defaultSwimConfig } from './membership/swim/types.js';

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

t.test('SWIM, transfer and reaper settings: defaults equal what the parts used before they were settings', async (t) => {
  const config = validateConfig({ secret: 'a-secret-of-16-b' }, defaultConfig);
  t.same(swimConfigOf(config), defaultSwimConfig, 'the SWIM machine gets its LAN defaults');
  t.equal(config.transferIntervalMs, config.hintDeliveryIntervalMs, 'transfer ran on the hint loop interval');
  t.equal(config.transferBatch, config.hintDeliveryBatch, 'and its batch');
  t.equal(config.reapBatch, config.hintDeliveryBatch, 'as did the reaper batch');
  const tuned = validateConfig({ swimProbeIntervalMs: 1_000, swimProbeTimeoutMs: 400, swimGossipNodes: 5, swimSuspicionMult: 2.5, transferBatch: 64, reapBatch: 32, transferIntervalMs: 250 }, testConfig);
  t.match(swimConfigOf(tuned), { probeIntervalMs: 1_000, probeTimeoutMs: 400, gossipNodes: 5, suspicionMult: 2.5 }, 'each setting reaches the machine');
  t.same([tuned.transferBatch, tuned.reapBatch, tuned.transferIntervalMs, tuned.hintDeliveryBatch], [64, 32, 250, defaultConfig.hintDeliveryBatch], 'and they are apart from the hint loop');
});

t.test('each SWIM, transfer and reaper setting is validated with KV_ERR_CONFIG naming it', async (t) => {
  // [overrides, the field the error names]; every bound both ways, and a wrong type.
  const cases: Array<[Partial<NodeConfig>, keyof NodeConfig]> = [
    [{ swimProbeIntervalMs: 9 }, 'swimProbeIntervalMs'],
    [{ swimProbeIntervalMs: 60_001 }, 'swimProbeIntervalMs'],
    [{ swimProbeIntervalMs: 800.5 }, 'swimProbeIntervalMs'],
    [{ swimProbeTimeoutMs: 0 }, 'swimProbeTimeoutMs'],
    [{ swimProbeTimeoutMs: 800 }, 'swimProbeTimeoutMs'],
    [{ swimProbeIntervalMs: 300, swimProbeTimeoutMs: 300 }, 'swimProbeTimeoutMs'],
    [{ swimIndirectChecks: -1 }, 'swimIndirectChecks'],
    [{ swimIndirectChecks: 17 }, 'swimIndirectChecks'],
    [{ swimRetransmitMult: 0 }, 'swimRetransmitMult'],
    [{ swimRetransmitMult: 65 }, 'swimRetransmitMult'],
    [{ swimSuspicionMult: 0.4 }, 'swimSuspicionMult'],
    [{ swimSuspicionMult: Number.NaN }, 'swimSuspicionMult'],
    [{ swimSuspicionMult: '2' as unknown as number }, 'swimSuspicionMult'],
    [{ swimSuspicionMaxMult: 0.99 }, 'swimSuspicionMaxMult'],
    [{ swimSuspicionMaxMult: Number.POSITIVE_INFINITY }, 'swimSuspicionMaxMult'],
    [{ swimAwarenessMax: -1 }, 'swimAwarenessMax'],
    [{ swimAwarenessMax: 65 }, 'swimAwarenessMax'],
    [{ swimGossipIntervalMs: 9 }, 'swimGossipIntervalMs'],
    [{ swimGossipIntervalMs: 60_001 }, 'swimGossipIntervalMs'],
    [{ swimGossipNodes: 0 }, 'swimGossipNodes'],
    [{ swimGossipNodes: 65 }, 'swimGossipNodes'],
    [{ swimPushPullIntervalMs: -1 }, 'swimPushPullIntervalMs'],
    [{ swimDeadProbeIntervalMs: 99 }, 'swimDeadProbeIntervalMs'],
    [{ swimLeftRetainMs: 999 }, 'swimLeftRetainMs'],
    [{ swimPacketBytesMax: 511 }, 'swimPacketBytesMax'],
    [{ swimPacketBytesMax: 65_001 }, 'swimPacketBytesMax'],
    [{ swimPiggybackMax: 0 }, 'swimPiggybackMax'],
    [{ transferIntervalMs: 9 }, 'transferIntervalMs'],
    [{ transferIntervalMs: 3_600_001 }, 'transferIntervalMs'],
    [{ transferBatch: 0 }, 'transferBatch'],
    [{ transferBatch: 100_001 }, 'transferBatch'],
    [{ reapBatch: 0 }, 'reapBatch'],
    [{ reapBatch: 1.5 }, 'reapBatch'],
  ];
  for (const [overrides, field] of cases) {
    t.throws(() => validateConfig(overrides, testConfig), { code: 'KV_ERR_CONFIG', details: { field } }, JSON.stringify(overrides));
  }
  // The edges of each range are accepted.
  const edges: Array<Partial<NodeConfig>> = [
    { swimProbeIntervalMs: 10, swimProbeTimeoutMs: 9 },
    { swimIndirectChecks: 0, swimAwarenessMax: 0, swimPushPullIntervalMs: 0 },
    { swimSuspicionMult: 0.5, swimSuspicionMaxMult: 1 },
    { swimPacketBytesMax: 65_000, swimPiggybackMax: 1024, swimGossipNodes: 64 },
    { transferIntervalMs: 10, transferBatch: 1, reapBatch: 100_000 },
  ];
  for (const overrides of edges) t.doesNotThrow(() => validateConfig(overrides, testConfig), JSON.stringify(overrides));
});
