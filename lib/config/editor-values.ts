/**
 * Values posted by a configuration dialog (the "Test connection" button, editor lookups) are the fields as typed:
 * `${ENV_VAR}` not yet substituted, and secrets the editor never received replaced by its placeholder.
 */

/** What the editor sends in place of a stored password-type credential. */
export const EDITOR_SECRET_PLACEHOLDER = '__PWRD__';

/** `${VAR}` → the variable's value (empty when unset), as Node-RED does for deployed nodes. */
export function substituteEnv(value: unknown): unknown {
  return typeof value === 'string' ? value.replace(/\$\{(\w+)\}/g, (_m, name: string) => process.env[name] ?? '') : value;
}

/** Every field of a posted dialog with `${VAR}` substituted. */
export function substituteEnvFields<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, substituteEnv(v)])) as T;
}

/** The secret typed in the dialog, or the deployed node's when the field was left as it was (or empty). */
export function typedOrDeployedSecret(typed: unknown, deployed: string | undefined): string | undefined {
  const value = substituteEnv(typed);
  return typeof value === 'string' && value !== '' && value !== EDITOR_SECRET_PLACEHOLDER ? value : deployed;
}
