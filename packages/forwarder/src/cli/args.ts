import { invalidOption } from '../errors.js';

/**
 * Takes a command's own flags out of argv (`--name value`, `--name=value`, or a bare boolean),
 * leaving the rest for the config loader, which rejects anything it does not know.
 */
export function takeFlags<const V extends string, const B extends string>(
  argv: readonly string[],
  valued: readonly V[],
  booleans: readonly B[] = [],
): { values: Partial<Record<V, string>>; flags: Record<B, boolean>; rest: string[] } {
  const values: Partial<Record<V, string>> = {};
  const flags = Object.fromEntries(booleans.map((name) => [name, false])) as Record<B, boolean>;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    const [name, inline] = arg.startsWith('--')
      ? (arg.slice(2).split(/=(.*)/s, 2) as [string, string?])
      : ['', undefined];
    if ((valued as readonly string[]).includes(name)) {
      const value = inline ?? argv[(i += 1)];
      if (value === undefined || value.startsWith('--')) throw invalidOption(`--${name}`, 'a value', value);
      values[name as V] = value;
    } else if ((booleans as readonly string[]).includes(name) && inline === undefined) {
      flags[name as B] = true;
    } else {
      rest.push(arg);
    }
  }
  return { values, flags, rest };
}

/** `2026-11-23T10:00Z`, `2026-11-23`, or an age: `90s`, `30m`, `6h`, `7d` (that long ago). */
export function parseTime(text: string, flag: string, now = Date.now()): number {
  const age = /^(\d+)(s|m|h|d)$/.exec(text);
  if (age !== null) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(age[1]) * unit;
  }
  const millis = Date.parse(text);
  if (Number.isNaN(millis)) throw invalidOption(flag, 'an ISO 8601 time or an age like 30m, 6h, 7d', text);
  return millis;
}
