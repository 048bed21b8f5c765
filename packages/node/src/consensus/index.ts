/**
 * Per-key Paxos for compare-and-set (issue 17; design in docs/cas.md): ballots, the register
 * state and its rule, the messages, the acceptor step, the joint quorum and the proposer.
 * Pure: the wiring into the server (transport codec, acceptor records in the store, HTTP
 * `if_version` / `if_absent` / `consistent`) is the next step.
 */
export * from './ballot.js';
export * from './register-state.js';
export * from './messages.js';
export * from './acceptor.js';
export * from './joint-quorum.js';
export * from './proposer.js';
