/**
 * The files the package writes (the registry and intake journals) hold addresses, user names and event details:
 * they are readable by the Node-RED user only (0600), in a folder of the package's own (0700) inside Node-RED's user
 * directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;
/** The package's folder in Node-RED's user directory. */
export const DATA_DIR = 'flowmon-response';

export interface PrivateLog {
  warn(msg: string): void;
}

/** The sticky bit: in such a folder (e.g. /tmp) others cannot replace a file they do not own. */
const STICKY = 0o1000;
const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/** The package's folder in a user directory. */
export function dataDir(userDir: string): string {
  return path.join(path.resolve(userDir), DATA_DIR);
}

/**
 * Creates `dir` (and missing parents) with mode 0700. A folder the package owns that already exists with wider
 * permissions is tightened to 0700, with a warning; a folder it does not own is left as it is, with a warning when
 * other users may write to it (they could replace the files in it).
 */
export function ensurePrivateDir(dir: string, owned: boolean, log: PrivateLog): void {
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const mode = fs.statSync(dir).mode;
  if (process.platform === 'win32' || (mode & 0o077) === 0) return;
  if (owned) {
    fs.chmodSync(dir, DIR_MODE);
    log.warn(`${dir} was open to other users (mode ${octal(mode)}): tightened to ${octal(DIR_MODE)}`);
  } else if ((mode & 0o022) !== 0 && (mode & STICKY) === 0) {
    log.warn(`${dir} is writable by other users (mode ${octal(mode)}): they could replace the package's files in it`);
  }
}

/**
 * Opens a file the package owns, creating it with mode 0600; an existing file with wider permissions is tightened
 * to 0600 (with a warning, unless `quiet`: a temporary file about to replace the real one).
 */
export function openPrivate(file: string, flags: 'a' | 'w', log: PrivateLog, quiet = false): number {
  const fd = fs.openSync(file, flags, FILE_MODE);
  try {
    const mode = fs.fstatSync(fd).mode;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      fs.fchmodSync(fd, FILE_MODE);
      if (!quiet) log.warn(`${file} was readable by other users (mode ${octal(mode)}): tightened to ${octal(FILE_MODE)}`);
    }
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * The path of one of the package's files in a user directory: the package's folder is made private (0700) and a file
 * an earlier version kept directly in the user directory is moved into it.
 */
export function dataFile(userDir: string, name: string, log: PrivateLog): string {
  const file = path.join(dataDir(userDir), name);
  ensurePrivateDir(path.dirname(file), true, log);
  moveFromEarlierPlace(path.join(path.resolve(userDir), name), file, log);
  return file;
}

/**
 * Moves a file from where an earlier version kept it (directly in the user directory) into the package's folder,
 * once: nothing happens when it is not there, or when the new file already exists (then the old one is reported).
 */
export function moveFromEarlierPlace(from: string, to: string, log: PrivateLog): void {
  if (!fs.existsSync(from)) return;
  if (fs.existsSync(to)) {
    log.warn(`${from} is left from an earlier version and ignored: ${to} is used`);
    return;
  }
  fs.renameSync(from, to);
  log.warn(`moved ${from} to ${to}`);
}
