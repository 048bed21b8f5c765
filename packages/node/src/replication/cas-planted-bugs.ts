/**
 * Bugs a test may plant in compare-and-set to show the simulation catches them
 * (test/sim/cas-sim.test.ts), as core/versioned.ts's plantedBugs: answering for a key without
 * learning it after a change of ring, stepping rounds from any ring (no layout fence), and
 * taking part in rounds before the node has joined its ring (a restarted node alone in its
 * ring). Never set outside tests.
 */
export const casPlantedBugs = { answerWithoutLearning: false, ignoreLayout: false, answerBeforeJoined: false };
