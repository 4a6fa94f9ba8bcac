/**
 * Whether the text has a character other than whitespace (JavaScript's `\s`: Unicode spaces, line
 * separators, BOM) and controls ≤ U+0020. Graylog trims strings like Java's `String.trim()` (every
 * char ≤ U+0020) and calls a host or short_message blank by `Character.isWhitespace` (which adds
 * U+001C–U+001F): text without such a character becomes an empty message (dropped as incomplete)
 * or a rejected host — or, for the few spaces only JavaScript counts (NBSP, BOM), shows nothing.
 */
export function hasVisibleText(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are the point here
  return /[^\s\u0000-\u0020]/.test(text);
}

/**
 * `JSON.stringify` for a value from `JSON.parse`, at any depth. V8's stringify recurses and throws
 * a RangeError a few thousand levels down, while `JSON.parse` reads far deeper: a record of 4 MiB
 * of `[[[[…]]]]` would make the stage throw for a value it could read. The deep case is written out
 * with a stack of its own, to the same text.
 */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return deepJsonText(value);
  }
}

interface Frame {
  /** The array, or the object's keys: either way what is left to write is `[index…]`. */
  readonly items: readonly unknown[];
  readonly object: Readonly<Record<string, unknown>> | undefined;
  index: number;
}

function deepJsonText(root: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const write = (value: unknown): void => {
    if (Array.isArray(value)) {
      out.push('[');
      stack.push({ items: value, object: undefined, index: 0 });
    } else if (typeof value === 'object' && value !== null) {
      out.push('{');
      const object = value as Readonly<Record<string, unknown>>;
      stack.push({ items: Object.keys(object), object, index: 0 });
    } else {
      // Strings, numbers, booleans and null: what JSON.parse gives besides containers.
      out.push(JSON.stringify(value));
    }
  };
  write(root);
  for (let frame = stack.at(-1); frame !== undefined; frame = stack.at(-1)) {
    if (frame.index === frame.items.length) {
      out.push(frame.object === undefined ? ']' : '}');
      stack.pop();
      continue;
    }
    const item = frame.items[frame.index];
    if (frame.index > 0) out.push(',');
    frame.index += 1;
    if (frame.object === undefined) {
      write(item);
    } else {
      const key = item as string;
      out.push(JSON.stringify(key), ':');
      write(frame.object[key]);
    }
  }
  return out.join('');
}
