/**
 * `ringkv <command> --help`: each command's usage, flags and defaults, printed with exit 0.
 * Defaults are read from the node's own config (defaultConfig), so the text cannot drift from
 * what a node does; test/cli/help.test.ts checks that every flag a command parses is named here.
 */
import { defaultConfig } from '@ringkv/node';

const d = defaultConfig;

const ADMIN = `Credentials (admin commands and status):
  --token T      the admin token (else RINGKV_ADMIN_TOKEN, else the admin-token file in --dir)
  --dir D        where ringkv up keeps its admin-token (default ./data)
  --cacert F     the CA certificate of a TLS ring (else RINGKV_CACERT)
  --url U        the node to ask (else RINGKV_URL, default http://127.0.0.1:7070)`;

const KV = `Common flags:
  --url U          the node to ask (else RINGKV_URL, default http://127.0.0.1:7070)
  --timeout-ms MS  the request's deadline at the node (default ${d.requestTimeoutMsDefault})
  --token T        a client token (else RINGKV_TOKEN)
  --cacert F       the CA certificate of a TLS ring (else RINGKV_CACERT)`;

/** repair and its first name, anti-entropy: one command. */
const REPAIR = (name: string) => `usage: ringkv ${name} [--peer ID] [--json] [flags]

Runs anti-entropy now: one exchange with each of the node's partners (GET /admin/anti-entropy),
or only with ID, one after another, a line as each finishes (peer, keys compared, in, out,
failed, bytes, duration). Exit 1 if an exchange failed.${name === 'anti-entropy' ? ' (Same as ringkv repair.)' : ''}
  --peer ID   the one peer to exchange with
  --json      one JSON report per exchange, a line each
${ADMIN}`;

