import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInput, ParseOptions } from '../../../lib/ads/parse-lines';

export const ZONE = 'Europe/Prague';

export function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, '..', '..', 'fixtures', 'ads', name));
}

export function parse(payload: unknown, overrides: Partial<ParseOptions> = {}) {
  return parseInput(payload, {
    format: 'auto',
    timeZone: ZONE,
    maxLineLength: 65_536,
    maxEvents: 10_000,
    now: Date.parse('2025-12-01T00:00:00Z'),
    ...overrides,
  });
}
