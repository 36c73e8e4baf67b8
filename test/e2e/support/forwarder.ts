// Runs forwarder/flowmon-forward.sh as ADS would: the batch on standard input, parameters as NAME VALUE pairs.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../demo/paths';
import { freshDir } from './node-red';

export const FORWARDER = join(repoRoot, 'forwarder', 'flowmon-forward.sh');

export interface Forwarder {
  /** Sends one batch; resolves with the script's exit status. */
  send(batch: string): Promise<number>;
  /** The script's log so far. */
  log(): string;
  dir: string;
}

export function forwarderFor(url: string, secret: string): Forwarder {
  const dir = freshDir('forwarder');
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const spool = join(dir, 'spool');
  mkdirSync(spool);
  const logFile = join(dir, 'forward.log');
  const args = ['url', url, 'secret-file', secretFile, 'spool-dir', spool, 'log-file', logFile, 'retries', '0', 'timeout', '10'];
  return {
    dir,
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    send: (batch) =>
      new Promise((resolve, reject) => {
        const child = spawn('bash', [FORWARDER, ...args], { stdio: ['pipe', 'ignore', 'inherit'] });
        child.once('error', reject);
        child.once('exit', (code) => resolve(code ?? -1));
        child.stdin.end(batch);
      }),
  };
}
