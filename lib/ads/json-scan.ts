// Bounds for JSON before it is parsed or walked: nesting depth and the number of top-level array items, found in one
// pass without recursion, so that no input can exhaust the stack (JSON.parse, JSON.stringify and Node-RED's message
// cloning all recurse on nested values) or make the parser build millions of objects before a 413.

/**
 * Deepest nesting accepted, counting every array and object level of one JSON text or value. ADS and IDS events are
 * flat objects: an array of events holding a `targets` array is 3 levels deep, so 8 leaves room for an extra
 * envelope or two, while any value that could overflow a stack anywhere is tens of thousands of levels deep.
 */
export const MAX_JSON_DEPTH = 8;

export interface JsonScan {
  /** The text is one bracketed JSON value (an array or an object) with only white space around it. */
  single: boolean;
  /** Offset of the first bracket that went deeper than the limit (within the first value), if any. */
  tooDeepAt?: number;
  /** Items of a top-level array, counted until `maxItems` was passed. */
  items: number;
  /** The top-level array has more items than `maxItems`; the scan stopped there. */
  tooManyItems: boolean;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/**
 * Scans the first JSON value of `text` (which must start, after white space, with `[` or `{`) for its nesting depth
 * and, when it is an array, the number of its items. Brackets inside strings do not count. This is no validator:
 * JSON.parse still judges the syntax afterwards, but only of a text this scan found within the bounds.
 */
export function scanJson(text: string, limits: { maxDepth: number; maxItems?: number }): JsonScan {
  const out: JsonScan = { single: false, items: 0, tooManyItems: false };
  const maxItems = limits.maxItems ?? Infinity;
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  const first = text.charCodeAt(i);
  if (first !== OPEN_ARRAY && first !== OPEN_OBJECT) return out;
  const topArray = first === OPEN_ARRAY;
  let depth = 0;
  let inString = false;
  let itemOpen = false;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (isSpace(c)) continue;
    if (topArray && depth === 1 && !itemOpen && c !== CLOSE_ARRAY && c !== COMMA) {
      itemOpen = true;
      if (++out.items > maxItems) {
        out.tooManyItems = true;
        return out;
      }
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limits.maxDepth && out.tooDeepAt === undefined) out.tooDeepAt = i;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (--depth === 0) break;
    } else if (c === COMMA && depth === 1) itemOpen = false;
  }
  if (depth !== 0) return out;
  for (i++; i < text.length; i++) if (!isSpace(text.charCodeAt(i))) return out;
  out.single = true;
  return out;
}

/** True when `text` (one JSON value) nests deeper than `maxDepth`. */
export function jsonTooDeep(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  return scanJson(text, { maxDepth }).tooDeepAt !== undefined;
}

/**
 * True when a value already parsed (or built by a flow) nests arrays and objects deeper than `maxDepth`. Walked with
 * an explicit stack, never recursively; a Buffer or typed array is one leaf, and a cycle counts as too deep.
 */
export function valueTooDeep(value: unknown, maxDepth = MAX_JSON_DEPTH): boolean {
  const stack: Array<[object, number]> = [];
  if (isContainer(value)) stack.push([value, 1]);
  while (stack.length > 0) {
    const [container, depth] = stack.pop() as [object, number];
    if (depth > maxDepth) return true;
    const children: unknown[] = Array.isArray(container) ? container : Object.values(container);
    for (const child of children) if (isContainer(child)) stack.push([child, depth + 1]);
  }
  return false;
}

function isContainer(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer);
}

export function tooDeepReason(maxDepth = MAX_JSON_DEPTH): string {
  return `JSON nested deeper than ${maxDepth} levels: ADS events are flat objects`;
}
