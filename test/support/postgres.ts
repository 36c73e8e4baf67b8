/**
 * A private PostgreSQL cluster for tests and benchmarks: initdb into a fresh temporary directory, listening only on
 * 127.0.0.1 on a free port, password (scram-sha-256) authentication for the role `flowmon`. Stop, start and kill
 * simulate a restart and a crash of the server; whatever a test run leaves running is killed when the process exits.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

export interface PgServer {
  readonly port: number;
  /** The database `flowmon` as the role `flowmon` on 127.0.0.1. */
  readonly url: string;
  /** The server's own log (for a test that fails). */
  readonly logFile: string;
  /** Creates a database owned by `flowmon` and resolves its URL. */
  createDatabase(name: string): Promise<string>;
  /** A clean (fast) shutdown; the data stays. */
  stop(): Promise<void>;
  /** Starts again on the same port and data. */
  start(): Promise<void>;
  /** SIGKILL of the postmaster and its backends (a crash); the data stays. */
  kill(): Promise<void>;
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>;
}

const ROLE = 'flowmon';
const POSTGRES_ROOT = '/usr/lib/postgresql';
const READY_TIMEOUT_MS = 30_000;
const running = new Set<PrivatePostgres>();

export async function startPostgres(options: { fsync?: boolean } = {}): Promise<PgServer> {
  const server = new PrivatePostgres(postgresBinaries(), options.fsync ?? true, await freePort());
  server.init();
  await server.start();
  try {
    await server.createDatabase(ROLE);
  } catch (err) {
    await server.destroy();
    throw err;
  }
  return server;
}

function postgresBinaries(): string {
  const versions = fs.existsSync(POSTGRES_ROOT)
    ? fs.readdirSync(POSTGRES_ROOT).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    : [];
  const bin = versions.map((v) => path.join(POSTGRES_ROOT, v, 'bin')).find((dir) => fs.existsSync(path.join(dir, 'initdb')));
  if (!bin) {
    throw new Error(`PostgreSQL server binaries not found under ${POSTGRES_ROOT}/<version>/bin: install the Debian package "postgresql"`);
  }
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

/** Runs a server binary as `postgres` when we are root (PostgreSQL refuses to run as root). */
function command(binary: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
}

class PrivatePostgres implements PgServer {
  readonly url: string;
  readonly logFile: string;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-pg-'));
  private readonly dataDir = path.join(this.dir, 'data');
  private readonly password = randomBytes(18).toString('hex');
  private postmasterPid: number | undefined;

  constructor(
    private readonly bin: string,
    private readonly fsync: boolean,
    readonly port: number,
  ) {
    this.logFile = path.join(this.dir, 'postgres.log');
    this.url = this.urlOf(ROLE);
  }

  init(): void {
    const pwfile = path.join(this.dir, 'pwfile');
    fs.writeFileSync(pwfile, `${this.password}\n`, { mode: 0o600 });
    if (asRoot) execFileSync('chown', ['-R', 'postgres:', this.dir]);
    const [file, args] = command(path.join(this.bin, 'initdb'), [
      '-D', this.dataDir, '-U', ROLE, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync',
    ]);
    const result = spawnSync(file, args, { encoding: 'utf8' });
    fs.rmSync(pwfile, { force: true });
    if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr || result.error?.message}`);
  }

  async createDatabase(name: string): Promise<string> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
    const client = new Client({ connectionString: this.urlOf('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name} OWNER ${ROLE}`);
    } finally {
      await client.end();
    }
    return this.urlOf(name);
  }

  async start(): Promise<void> {
    if (this.postmasterPid !== undefined) return;
    const log = fs.openSync(this.logFile, 'a');
    const [file, args] = command(path.join(this.bin, 'postgres'), [
      '-D', this.dataDir, '-p', String(this.port), '-k', this.dir,
      '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200',
      '-c', `fsync=${this.fsync ? 'on' : 'off'}`, '-c', `full_page_writes=${this.fsync ? 'on' : 'off'}`,
    ]);
    const child = spawn(file, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    child.unref();
    let exited = false;
    child.once('exit', () => (exited = true));
    running.add(this);
    try {
      await this.waitUntilReady(() => exited);
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.signal('SIGINT');
  }

  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous, for the exit hooks. */
  killNow(removeData = false): void {
    for (const pid of this.processes()) signalQuietly(pid, 'SIGKILL');
    this.postmasterPid = undefined;
    running.delete(this);
    if (removeData) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private urlOf(database: string): string {
    return `postgres://${ROLE}:${this.password}@127.0.0.1:${this.port}/${database}`;
  }

  private async waitUntilReady(exited: () => boolean): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exited()) throw new Error(`PostgreSQL did not start: ${this.logTail()}`);
      const client = new Client({ connectionString: this.urlOf('postgres'), connectionTimeoutMillis: 1_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.end();
        this.postmasterPid = this.readPostmasterPid();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections in time: ${this.logTail()}`);
      await delay(100);
    }
  }

  /** Signals the postmaster (SIGKILL: its backends too, as a crash would) and waits until they are gone. */
  private async signal(sig: NodeJS.Signals): Promise<void> {
    const targets = sig === 'SIGKILL' ? this.processes() : [this.postmasterPid ?? this.readPostmasterPid()];
    for (const pid of targets) if (pid !== undefined) signalQuietly(pid, sig);
    const all = this.processes();
    while (all.some(alive)) await delay(20);
    this.postmasterPid = undefined;
    running.delete(this);
  }

  /** The postmaster and its children. */
  private processes(): number[] {
    const postmaster = this.postmasterPid ?? this.readPostmasterPid();
    if (postmaster === undefined || !alive(postmaster)) return [];
    return [postmaster, ...childrenOf(postmaster)];
  }

  private readPostmasterPid(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  private logTail(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

function childrenOf(parent: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name) && procStat(Number(name))?.[1] === String(parent))
    .map(Number);
}

/** Running, not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  const state = procStat(pid)?.[0];
  return state !== undefined && state !== 'Z';
}

/** The fields of /proc/<pid>/stat after the command name: state, ppid, ...; undefined once the process is gone. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function signalQuietly(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

process.on('exit', () => {
  for (const server of [...running]) server.killNow(true);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const server of [...running]) server.killNow();
    process.kill(process.pid, sig);
  });
}
