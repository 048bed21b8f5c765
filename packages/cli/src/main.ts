#!/usr/bin/env node
/**
 * `ringkv`: argv dispatch to one file per command. Usage errors exit with status 64; command
 * failures print the coded error and exit with status 1.
 */
import { runNode } from './commands/node.js';
import { runUp } from './commands/up.js';
import { runGet, runPut, runDel } from './commands/kv.js';
import { runDt } from './commands/dt.js';
import { runStatus } from './commands/status.js';
import { runRing } from './commands/ring.js';
import { runMembers, runPreflist } from './commands/members.js';
import { runLeave, runRemove, runTransfers } from './commands/membership.js';
import { runLocal } from './commands/local.js';
import { runRepair } from './commands/repair.js';
import { runSnapshot } from './commands/snapshot.js';
import { runRestore } from './commands/restore.js';
import { runLs } from './commands/ls.js';
import { runWatch } from './commands/watch.js';
import { UsageError } from './args.js';
import { commandHelp, wantsHelp } from './help.js';

const commands: Record<string, (argv: string[]) => Promise<number | void>> = {
  node: runNode,
  up: runUp,
  get: runGet,
  put: runPut,
  del: runDel,
  dt: runDt,
  status: runStatus,
  ring: runRing,
  members: runMembers,
  preflist: runPreflist,
  leave: runLeave,
  remove: runRemove,
  transfers: runTransfers,
  local: runLocal,
  repair: runRepair,
  'anti-entropy': runRepair, // the name it had first; same command
  snapshot: runSnapshot,
  restore: runRestore,
  ls: runLs,
  watch: runWatch,
};

const usage = `usage: ringkv <command> [options]   (ringkv <command> --help: its flags and defaults)

  up      --nodes K [--n N] [--port P] [--dir D]     start a local ring (ports P..P+K-1)
  node    --id ID --port HTTP_PORT --dir DIR [--gossip-port UDP_PORT]
          [--seeds HOST:PORT,...] [--n N] [--secret S | --secret-file F] [--zone NAME]
          [--peers ID=http://HOST:PORT[@ZONE],...] (static membership instead of gossip)
          [--host BIND_ADDRESS (127.0.0.1)] [--advertise HOST[:PORT]] [--gossip-advertise HOST[:PORT]]
          (HOST: a DNS name, an IPv4 address or [IPv6]; seed names are resolved at each join attempt)
          [--admin-token T] [--auth-file F] [--tls-cert F --tls-key F [--tls-ca F]]
          [--connections-max C] [--headers-timeout-ms MS]   run one node in the foreground
  get     KEY [--r R] [--url U] [--json]              read a key
  put     KEY VALUE [--w W] [--context C] [--url U]   write a key
  del     KEY [--w W] [--context C] [--url U]         delete a key
  watch   KEY [--r R] [--context C] [--json] [--count N] [--url U]   print each change of a key
  dt      get|incr|add|remove|update KEY [ARGS] [--r R] [--w W] [--context C]   data types
          (docs/datatypes.md): a counter, an add-wins set, a map; prints {type, value, context}
  ls      [--prefix P] [--limit L] [--after K] [--all] [--r R] [--json]   list keys in byte order
          (docs/listing.md): a page, or every page with --all
          (get/put/del/dt/ls: [--token T] (else RINGKV_TOKEN) [--cacert F] (else RINGKV_CACERT))
  status  [--url U] [--json] [--watch [--interval-ms MS]]   a node's status (transfers, zones included)
  ring    [--url U] [--json]                          show the ring: tokens, shares and zone per node
  members [--url U] [--json]                          the members a node knows: status, incarnation, zone
  preflist KEY [--url U] [--json]                     the nodes that hold KEY, then its fallbacks
  leave   [--url U]                                   the node leaves the ring: hands off, then stops
  remove  ID [--url U]                                remove dead member ID for good
  local   KEY [--url U] [--json]                      this node's own stored copy of KEY (admin token)
  transfers status|pause|resume [--url U] [--json]    show, pause or resume a node's handoff
  repair  [--peer ID] [--url U] [--json]              anti-entropy now, a line per exchange as it finishes
  anti-entropy [--peer ID] [--url U] [--json]         the same as repair (its first name)
  snapshot --out FILE [--url U]                       an online, checked copy of one node's database
  restore --from FILE --dir DIR [--tombstone-grace-ms MS]   put a snapshot in place (node stopped)
          (admin commands and status: [--token T] (else RINGKV_ADMIN_TOKEN, else the
          admin-token file in --dir D, default ./data, where ringkv up keeps it) [--cacert F])
`;

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage);
    return;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`ringkv: unknown command "${name}" (ringkv --help lists the commands)\n`);
    process.exit(64);
  }
  if (wantsHelp(rest)) {
    process.stdout.write(`${commandHelp[name] ?? usage}\n`);
    return;
  }
  try {
    const code = await command(rest);
    if (typeof code === 'number' && code !== 0) process.exit(code);
  } catch (error) {
    if (error instanceof UsageError) {
      // One line (a script's log stays readable); the command's --help has the rest.
      process.stderr.write(`ringkv ${name}: ${error.message} (ringkv ${name} --help lists its flags)\n`);
      process.exit(64);
    }
    const coded = error as { code?: string; message?: string };
    process.stderr.write(`ringkv ${name}: ${coded.code ? `${coded.code}: ` : ''}${coded.message ?? String(error)}\n`);
    process.exit(1);
  }
}

void main();
