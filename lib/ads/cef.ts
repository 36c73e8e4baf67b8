// CEF lines from ADS 6.07–13.0. ADS does not escape extension values (a raw `=` occurs inside msg), so the
// extension is split only before ` <knownKey>=`.
import { bounded } from './bounds';
import { AdsEvent } from './event';
import { splitSyslog } from './syslog-header';
import { parseCefTime } from './time';
import { LineError, priorityFromCefSeverity, quote, requireSource, targetList } from './values';

const ADS_KEYS = [
  'src', 'c6a2', 'smac', 'start', 'msg', 'target', 'dst', 'c6a3', 'cs4', 'cs6', 'cs2', 'cn1', 'cn2', 'cn3',
  'deviceCustomString1',
];
const OTHER_KEYS = [
  'rt', 'end', 'spt', 'dpt', 'proto', 'suser', 'duser', 'shost', 'dhost', 'dmac', 'act', 'cat', 'dvc', 'dvchost',
  'externalId', 'cs1', 'cs3', 'cs5', 'c6a1', 'c6a4', 'cn4',
];
const LABELLED = ['c6a1', 'c6a2', 'c6a3', 'c6a4', 'cs1', 'cs2', 'cs3', 'cs4', 'cs5', 'cs6', 'cn1', 'cn2', 'cn3', 'cn4', 'deviceCustomString1'];
const FLOWMON = /flowmon/i;
/** The keys whose values the event uses; the others are only recognised as boundaries. */
const USED_KEYS = new Set([
  'src', 'c6a2', 'start', 'msg', 'target', 'dst', 'c6a3', 'cs4', 'cs4Label', 'cs6', 'cs6Label', 'cn1', 'cn1Label',
  'cn2', 'cn2Label', 'rt', 'dpt', 'proto', 'suser',
]);
/** Keys that count only before msg= (see splitExtension). */
const BEFORE_MSG_ONLY = new Set(['src', 'c6a2', 'start', 'smac', 'suser']);
const KNOWN_KEYS = new Set([...ADS_KEYS, ...OTHER_KEYS, ...LABELLED.map((k) => `${k}Label`)]);
const LONGEST_KEY = Math.max(...[...KNOWN_KEYS].map((k) => k.length));

/** Parses one CEF line, with or without a syslog header. `now` anchors the year of an RFC 3164 header. */
export function parseCefLine(line: string, zone: string, now: number): AdsEvent {
  const split = splitSyslog(line, zone, now);
  if (!split) throw new LineError('no "CEF:" found');
  const { header, extension } = splitHeader(split.cef);
  const [, vendor, product, , signature, name, severity] = header;
  if (!FLOWMON.test(product) && !FLOWMON.test(vendor)) {
    throw new LineError(`CEF from ${quote(`${vendor} ${product}`)}, not from Flowmon ADS`);
  }
  const ext = splitExtension(extension);
  const method = signature.trim();
  if (method === '') throw new LineError('CEF signature ID (the ADS method code) is empty');

  const { detail, listed } = splitTargetList(ext.get('msg') ?? '');
  const targets: string[] = [];
  for (const key of ['target', 'dst', 'c6a3'] as const) targetList(ext.get(key), `${key}=`, targets);
  for (const key of ['cs4', 'cs6'] as const) {
    if (isLabelled(ext, key, key === 'cs4' ? 'dstIPv4list' : 'dstIPv6list')) targetList(ext.get(key), `${key}=`, targets);
  }
  targetList(listed, 'targetList: in msg', targets);

  if (ext.has('src') && ext.has('c6a2')) {
    // ADS sends one of the two (src for IPv4, c6a2 for IPv6), both before msg=.
    throw new LineError('CEF keys src= and c6a2= both name a source (ADS sends one of them); line not used');
  }
  const sourceKey = ext.has('src') ? 'src' : 'c6a2';
  const rt = ext.get('rt');
  const start = ext.get('start');
  return bounded({
    kind: /\bIDS\b/i.test(product) ? 'ids' : 'ads',
    format: 'cef',
    id: isLabelled(ext, 'cn1', 'EventID') ? nonEmpty(ext.get('cn1')) : null,
    detectedAt: (rt ? parseCefTime(rt, zone) : null) ?? split.time,
    firstFlowAt: start ? parseCefTime(start, zone) : null,
    method,
    subtype: machineValue(detail, 'Submethod'),
    mitre: null,
    description: name,
    perspective: null,
    priority: priorityFromCefSeverity(severity),
    detail,
    ports: nonEmpty(ext.get('dpt')) ?? machineValue(detail, 'PortList'),
    protocol: nonEmpty(ext.get('proto')) ?? machineValue(detail, 'Protocol'),
    source: requireSource(nonEmpty(ext.get(sourceKey)), ext.has(sourceKey) ? `${sourceKey}=` : 'src= or c6a2='),
    sourceName: null,
    targets,
    dataFeed: isLabelled(ext, 'cn2', 'DataFeedID') ? nonEmpty(ext.get('cn2')) : null,
    userIdentity: nonEmpty(ext.get('suser')),
    raw: line,
  });
}

