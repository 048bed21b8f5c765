/**
 * deploy/k8s/ against the CLI, the node and itself (issue 16 point 4): the container's
 * `ringkv node` arguments (with Kubernetes' `$(VAR)` expansion from the container's env) are
 * flags the CLI parses and the node accepts; the advertised names are the pods' stable names
 * under the headless Service and the seeds that Service's name; probe paths are routes the
 * node serves; ports line up between the flags, the container, the Services and the probes;
 * selectors match the pod labels; the Secret references exist, the secret file is not
 * readable by others (the node refuses it otherwise) and the example's placeholders are
 * refused; the grace period covers the preStop pause and the drain; the PDB keeps a quorum.
 * YAML is read as Kubernetes reads it (YAML 1.1: `0440` is octal).
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { parseSecretFile, validateConfig } from '@ringkv/node';
import { execForm, parseDockerfile } from './dockerfile.js';
import { flagValue, hostOf, nodeConfigFor, nodeGetRoutes, portOf, repoFile, stopSecondsMax } from './recipe.js';

// YAML documents are untyped: the checks below are what gives them a shape.
type Obj = Record<string, any>;

const DIR = 'deploy/k8s';
const load = (file: string): Obj[] => parseAllDocuments(repoFile(`${DIR}/${file}`), { version: '1.1' }).map((doc) => doc.toJS() as Obj);
const kustomization = load('kustomization.yaml')[0]!;
const resources = (kustomization.resources as string[]).flatMap(load);
const secretExample = load('secret.example.yaml')[0]!;
const find = (kind: string, name?: string): Obj => {
  const found = resources.find((r) => r.kind === kind && (name === undefined || r.metadata.name === name));
  if (found === undefined) throw new Error(`no ${kind}${name ? ` ${name}` : ''} in ${DIR}`);
  return found;
};
const statefulSet = find('StatefulSet');
const pod = statefulSet.spec.template;
const container = pod.spec.containers[0] as Obj;
const headless = find('Service', statefulSet.spec.serviceName);
const clientService = resources.find((r) => r.kind === 'Service' && r.metadata.name !== headless.metadata.name)!;
const SAMPLE = { name: 'ringkv-0', namespace: 'prod' };

/** The value each env var of the container has in a sample pod (downward API; Secret keys must exist). */
function sampleEnv(): Map<string, string> {
  const env = new Map<string, string>();
  for (const variable of container.env as Obj[]) {
    const field = variable.valueFrom?.fieldRef?.fieldPath as string | undefined;
    const secret = variable.valueFrom?.secretKeyRef as Obj | undefined;
    if (field === 'metadata.name') env.set(variable.name, SAMPLE.name);
    else if (field === 'metadata.namespace') env.set(variable.name, SAMPLE.namespace);
    else if (secret !== undefined) env.set(variable.name, `<secret ${secret.name}/${secret.key}>`);
    else if (typeof variable.value === 'string') env.set(variable.name, variable.value);
    else throw new Error(`env ${variable.name}: a source this test does not know`);
  }
  return env;
}

/** Kubernetes' `$(VAR)` expansion in args; a reference to an undefined var is an error here. */
function expandArgs(args: readonly string[], env: Map<string, string>): string[] {
  return args.map((arg) =>
    arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, name: string) => {
      const value = env.get(name);
      if (value === undefined) throw new Error(`args use $(${name}), which the container's env does not define`);
      return value;
    }),
  );
}

const args = expandArgs(container.args as string[], sampleEnv());
const containerPort = (name: string): Obj => {
  const port = (container.ports as Obj[]).find((p) => p.name === name);
  if (port === undefined) throw new Error(`the container has no port named ${name}`);
  return port;
};

t.test('the manifests are the kustomization resources plus the Secret example', async (t) => {
  const files = readdirSync(`${DIR}`).filter((f) => f.endsWith('.yaml'));
  t.same(files.sort(), [...kustomization.resources, 'kustomization.yaml', 'secret.example.yaml'].sort(), 'every manifest is applied by `kubectl apply -k`, except the Secret example');
});

