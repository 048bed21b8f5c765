// Loaded into every test process (.taprc `node-arg`), after tap's own hooks and before the test
// file. tap starts each test file with its processinfo hook (@tapjs/processinfo: which files a
// process loaded, for coverage and `--changed`) and adds that hook to the NODE_OPTIONS of
// every process the test spawns, through a spawn listener (the process-on-spawn package). So
// each ring node, CLI run and bench script loaded it too: about 0.6 s more CPU per start on
// this machine (0.35 s for `ringkv get --help` without it, 1 s with it), over hundreds of
// starts in the default run, and a record written into .tap/processinfo at each exit. Coverage
// is off (.taprc) and the suite never runs with `--changed`, so nothing reads those records:
// a listener added after tap's takes the hook out of what children get, and they start as
// they would outside the tests. The test process itself keeps the hook, as tap started it. If
// a later tap does this differently, the listener list is not there and nothing changes.
const hook = /\s*"?--(?:import|loader|require)[= ]"?[^"\s]*@tapjs[+/]processinfo[^"\s]*"?/g;

/** NODE_OPTIONS without tap's processinfo hook, or undefined when nothing else is left. */
function withoutHook(options) {
  if (options === undefined || !options.includes('processinfo')) return options;
  const kept = options.replace(hook, '').trim();
  return kept === '' ? undefined : kept;
}

/** One child's environment without the hook in its NODE_OPTIONS. */
function cleaned(env) {
  const options = withoutHook(env.NODE_OPTIONS);
  if (options === env.NODE_OPTIONS) return env;
  const result = { ...env };
  if (options === undefined) delete result.NODE_OPTIONS;
  else result.NODE_OPTIONS = options;
  return result;
}

const spawnHooks = globalThis[Symbol.for('process-on-spawn@*:singletonId')];
if (Array.isArray(spawnHooks?.listeners)) {
  spawnHooks.listeners.push((child) => {
    child.env = cleaned(child.env);
  });
}
