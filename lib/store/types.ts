/**
 * What the package keeps durably, as interfaces with two implementations: the embedded journals in the user directory
 * (one Node-RED, nothing to install) and PostgreSQL (several Node-RED instances sharing one truth). The registry, the
 * history, the intake ledger, the release scheduler and the appliance services only see these interfaces.
 */
import type { EventEmitter } from 'node:events';
import type { LiveRecords } from '../durable/journal';
import type { IntakeRecord } from '../intake/ledger';
import type { HistoryRecord } from '../history/record';
import type { RegistryEntry } from '../registry/entry';

/**
 * The shared store cannot be reached (PostgreSQL down, the network between, a timeout). The work was not done and can
 * be tried again later: the ADS endpoint answers 503, nodes say so in their status.
 */
export class StoreUnavailableError extends Error {
  constructor(message = 'the shared store (PostgreSQL) cannot be reached') {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

export function isStoreUnavailable(err: unknown): boolean {
  return err instanceof Error && err.name === 'StoreUnavailableError';
}

/** A put made on a stale copy: the stored entry (undefined when it was deleted) for the change to be made again. */
export interface PutConflict {
  conflict: true;
  current: RegistryEntry | undefined;
}

/** An entry another instance changed (`type` is the registry's change type) or deleted. */
export interface RemoteEntryChange {
  type: string;
  id: string;
  /** The stored entry; undefined when it was deleted. */
  entry: RegistryEntry | undefined;
}

/** Where registry entries live. */
export interface EntryBackend {
  /** True when other instances write the same entries (PostgreSQL). */
  readonly shared: boolean;
  /** Every stored entry (the journal reads synchronously; PostgreSQL asynchronously). */
  load(): RegistryEntry[] | Promise<RegistryEntry[]>;
  /**
   * Stores the entry if nobody else changed it since this instance last saw it (always, for the journal). `type` is
   * the change type, passed on to the other instances.
   */
  put(entry: RegistryEntry, type: string): Promise<void | PutConflict>;
  delete(id: string, type: string): Promise<void>;
  /** Changes made by other instances, once each is stored (shared backends only). */
  onRemote?(listener: (change: RemoteEntryChange) => void): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Lines of the journal (0 for PostgreSQL); for tests and benchmarks. */
  readonly lineCount: number;
}

/** Where the history lives. Records are never rewritten. */
export interface HistoryBackend {
  readonly shared: boolean;
  load(): HistoryRecord[] | Promise<HistoryRecord[]>;
  append(record: HistoryRecord): Promise<void>;
  /** Drops the records with these ids. */
  delete(ids: string[]): Promise<void>;
  /** Records other instances appended, once each is stored, in the order they were stored. */
  onRemote?(listener: (records: HistoryRecord[]) => void): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Where accepted-but-unfinished ADS events live. */
export interface IntakeBackend {
  readonly shared: boolean;
  /** Unfinished events of the previous run of this instance, to replay at start (none for PostgreSQL: see onTakeover). */
  load(): IntakeRecord[];
  /** Resolves once every record is durable; rejects (StoreUnavailableError for PostgreSQL) when they are not. */
  put(records: IntakeRecord[]): Promise<void>;
  /** The event is finished. Retried by the backend until it is stored. */
  settle(id: string): Promise<void>;
  /**
   * Events another instance accepted and did not finish before it died, now this instance's to finish (the releasing
   * instance takes them over; shared backends only). `nodes` says which parser nodes this instance runs.
   */
  onTakeover?(nodes: () => string[], listener: (records: IntakeRecord[]) => void): void;
  close(): Promise<void>;
}

/**
 * Who runs expiry, release retries, reconcile, decide-by defaults and the takeover of a dead instance's events. With
 * the journal there is one instance, always leading. Emits `change` (isLeader: boolean).
 */
export interface Leadership extends Pick<EventEmitter, 'on' | 'off'> {
  readonly isLeader: boolean;
  /**
   * Fencing: resolves true only if this instance still holds the lock and the lease at the store right now. Asked
   * before every appliance call the releasing role makes, so an instance that lost the lock (paused, partitioned)
   * cannot act afterwards.
   */
  confirm(): Promise<boolean>;
  /** Why this instance does not lead (for status and logs), e.g. "instance 2f1c… releases". */
  describe(): string;
}

/**
 * A sliding-window budget shared by every instance: at most `max` takes per `windowMs` under one name (a LoadMaster's
 * calls, a config node's new blocks without a decision).
 */
export interface SharedBudget {
  /** Takes one slot now and resolves 0, or takes nothing and resolves how many ms until a slot frees. */
  take(): Promise<number>;
  /**
   * For calls the appliance counts when they arrive (the LoadMaster): a slot that counts while the call runs (at most
   * `maxCallMs`) and for the window after it ended, so a call delayed on its way (a slow TLS handshake) cannot land
   * beside the next window's calls. Resolves the slot, or how many ms until one frees.
   */
  takeForCall?(maxCallMs: number): Promise<CallSlot | number>;
}

/** A slot held by a call in flight: `done()` when the call ended (or failed). */
export interface CallSlot {
  done(): void;
}

export interface SharedBudgets {
  budget(name: string, max: number, windowMs: number): SharedBudget;
}

/** `claimed`: this instance adds the block; `active`: it is on the appliance already; `busy`: another instance is adding it. */
export type AddClaim = 'claimed' | 'active' | 'busy';

/** One appliance add per target across instances. */
export interface AddClaims {
  /** `entryId` is the registry id of the key (entryId(key)). */
  claim(entryId: string): Promise<AddClaim>;
  /** The add is over: failed (another instance may try at once) or done (the claim lapses after a grace period). */
  end(entryId: string, added: boolean): Promise<void>;
}

export type { LiveRecords } from '../durable/journal';

/** Everything durable of one Node-RED runtime, from one place (see lib/store/index.ts for the choice). */
export interface Store {
  readonly kind: 'journal' | 'postgres';
  /** Where, without a password: "journal in <userDir>/flowmon-response" or "postgres://role@host:5432/db". */
  readonly description: string;
  /** This instance's id (random per start; the journal uses "local"). */
  readonly instanceId: string;
  /**
   * The backends, opened by their one owner (the registry, the history, the intake ledger) with its live records, which
   * the journal rewrites when it compacts. Undefined when nothing can be kept (no user directory): memory only.
   */
  openEntries(live: LiveRecords<RegistryEntry>): EntryBackend | undefined;
  openHistory(live: LiveRecords<HistoryRecord>): HistoryBackend | undefined;
  openIntake(live: LiveRecords<IntakeRecord>): IntakeBackend | undefined;
  readonly leadership: Leadership;
  /** Shared budgets and claims; undefined for the journal (one instance: its own limits are the only ones). */
  readonly budgets: SharedBudgets | undefined;
  readonly claims: AddClaims | undefined;
  /** Undefined while the store answers; otherwise why it does not (for node status). */
  readonly unavailable: string | undefined;
  close(): Promise<void>;
}
