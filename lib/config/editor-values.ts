/**
 * Values posted by a configuration dialog (the "Test connection" button, editor lookups) are the fields as typed:
 * `${ENV_VAR}` not substituted, and secrets the editor never received replaced by its placeholder. They are taken
 * literally: a request never makes the runtime read an environment variable (see connection-lookup.ts).
 */
import { isEnvReference } from './fields';

/** What the editor sends in place of a stored password-type credential. */
export const EDITOR_SECRET_PLACEHOLDER = '__PWRD__';

/**
 * A credential the dialog really typed, or undefined for the editor's placeholder, an empty field or a `${VAR}`
 * (a reference is only ever resolved for the deployed node, by Node-RED).
 */
export function typedCredential(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '' || value === EDITOR_SECRET_PLACEHOLDER) return undefined;
  return isEnvReference(value) ? undefined : value;
}