/** The seven header fields after `CEF:` (with `\|` and `\\` un-escaped) and the extension text. */
function splitHeader(cef: string): { header: string[]; extension: string } {
  const header: string[] = [];
  const backslash = cef.indexOf('\\');
  let pipe = cef.indexOf('|', 4);
  let from = 4;
  while (pipe >= 0 && header.length < 7 && (backslash < 0 || pipe < backslash)) {
    header.push(cef.slice(from, pipe));
    from = pipe + 1;
    pipe = cef.indexOf('|', from);
  }
  if (header.length === 7) return checkedHeader(header, cef.slice(from));
  header.length = 0;
  let start = 4;
  let pending = '';
  for (let i = 4; i < cef.length && header.length < 7; i++) {
    const c = cef.charCodeAt(i);
    if (c === 92 /* \ */ && i + 1 < cef.length) {
      pending += cef.slice(start, i) + cef[i + 1];
      i++;
      start = i + 1;
    } else if (c === 124 /* | */) {
      header.push(pending + cef.slice(start, i));
      pending = '';
      start = i + 1;
    }
  }
  return checkedHeader(header, cef.slice(start));
}

function checkedHeader(header: string[], extension: string): { header: string[]; extension: string } {
  if (header.length < 7) throw new LineError(`CEF header has ${header.length + 1} of 8 "|"-separated fields`);
  if (header[0] !== '0' && header[0] !== '1') throw new LineError(`unsupported CEF version ${quote(header[0])}`);
  return { header, extension };
}

/**
 * Values of the known keys; a key counts only at the start or after a space, and not after a backslash.
 *
 * ADS does not escape msg text, so ` src=1.2.3.4` or ` suser=x` inside msg looks like a key of its own. Two rules:
 * - The keys ADS writes before msg= (src, c6a2, start, smac: in every line of every sample set) and suser (which
 *   ADS does not send at all) are read only before msg=; after it their values are ignored (the text may have put
 *   them there). So an address or user named in the text never replaces the event's source or user, and the event
 *   is still read.
 * - Any other used key that appears twice rejects the line: the target keys (target, dst, c6a3, cs4, cs6) and
 *   cn1/cn2 come after msg in ADS's order, so neither the first nor the last copy is known to be ADS's own.
 */
function splitExtension(extension: string): Map<string, string> {
  const values = new Map<string, string>();
  let key: string | null = null;
  let valueStart = 0;
  let afterMsg = false;
  for (let eq = extension.indexOf('='); eq >= 0; eq = extension.indexOf('=', eq + 1)) {
    const keyStart = extension.lastIndexOf(' ', eq - 1) + 1;
    if (eq === keyStart || eq - keyStart > LONGEST_KEY) continue;
    const candidate = extension.slice(keyStart, eq);
    if (!KNOWN_KEYS.has(candidate)) continue;
    if (key !== null && USED_KEYS.has(key)) setValue(values, key, extension.slice(valueStart, keyStart));
    if (afterMsg && BEFORE_MSG_ONLY.has(candidate)) {
      key = null; // a boundary whose value is not used
      continue;
    }
    if (USED_KEYS.has(candidate) && values.has(candidate)) {
      throw new LineError(`CEF key ${candidate}= appears twice (the msg text may carry an injected key); line not used`);
    }
    key = candidate;
    valueStart = eq + 1;
    if (candidate === 'msg') afterMsg = true;
  }
  if (key !== null && USED_KEYS.has(key)) setValue(values, key, extension.slice(valueStart));
  return values;
}

function setValue(values: Map<string, string>, key: string, text: string): void {
  const value = text.charCodeAt(text.length - 1) === 32 || text.charCodeAt(0) === 32 ? text.trim() : text;
  values.set(key, value.includes('\\') ? value.replace(/\\([\\=|])/g, '$1') : value);
}

/** A custom key counts as meaning `label` when its `…Label` says so or is absent. */
function isLabelled(ext: Map<string, string>, key: string, label: string): boolean {
  if (!ext.has(key)) return false;
  const actual = ext.get(`${key}Label`);
  return actual === undefined || actual === label;
}

/** ADS ≤ 11.0 appends the target list to msg as ` targetList: a, b, c`. */
function splitTargetList(msg: string): { detail: string; listed: string | null } {
  const at = msg.lastIndexOf('targetList:');
  if (at < 0 || (at > 0 && msg[at - 1] !== ' ')) return { detail: msg, listed: null };
  return { detail: msg.slice(0, at).trimEnd(), listed: msg.slice(at + 'targetList:'.length) };
}

/** A value of machine-readable msg text `{Key:'value';…}`. */
function machineValue(detail: string, key: string): string | null {
  if (detail.charCodeAt(0) !== 123 /* { */) return null;
  const at = detail.indexOf(`${key}:'`);
  if (at < 0 || (at > 1 && detail[at - 1] !== ';' && detail[at - 1] !== ',')) return null;
  const from = at + key.length + 2;
  const end = detail.indexOf("'", from);
  return end < 0 ? null : nonEmpty(detail.slice(from, end));
}

function nonEmpty(text: string | undefined | null): string | null {
  return text === undefined || text === null || text === '' ? null : text;
}
