// The harness counts read-your-writes misses in time windows (harness.ts) because the
// checker's readYourWrites compares every read with every add of its key, too slow for a
// ten-minute soak. The windows must give exactly the checker's figures: compared here on
// seeded random set-workload histories with deletes, failed operations and overlaps.
import t from 'tap';
import { readYourWrites, type HistoryEvent } from './checker.js';
import { readYourWritesWindowed } from './harness.js';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** A history of 3 keys: reads that see most earlier adds (some missed), adds, deletes that saw what their read saw. */
function history(seed: number): HistoryEvent[] {
  const rng = random(seed);
  const events: HistoryEvent[] = [];
  const live = new Map<string, string[]>();
  let now = 0;
  for (let i = 0; i < 600; i++) {
    now += rng() * 40;
    const key = `k${Math.floor(rng() * 3)}`;
    const elements = (live.get(key) ?? []).filter(() => rng() > 0.05);
    const dice = rng();
    const endMs = now + rng() * 300;
    if (dice < 0.5) {
      events.push({ type: 'read', key, siblings: 1, elements, startMs: now, endMs });
    } else if (dice < 0.9) {
      const ok = rng() > 0.1;
      events.push({ type: 'add', key, element: `e${i}`, ok, startMs: now, endMs: ok ? endMs : Infinity });
      if (ok) live.set(key, [...(live.get(key) ?? []), `e${i}`]);
    } else {
      events.push({ type: 'delete', key, seen: elements, ok: rng() > 0.2, startMs: now, endMs });
      live.set(key, (live.get(key) ?? []).filter((e) => !elements.includes(e)));
    }
  }
  return events;
}

t.test('windowed read-your-writes equals the checker on whole histories', async (t) => {
  let misses = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const events = history(seed);
    const whole = readYourWrites(events);
    for (const windowMs of [50, 500, 5_000]) {
      const windowed = readYourWritesWindowed(events, windowMs);
      if (windowed.reads !== whole.reads || windowed.misses !== whole.misses) {
        t.fail(`seed ${seed}, ${windowMs} ms windows: ${windowed.misses}/${windowed.reads} vs ${whole.misses}/${whole.reads}`);
      }
    }
    misses += whole.misses;
  }
  t.ok(misses > 0, `the histories contain misses (${misses}), so the comparison means something`);
});
