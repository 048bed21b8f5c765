// Seeds by DNS name (issue 16 point 1): re-resolved at every join attempt, every address
// tried, failures logged and retried, never fatal. The resolver is injected.
import t from 'tap';
import { pino, type Logger } from 'pino';
import { deriveKeys } from '../../security/keyring.js';
import { resolveSeeds, type SeedResolver } from './seeds.js';
import { SwimDriver } from './driver.js';
import { defaultSwimConfig } from './types.js';

/** A logger that keeps its warnings, for checking what was said. */
function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  // pino's stream overload types the logger without custom levels; it is an ordinary Logger.
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }) as unknown as Logger;
  return { logger, warnings };
}

t.test('resolveSeeds: names give every address (bracketed for IPv6); literals pass; failures and empty answers are skipped and logged', async (t) => {
  const { logger, warnings } = recordingLogger();
  const resolver: SeedResolver = async (host, family) => {
    if (host === 'ringkv-seeds.svc') return family === 4 ? ['10.0.0.1', '10.0.0.2', '10.0.0.3'] : ['fd00::1'];
    if (host === 'empty.svc') return [];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  };
  const seeds = ['ringkv-seeds.svc:7946', '10.0.0.9:7000', '[fd00::9]:7000', 'gone.svc:7946', 'empty.svc:7946', '10.0.0.2:7946'];
  t.same(await resolveSeeds(seeds, resolver, 4, () => false, logger), ['10.0.0.1:7946', '10.0.0.2:7946', '10.0.0.3:7946', '10.0.0.9:7000', '[fd00::9]:7000'], 'duplicates dropped, order kept');
  t.same(await resolveSeeds(['ringkv-seeds.svc:7946'], resolver, 6, () => false, logger), ['[fd00::1]:7946'], 'the socket\'s family');
  t.same(await resolveSeeds(seeds, resolver, 4, (a) => a === '10.0.0.1:7946', logger), ['10.0.0.2:7946', '10.0.0.3:7946', '10.0.0.9:7000', '[fd00::9]:7000'], 'this node\'s own address is left out');
  t.ok(warnings.some((w) => w.includes('gone.svc') && w.includes('did not resolve')), 'a failure is logged with the seed');
  t.ok(warnings.some((w) => w.includes('empty.svc') && w.includes('no address')), 'an empty answer too');
  const many: SeedResolver = async () => Array.from({ length: 500 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
  t.equal((await resolveSeeds(['big.svc:1'], many, 4, () => false, logger)).length, 64, 'bounded: at most 64 addresses from one name');
  const odd: SeedResolver = async () => ['not-an-ip', '10.0.0.1', 'fd00::1'];
  t.same(await resolveSeeds(['odd.svc:1'], odd, 4, () => false, logger), ['10.0.0.1:1'], 'a resolver answer that is not an address of the family is ignored');
});

t.test('a node joins through a seed name that resolves to nothing at first, then to a dead address and the live one', async (t) => {
  const keys = () => [deriveKeys('seeds-test-secret').gossip];
  const silent = pino({ level: 'silent' });
  const common = { keys, config: defaultSwimConfig, logger: silent, tickMs: 20, nowMs: Date.now, random: Math.random };
  const a = await SwimDriver.start({ ...common, selfId: 'a', host: '127.0.0.2', port: 0, httpAddress: 'http://127.0.0.2:1', seeds: [] });
  t.teardown(() => a.close());
  const port = Number(a.gossipAddress.split(':').at(-1));
  // What "ringkv-seeds.test" resolves to at each attempt: nothing (NXDOMAIN), then an address
  // where nothing listens (a pod that moved) followed by a's.
  let attempts = 0;
  const answers: string[][] = [];
  const resolve: SeedResolver = async (host) => {
    attempts++;
    if (host !== 'ringkv-seeds.test') throw new Error(`unexpected name ${host}`);
    const answer = attempts <= 2 ? undefined : ['127.0.0.3', '127.0.0.2'];
    if (answer === undefined) throw Object.assign(new Error('getaddrinfo ENOTFOUND ringkv-seeds.test'), { code: 'ENOTFOUND' });
    answers.push(answer);
    return answer;
  };
  const { logger, warnings } = recordingLogger();
  const b = await SwimDriver.start({ ...common, logger, selfId: 'b', host: '127.0.0.1', port: 0, httpAddress: 'http://127.0.0.1:1', seeds: [`ringkv-seeds.test:${port}`], resolve });
  t.teardown(() => b.close());
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && (b.swim.member('a')?.status !== 'alive' || a.swim.member('b')?.status !== 'alive')) await new Promise((r) => setTimeout(r, 50));
  t.equal(b.swim.member('a')?.status, 'alive', 'b found a through the name');
  t.equal(a.swim.member('b')?.status, 'alive', 'and a knows b');
  t.ok(attempts >= 3, `the name was resolved again at each attempt (${attempts})`);
  t.same(answers[0], ['127.0.0.3', '127.0.0.2'], 'the first answer that resolved held a dead address before the live one');
  t.ok(warnings.filter((w) => w.includes('did not resolve')).length >= 2, 'each failed resolution was logged, and the node kept trying');
});
