// How much the fuzzers generate, and from which seed: GRAYBRIDGE_FUZZ_RUNS (records; `npm run
// test:faults` sets 1,000,000) and GRAYBRIDGE_FUZZ_SEED (to replay a failure).

function envInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${text}`);
  return value;
}

export const fuzzSeed = envInteger('GRAYBRIDGE_FUZZ_SEED', 20_260_110);

/** Records to generate; `fallback` when GRAYBRIDGE_FUZZ_RUNS is unset. */
export function fuzzRuns(fallback: number): number {
  return envInteger('GRAYBRIDGE_FUZZ_RUNS', fallback);
}
