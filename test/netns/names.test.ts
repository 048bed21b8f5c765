// Run names and subnets of the multi-host tier (names.ts): fit Linux's limits, parse back to
// their run, and never overlap a route in use.
import t from 'tap';
import { chooseSubnet, overlaps, pidOfTag, runNames, tagInName } from './names.js';

t.test('names fit in 15 characters and carry the run tag', async (t) => {
  const names = runNames(4_194_303, '10.150.1');
  for (const name of [names.bridge, names.hostVeth(5), names.peerVeth(5)]) {
    t.ok(name.length <= 15, `${name} fits an interface name`);
    t.equal(tagInName(name), names.tag);
  }
  t.equal(tagInName(names.namespace(3)), names.tag);
  t.equal(pidOfTag(names.tag), 4_194_303);
  t.equal(tagInName('eth0'), undefined);
  t.equal(tagInName('rknabcv1'), undefined, 'a shorter tag is not ours');
  t.equal(names.hostAddress(1), '10.150.1.11');
  t.equal(names.clientAddress, '10.150.1.1');
});

t.test('prefixes overlap when they share an address', async (t) => {
  t.ok(overlaps('10.150.1.0/24', '10.150.1.128/25'));
  t.ok(overlaps('10.0.0.0/8', '10.150.1.0/24'));
  t.ok(overlaps('10.150.1.7', '10.150.1.0/24'), 'a host route');
  t.notOk(overlaps('10.150.2.0/24', '10.150.1.0/24'));
  t.notOk(overlaps('192.0.2.0/24', '10.150.1.0/24'));
});

t.test('the subnet avoids every route but the default one', async (t) => {
  const pid = 1234;
  const first = chooseSubnet(pid, ['default', '192.0.2.0/24']);
  t.match(first, /^10\.1[5-8]\d\.\d+$/);
  const second = chooseSubnet(pid, [`${first}.0/24`]);
  t.not(second, first, 'a taken /24 is skipped');
  t.throws(() => chooseSubnet(pid, ['10.0.0.0/8']), /no free/);
});
