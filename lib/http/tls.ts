import { X509Certificate } from 'node:crypto';
import { FIELD_ERRORS, readBool, readText } from '../config/fields';

/**
 * How an appliance's certificate is checked:
 * - system: against the system CAs (default);
 * - ca: against one CA certificate given as PEM;
 * - fingerprint: only the certificate whose SHA-256 fingerprint is pinned is accepted (self-signed appliances);
 * - insecure: any certificate (explicit, warned opt-in).
 */
export type TlsMode = 'system' | 'ca' | 'fingerprint' | 'insecure';

export interface TlsSettings {
  mode: TlsMode;
  ca?: string;
  /** SHA-256 fingerprint, hex with or without colons. */
  fingerprint?: string;
}

/** Config-node fields; `auto` picks the mode from whichever value is set (for flows configured by environment). */
export interface TlsFields {
  tlsMode?: string;
  tlsCa?: string;
  tlsFingerprint?: string;
  tlsInsecure?: string | boolean;
}

export function normaliseFingerprint(text: string): string {
  return text.replace(/^sha256\s*(fingerprint)?\s*[=:]?/i, '').replace(/[\s:]/g, '').toLowerCase();
}

/** Turns config-node fields into TlsSettings, throwing a message that names the field (never its value). */
export function resolveTlsSettings(fields: TlsFields): TlsSettings {
  const ca = readText(fields.tlsCa) || undefined;
  const fingerprintText = readText(fields.tlsFingerprint);
  const fingerprint = fingerprintText ? normaliseFingerprint(fingerprintText) : undefined;
  let mode = readText(fields.tlsMode, 'auto') as TlsMode | 'auto';
  if (mode === 'auto') {
    mode = fingerprint ? 'fingerprint' : ca ? 'ca' : readBool(fields.tlsInsecure) ? 'insecure' : 'system';
  }
  switch (mode) {
    case 'system':
    case 'insecure':
      return { mode };
    case 'ca':
      if (!ca) throw new Error(FIELD_ERRORS.tlsCaMissing);
      try {
        new X509Certificate(ca);
      } catch {
        throw new Error(FIELD_ERRORS.tlsCa);
      }
      return { mode, ca };
    case 'fingerprint':
      if (!fingerprint || !/^[0-9a-f]{64}$/.test(fingerprint)) {
        throw new Error(FIELD_ERRORS.tlsFingerprint);
      }
      return { mode, fingerprint };
    default:
      throw new Error(FIELD_ERRORS.tlsMode);
  }
}