t.test('the container runs the image entrypoint`s program with `ringkv node` flags the CLI and the node accept', async (t) => {
  const entrypoint = execForm(parseDockerfile(repoFile('deploy/docker/Dockerfile')).instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)!.text);
  t.same(container.command, entrypoint.slice(0, 3), 'command = the Dockerfile ENTRYPOINT program and `node` command');
  const config = nodeConfigFor(args);
  t.equal(config.nodeId, SAMPLE.name, 'the node id is the pod name');
  t.equal(config.host, '0.0.0.0', 'binds every interface of the pod');
  t.equal(config.n, 3);
});

t.test('advertised addresses are the pod`s stable name under the headless Service; seeds are that Service', async (t) => {
  t.equal(headless.spec.clusterIP, 'None', 'the Service the StatefulSet names is headless');
  t.equal(headless.spec.publishNotReadyAddresses, true, 'and publishes pods before they are ready (they join through it)');
  const domain = `${headless.metadata.name}.${SAMPLE.namespace}.svc.cluster.local`;
  const advertise = flagValue(args, 'advertise')!;
  const gossipAdvertise = flagValue(args, 'gossip-advertise')!;
  t.equal(hostOf(advertise), `${SAMPLE.name}.${domain}`);
  t.equal(hostOf(gossipAdvertise), `${SAMPLE.name}.${domain}`);
  const seeds = flagValue(args, 'seeds')!.split(',');
  t.same(seeds.map(hostOf), [domain], 'the seed is the headless Service name (every pod)');
  t.equal(portOf(advertise), Number(flagValue(args, 'port')), 'advertised HTTP port = --port');
  t.equal(portOf(gossipAdvertise), Number(flagValue(args, 'gossip-port')), 'advertised gossip port = --gossip-port');
  t.equal(portOf(seeds[0]!), Number(flagValue(args, 'gossip-port')), 'seeds are gossip addresses');
});

t.test('container ports are the flags`, and every Service port targets a container port of its protocol', async (t) => {
  t.equal(containerPort('http').containerPort, Number(flagValue(args, 'port')));
  t.equal(containerPort('http').protocol, 'TCP');
  for (const protocol of ['UDP', 'TCP']) {
    t.ok((container.ports as Obj[]).some((p) => p.containerPort === Number(flagValue(args, 'gossip-port')) && p.protocol === protocol), `gossip port over ${protocol}`);
  }
  for (const service of [headless, clientService]) {
    for (const port of service.spec.ports as Obj[]) {
      const target = containerPort(port.targetPort);
      t.equal(port.protocol, target.protocol, `${service.metadata.name}:${port.name} protocol`);
      t.equal(port.port, target.containerPort, `${service.metadata.name}:${port.name} keeps the node's port number (advertised addresses carry it)`);
    }
  }
  t.same((clientService.spec.ports as Obj[]).map((p) => p.targetPort), ['http'], 'the client Service exposes HTTP only');
  t.equal(pod.metadata.annotations['prometheus.io/port'], String(containerPort('http').containerPort), 'metrics are scraped on the HTTP port');
  t.ok(nodeGetRoutes().has(pod.metadata.annotations['prometheus.io/path']), 'at a route the node serves');
});

t.test('probes use routes the node serves, on its HTTP port', async (t) => {
  const routes = nodeGetRoutes();
  const expected: Record<string, string> = { startupProbe: '/livez', livenessProbe: '/livez', readinessProbe: '/readyz' };
  for (const [probe, path] of Object.entries(expected)) {
    const get = container[probe]?.httpGet as Obj | undefined;
    t.ok(get, `${probe} is an HTTP GET`);
    t.ok(routes.has(get!.path), `${probe} ${get!.path} is a GET route of the node`);
    t.equal(get!.path, path, `${probe} asks ${path}`);
    t.equal(containerPort(get!.port).containerPort, Number(flagValue(args, 'port')), `${probe} on --port`);
  }
});

