// Types for test-schedule.mjs, so the TypeScript tests can import it.
export declare const unknownFileSeconds: number;
export interface Batch {
  files: string[];
  seconds: number;
}
export declare function planBatches(
  files: string[],
  secondsByFile: Record<string, number>,
  options: { lanes: number; batchSecondsMax?: number; batchSecondsMin?: number },
): Batch[];
export declare function fileSecondsFromTap(tapText: string): Record<string, number>;
export declare function tapSummary(tapText: string): { pass: number; fail: number; skip: number } | undefined;