export const commandHelp: Readonly<Record<string, string>> = {
  up: `usage: ringkv up [--nodes K] [--n N] [--port P] [--dir D]

Starts a local ring of K nodes in the foreground and prints their URLs once every node sees
every member alive; Ctrl-C stops them.
  --nodes K   nodes to start (default 3)
  --n N       replicas per key (default min(3, K))
  --port P    HTTP port of the first node; node i listens on P+i, gossip on P+1000+i
              (default 7070; 0 = ports the OS picks)
  --dir D     data directory of the ring: one subdirectory per node, logs, the cluster secret
              and the admin token (default ./data)`,

  node: `usage: ringkv node --id ID --port HTTP_PORT --dir DIR [flags]

Runs one node in the foreground (SIGTERM or SIGINT drains and stops it).
Identity and addresses:
  --id ID                    node id (required)
  --port P                   HTTP port for clients and peers (required; 0 = any free port)
  --dir DIR                  data directory (required)
  --host ADDR                address to bind (default ${d.host}); a wildcard needs --advertise
  --advertise HOST[:PORT]    address peers and clients use to reach this node (default --host)
  --gossip-port P            gossip UDP/TCP port (default ${d.gossipPort})
  --gossip-advertise H[:P]   gossip address peers use (default the advertised host)
  --zone NAME                failure domain: a key's replicas span zones (default none)
Membership:
  --seeds HOST:PORT,...      gossip seeds (DNS names re-resolved at each join attempt)
  --membership swim|static   default swim, or static when --peers is given
  --peers ID=URL[@ZONE],...  a static member list instead of gossip
  --n N                      replicas per key (default ${d.n})
  --secret S | --secret-file F   the cluster secret (one per line in the file, for rotation)
Durability and transport:
  --sync full|normal         full: acknowledged after an fsync (default ${d.sqliteSynchronous}); normal: survives a crash of the process only
  --peer-transport stream|http   how this node dials peers (default ${d.peerTransport})
  --replica-timeout-ms MS    a replica silent this long is probed, then routed around (default ${d.replicaTimeoutMs})
  --drain-ms MS              on SIGTERM, how long peers get to stop routing here (default ${d.drainMs})
Healing:
  --anti-entropy-interval-ms MS      between exchanges; 0 turns it off (default ${d.antiEntropyIntervalMs})
  --anti-entropy-keys-per-second K   repair rate bound (default ${d.antiEntropyKeysPerSecond})
  --tombstone-grace-ms MS            how long a tombstone is kept before reaping (default ${d.tombstoneGraceMs})
  --reap-interval-ms MS              between reaper rounds (default ${d.reapIntervalMs})
Security:
  --admin-token T            token for admin mutations (else RINGKV_ADMIN_TOKEN, else DIR/admin-token)
  --auth-file F              client tokens and their grants (reloaded on SIGHUP)
  --tls-cert F --tls-key F [--tls-ca F]   HTTPS; with --tls-ca, mutual TLS between peers
  --connections-max C        open client connections (default ${d.connectionsMax})
  --headers-timeout-ms MS    time to receive a request's headers (default ${d.headersTimeoutMs})
Operations:
  --log-level LEVEL          pino level (default ${d.logLevel})
  --fault-injection          accept POST /internal/faults (test harnesses only)`,

  get: `usage: ringkv get KEY [--r R] [--json] [flags]

Reads KEY; prints each sibling's value and the context to write back with.
  --r R    replicas that must answer (default quorum of N)
  --json   one JSON object on stdout: {"key", "found", "context", "siblings"}, siblings as the
           node's 300 body gives them ({"value": "<base64>", "contentType"} or {"deleted": true});
           exit 1 when not found
${KV}`,

  put: `usage: ringkv put KEY VALUE [--w W] [--context C] [--content-type T] [flags]

Writes VALUE under KEY.
  --w W               replicas that must acknowledge (default quorum of N)
  --context C         the context of the read this write replaces (else a new sibling)
  --content-type T    stored with the value (default text/plain; charset=utf-8)
${KV}`,

  del: `usage: ringkv del KEY [--w W] [--context C] [flags]

Deletes KEY (a tombstone replaces what the context saw).
  --w W          replicas that must acknowledge (default quorum of N)
  --context C    the context of the read this delete replaces
${KV}`,

  dt: `usage: ringkv dt get|incr|add|remove|update KEY [ARGS] [--r R] [--w W] [--context C] [flags]

Data types (docs/datatypes.md), merged by the nodes, never siblings. Each prints the key's
state as one JSON line: {"type", "value", "context"}.
  dt get KEY                      read a counter, set or map (exit 1 when the key holds none)
  dt incr KEY [BY]                add BY (default 1; negative subtracts) to a counter
  dt add KEY ELEMENT...           add elements to a set (add wins over a concurrent remove)
  dt remove KEY ELEMENT...        remove elements (those --context saw, else the node's read)
  dt update KEY JSON              any operation, e.g. '{"update": {"visits": {"increment": 1}}}'
  --r R        replicas the read (of every subcommand) waits for (default quorum of N)
  --w W        replicas a write waits for (default quorum of N)
  --context C  remove: the context of the read whose elements to remove
${KV}`,

  ls: `usage: ringkv ls [--prefix P] [--limit L] [--after K] [--all] [--r R] [--json] [flags]

Lists keys in byte order (GET /kv, docs/listing.md), one per line. Without --all it prints one
page and, when more follow, the command for the next page on stderr; with --all it pages until
the listing ends. A page reflects one replica per range at the moment it was asked.
  --prefix P   only keys starting with P (with a client token: only its granted prefixes)
  --limit L    keys per page, 1 to 1000 (default 100)
  --after K    start after key K (the cursor a previous page printed)
  --all        every page until the end
  --r R        replicas asked per range, their answers merged (default 1)
  --json       one JSON page per line: {"keys": [...], "next": K | null}
${KV}`,

  status: `usage: ringkv status [--json] [--watch [--interval-ms MS]] [flags]

A node's status: members, ring, hints, transfers, anti-entropy, zones.
  --json             print {"status": GET /admin/status, "ring": GET /admin/ring}
  --watch            refresh until Ctrl-C (a node that does not answer is shown, and the watch goes on)
  --interval-ms MS   between refreshes with --watch (default 2000, at least 500); with --json,
                     one JSON object per line
${ADMIN}`,

  ring: `usage: ringkv ring [--json] [flags]

The ring as one node sees it: tokens, ownership shares and zone per node.
  --json   print the JSON answer of GET /admin/ring
${ADMIN}`,

  members: `usage: ringkv members [--json] [flags]

Every member the node at --url knows: status (alive, suspect, dead, left), incarnation, zone, address.
  --json   print the JSON answer of GET /admin/members
${ADMIN}`,

  preflist: `usage: ringkv preflist KEY [--json] [flags]

The nodes that hold KEY (its preference list, in order), then the fallbacks a sloppy write uses.
  --json   print the JSON answer of GET /admin/preflist/KEY
${ADMIN}`,

  leave: `usage: ringkv leave [flags]

The node at --url leaves the ring: it hands off its keys and hints, then stops.
${ADMIN}`,

  remove: `usage: ringkv remove ID [flags]

Removes dead member ID for good (it may never rejoin under that id).
${ADMIN}`,

  transfers: `usage: ringkv transfers status|pause|resume [--json] [flags]

Shows (status), pauses or resumes the node's ownership handoff.
  --json   with status: print the JSON answer of GET /admin/transfers
${ADMIN}`,

  local: `usage: ringkv local KEY [--json] [flags]

The node's own stored copy of KEY (GET /admin/local/KEY): its siblings and context as it holds
them, without asking other replicas and without repair. Needs the admin token. Exit 1 when the
node holds nothing for KEY.
  --json   print the JSON answer of GET /admin/local/KEY
${ADMIN}`,

  repair: REPAIR('repair'),
  'anti-entropy': REPAIR('anti-entropy'),

  snapshot: `usage: ringkv snapshot --out FILE [flags]

An online, consistent copy of one node's database (POST /admin/snapshot: the node copies its
SQLite file with SQLite's backup API and streams it). The copy is written beside FILE, checked
(SHA-256 sent by the node, SQLite integrity check, ringkv schema, node id), then renamed to
FILE: FILE is a whole checked snapshot or untouched. One snapshot at a time per node.
  --out FILE   where to write the snapshot (required)
${ADMIN}`,

  restore: `usage: ringkv restore --from FILE --dir DIR [--tombstone-grace-ms MS]

Puts a snapshot in place as the database of the STOPPED node whose data directory is DIR (a
running node is detected by its lock and refused). The old database is moved aside to
DIR/pre-restore-<time>/, the node's other files (admin token, secret, removals) are kept. The
node gets a new epoch at its next start, so it never reuses a version-vector dot; snapshots
older than the tombstone grace (less 30 s) are refused, so no deleted key comes back.
Then: start the node, run ringkv repair --url <its URL>. docs/operations.md.
  --from FILE              the snapshot (from ringkv snapshot)
  --dir DIR                the stopped node's data directory (created if missing)
  --tombstone-grace-ms MS  the ring's --tombstone-grace-ms (default ${d.tombstoneGraceMs})`,
  watch: `usage: ringkv watch KEY [--r R] [--context C] [--json] [--count N] [--poll-timeout-ms MS] [flags]

Prints each new state of KEY as it changes (docs/watch.md): the value, "N siblings: …" or
"(deleted)", one line per change, the context on stderr. Without --context the key's current
state comes first (when it exists). Changes are delivered at least once, the latest state
each time (a burst of writes may show as its last one). Resumes on another node from the last
context if its node fails. Runs until Ctrl-C (exit 0).
  --r R                 replicas each read waits for (default quorum of N)
  --context C           start after this context (a read's): only later changes are printed
  --json                one JSON object per change: {"key", "found", "deleted", "context", "siblings"}
  --count N             exit 0 after N changes
  --poll-timeout-ms MS  how long each long poll waits at the node (default 30000; the node caps it, default ${d.watchTimeoutMsMax})
  --url U               the node to ask (else RINGKV_URL, default http://127.0.0.1:7070)
  --token T             a client token (else RINGKV_TOKEN)
  --cacert F            the CA certificate of a TLS ring (else RINGKV_CACERT)`,
};

/** True when `argv` asks for help (before a `--`, which ends the options). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}