t.test('selectors (Services, PDB, spreading) match the pod labels', async (t) => {
  const labels = pod.metadata.labels as Record<string, string>;
  const matches = (selector: Record<string, string>) => Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
  t.ok(matches(statefulSet.spec.selector.matchLabels), 'StatefulSet selector');
  t.ok(matches(headless.spec.selector), 'headless Service selector');
  t.ok(matches(clientService.spec.selector), 'client Service selector');
  const pdb = find('PodDisruptionBudget');
  t.ok(matches(pdb.spec.selector.matchLabels), 'PodDisruptionBudget selector');
  const spread = pod.spec.topologySpreadConstraints as Obj[];
  for (const constraint of spread) t.ok(matches(constraint.labelSelector.matchLabels), `spread over ${constraint.topologyKey}`);
  t.ok(spread.some((c) => c.topologyKey === 'topology.kubernetes.io/zone'), 'spread across zones');
  const n = nodeConfigFor(args).n;
  const quorum = Math.floor(n / 2) + 1;
  t.ok(n - pdb.spec.maxUnavailable >= quorum, `PDB maxUnavailable ${pdb.spec.maxUnavailable}: every key keeps a quorum (${quorum} of N=${n})`);
  t.ok(statefulSet.spec.replicas >= n, 'at least N pods');
});

t.test('the data volume is --dir, one claim per pod', async (t) => {
  const claim = statefulSet.spec.volumeClaimTemplates[0] as Obj;
  const mount = (container.volumeMounts as Obj[]).find((m) => m.name === claim.metadata.name);
  t.equal(mount?.mountPath, flagValue(args, 'dir'), 'the claim is mounted at --dir');
  t.same(claim.spec.accessModes, ['ReadWriteOnce']);
});

t.test('Secret references exist, the secret file is private, and the example placeholders are refused', async (t) => {
  const data = { ...(secretExample.stringData ?? {}), ...(secretExample.data ?? {}) } as Record<string, string>;
  for (const variable of (container.env as Obj[]).filter((v) => v.valueFrom?.secretKeyRef)) {
    const ref = variable.valueFrom.secretKeyRef as Obj;
    t.equal(ref.name, secretExample.metadata.name, `${variable.name}: the Secret`);
    t.ok(ref.key in data, `${variable.name}: key ${ref.key} exists`);
  }
  const volume = (pod.spec.volumes as Obj[]).find((v) => v.secret !== undefined)!;
  t.equal(volume.secret.secretName, secretExample.metadata.name, 'the secret volume mounts that Secret');
  const mount = (container.volumeMounts as Obj[]).find((m) => m.name === volume.name)!;
  const files = (volume.secret.items as Obj[]).map((item) => `${mount.mountPath}/${item.path}`);
  for (const item of volume.secret.items as Obj[]) t.ok(item.key in data, `volume item ${item.key} exists`);
  t.ok(files.includes(flagValue(args, 'secret-file')!), '--secret-file is a file of the secret volume');
  t.equal(volume.secret.defaultMode & 0o007, 0, `defaultMode ${volume.secret.defaultMode.toString(8)}: others cannot read it (the node refuses such a file)`);
  t.ok(pod.spec.securityContext.fsGroup !== undefined, 'fsGroup makes the file readable by the node`s group');
  const secretKey = (volume.secret.items as Obj[]).find((item) => files[(volume.secret.items as Obj[]).indexOf(item)] === flagValue(args, 'secret-file'))!.key;
  t.throws(() => parseSecretFile(data[secretKey]!), 'the example cluster secret is refused by the node');
  const tokenVariable = (container.env as Obj[]).find((v) => v.name === 'RINGKV_ADMIN_TOKEN')!;
  t.throws(() => validateConfig({ secret: 'placeholder-secret', adminToken: data[tokenVariable.valueFrom.secretKeyRef.key]! }), /adminToken/, 'the example admin token is refused');
});

t.test('the grace period covers the preStop pause and the node`s drain', async (t) => {
  const preStop = container.lifecycle?.preStop?.exec?.command as string[] | undefined;
  const pause = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
  const grace = pod.spec.terminationGracePeriodSeconds as number;
  t.ok(grace >= pause + stopSecondsMax + 5, `terminationGracePeriodSeconds ${grace} >= preStop ${pause} s + drain + shutdown grace ${stopSecondsMax} s + 5 s`);
});

t.test('the pod runs as the image`s non-root user', async (t) => {
  const dockerfile = parseDockerfile(repoFile('deploy/docker/Dockerfile'));
  const user = dockerfile.instructions.filter((i) => i.keyword === 'USER').at(-1)!.text.split(':');
  t.equal(String(pod.spec.securityContext.runAsUser), user[0], 'runAsUser = the image USER');
  t.equal(pod.spec.securityContext.runAsNonRoot, true);
  t.equal(container.securityContext.allowPrivilegeEscalation, false);
});
