/**
 * Compares registry entries with the appliance lists (LoadMaster only: appliances that can list their tagged
 * targets). Active entries missing on the appliance are put back; tagged targets the registry does not hold as
 * active are only reported. Only entries carrying this package's comment tag are ever looked at.
 */
import type { MitigationAppliance } from '../mitigation/types';
import { entryKey, RegistryEntry } from '../registry/entry';
import { reapplyComment } from './scheduler';

export interface ReconcileReport {
  configId: string;
  scope: string;
  reapplied: string[];
  /** Tagged targets on the appliance with no active registry entry. */
  unknown: string[];
  errors: string[];
}

export async function reconcile(
  entries: Iterable<Readonly<RegistryEntry>>,
  resolve: (configId: string) => MitigationAppliance | null,
  include: (e: Readonly<RegistryEntry>) => boolean = () => true,
): Promise<ReconcileReport[]> {
  const groups = new Map<string, RegistryEntry[]>();
  const held = new Map<string, Set<string>>();
  for (const e of entries) {
    if (e.state !== 'active' || e.simulated) continue;
    const k = `${e.configId}\u0000${e.scope}`;
    const targets = held.get(k) ?? new Set<string>();
    targets.add(e.target);
    held.set(k, targets);
    if (!include(e)) continue;
    const list = groups.get(k) ?? [];
    list.push(e as RegistryEntry);
    groups.set(k, list);
  }
  const reports: ReconcileReport[] = [];
  for (const [k, list] of groups) {
    const { configId, scope } = list[0];
    const known = held.get(k) as Set<string>;
    const appliance = resolve(configId);
    if (!appliance?.listTaggedTargets || !appliance.reapplyMitigation) continue;
    const report: ReconcileReport = { configId, scope, reapplied: [], unknown: [], errors: [] };
    try {
      const present = new Set(await appliance.listTaggedTargets(scope));
      for (const e of list) {
        if (present.has(e.target)) continue;
        try {
          await appliance.reapplyMitigation(entryKey(e), reapplyComment(e));
          report.reapplied.push(e.target);
        } catch (err) {
          report.errors.push(`${e.target}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      for (const t of present) if (!known.has(t)) report.unknown.push(t);
    } catch (err) {
      report.errors.push(`listing ${scope}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (report.reapplied.length + report.unknown.length + report.errors.length > 0) reports.push(report);
  }
  return reports;
}
