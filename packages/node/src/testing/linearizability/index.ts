/**
 * A linearizability checker for registers with read, write and compare-and-set (issue 17,
 * point 4): the judge of the CAS simulation (test/consensus/) and, later, of real-process runs.
 */
export * from './history.js';
export { stepRegister, observesVersions, type ModelState } from './register-model.js';
export { checkRegister, type KeyVerdict, type Explanation } from './search.js';
export { checkLinearizable, explain, type Verdict, type CheckOptions } from './check.js';
export { bruteForceLinearizable } from './brute-force.js';
