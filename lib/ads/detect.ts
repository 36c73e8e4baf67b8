// Which reader a line goes to when the format is "auto".

export type LineFamily = 'json' | 'tsv' | 'cef';

export function detectLine(line: string): LineFamily | null {
  let i = 0;
  while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 0xfeff)) i++;
  const first = line.charCodeAt(i);
  if (first === 123 /* { */ || first === 91 /* [ */) return 'json';
  if (line.includes('\t')) return 'tsv';
  if (line.includes('CEF:')) return 'cef';
  return null;
}
