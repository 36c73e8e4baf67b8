/**
 * Text that comes from events, appliances or flows is shown in web UIs (the Node-RED editor, the LoadMaster and
 * CryptoSpike consoles) and kept in records. These helpers reduce it to bounded, printable text.
 */

/** Control, format (bidi overrides, zero-width), private-use, unpaired surrogate and line/paragraph separator characters. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]+/gu;
/** Characters that are markup, or end an attribute or a script string, in a web UI. */
const MARKUP = /[<>&"'`]/g;

/** Cuts `text` to at most `max` UTF-16 units, marking a cut with "…" and never splitting a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + '…';
}

/**
 * Printable text of at most `max` characters: unprintable characters become spaces, runs of white space one space,
 * and the ends are trimmed. Anything that is not a string becomes "".
 */
export function plainText(value: unknown, max: number): string {
  if (typeof value !== 'string') return '';
  return clip(value.replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim(), max);
}

/**
 * Text the package writes to an appliance (ACL and block comments): {@link plainText} without the characters that
 * are markup in a web UI (`<`, `>`, `&`, `"`, `'` and the backtick), so no console that shows it unescaped can be
 * made to run it.
 */
export function applianceText(value: unknown, max: number): string {
  if (typeof value !== 'string') return '';
  return plainText(value.replace(MARKUP, ''), max);
}
