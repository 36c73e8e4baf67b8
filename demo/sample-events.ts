// Sample Flowmon ADS events in the three formats the parser reads, stamped with the current time.
const pad = (n: number): string => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function localTime(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function cefTime(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${pad(d.getDate())} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** ADS "standard" TSV: id, time, first seen, type, description, perspective, priority, detail, port, protocol,
 *  source, captured name, targets, data feed, user identity. */
export function tsvEvents(now = new Date()): string {
  const t = localTime(now);
  const rows = [
    ['5101', t, t, 'SSHDICT', 'SSH attack', 'Security Issues', 'High', 'Attack from a single attacker. Attempts: 120.', '22', 'TCP', '192.0.2.10', ' ', '198.51.100.5, 198.51.100.6', 'LAN', ' '],
    ['5102', t, t, 'SCANS', 'Port scanning', 'Security Issues', 'Medium', 'Port scanning of 3 hosts.', ' ', ' ', '192.0.2.11', ' ', '198.51.100.7', 'LAN', ' '],
  ];
  return rows.map((r) => r.join('\t')).join('\n') + '\n';
}

/** ADS JSON (one object per line). */
export function jsonEvents(now = new Date()): string {
  const t = localTime(now);
  const objects = [
    { id: '5201', timestamp: t, type: 'RDPDICT', typeDesc: 'RDP attack', perspective: 'Security Issues', severity: 'Critical', detail: 'RDP attack.', source: '2001:db8::1a', targets: '2001:db8::2', netFlowSource: 'LAN', userIdentity: '' },
    { id: '5202', timestamp: t, type: 'DOS', typeDesc: 'Denial of service attack', perspective: 'Security Issues', severity: 'High', detail: 'Input/output packet ratio too high.', source: '192.0.2.12', targets: '198.51.100.8', netFlowSource: 'WAN', userIdentity: '' },
  ];
  return objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
}

/** ADS syslog lines in CEF. */
export function cefEvents(now = new Date()): string {
  const t = cefTime(now);
  const syslogTime = `${MONTHS[now.getMonth()]} ${String(now.getDate()).padStart(2, ' ')} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  return (
    `${syslogTime} ads ADS: CEF:0|Flowmon Networks|Flowmon ADS Ultimate|12.03.00|BLACKLIST|Communication with blacklisted hosts|8|` +
    `src=203.0.113.21 start=${t} msg=Communication with a blacklisted host. target=198.51.100.21 cn1=5301 cn1Label=EventID\n`
  );
}

/** Sources of a burst: 198.18.0.0/15 (benchmarking range), never one of the protected addresses. */
export function burstSource(i: number): string {
  return `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/**
 * For the example "Ask a person before blocking": a ransomware-like event from a source where two users worked (the
 * CryptoSpike node holds it for a person to pick the user), then a burst of `burst` new sources (the LoadMaster
 * node holds those over its storm cap of 60 a minute). TSV, one line each.
 */
export function askEvents(burst = 65, now = new Date()): string {
  const t = localTime(now);
  const row = (id: number, method: string, description: string, priority: string, source: string): string =>
    [String(id), t, t, method, description, 'Security Issues', priority, `${description}.`, ' ', ' ', source, ' ', '198.51.100.9', 'LAN', ' '].join('\t');
  const rows = [row(5401, 'RANSOMWARE', 'Ransomware-like file activity', 'Critical', '192.0.2.13')];
  for (let i = 0; i < burst; i++) rows.push(row(5500 + i, 'SCANS', 'Port scanning', 'Medium', burstSource(i)));
  return rows.join('\n') + '\n';
}
