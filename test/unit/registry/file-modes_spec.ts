import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeIntakes, getIntake, INTAKE_FILE, intakeFile } from '../../../lib/intake';
import { closeRegistries, getRegistry, REGISTRY_FILE, registryFile } from '../../../lib/registry';
import { MitigationRegistry } from '../../../lib/registry/registry';

const posix = process.platform !== 'win32';
const modeOf = (p: string) => fs.statSync(p).mode & 0o777;
const key = (target: string) => ({ configId: 'lm', scope: 'global:block', target });
const hooks = { add: () => undefined, remove: () => undefined };

describe('files the package writes: 0600 in a 0700 folder', function () {
  let userDir: string;
  const warnings: string[] = [];
  const red = () => ({ settings: { userDir }, hooks, log: { warn: (m: unknown) => warnings.push(String(m)) } });

  before(function () {
    if (!posix) this.skip();
  });
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-modes-'));
    fs.chmodSync(userDir, 0o755); // like a usual ~/.node-red
    warnings.length = 0;
  });
  afterEach(async () => {
    await closeRegistries();
    await closeIntakes();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('creates the registry and intake journals 0600 in the package folder, created 0700', async () => {
    await getRegistry(red()).arm({ key: key('10.0.0.1/32'), kind: 'loadmaster', ttlSeconds: 60 });
    await getIntake(red())!.ledger.record('p', []);
    const folder = path.dirname(registryFile(userDir));
    assert.equal(path.dirname(intakeFile(userDir)), folder);
    assert.equal(modeOf(folder).toString(8), '700');
    assert.equal(modeOf(registryFile(userDir)).toString(8), '600');
    assert.equal(modeOf(intakeFile(userDir)).toString(8), '600');
    assert.equal(modeOf(userDir).toString(8), '755', "Node-RED's user directory is not the package's to change");
    assert.deepEqual(warnings, []);
  });

  it('tightens its own folder and files when they were opened up, and warns', async () => {
    const folder = path.dirname(registryFile(userDir));
    fs.mkdirSync(folder, { mode: 0o700 });
    fs.chmodSync(folder, 0o775);
    fs.writeFileSync(registryFile(userDir), '', { mode: 0o644 });
    fs.chmodSync(registryFile(userDir), 0o644);
    fs.writeFileSync(intakeFile(userDir), '');
    fs.chmodSync(intakeFile(userDir), 0o666);
    getRegistry(red());
    getIntake(red());
    assert.equal(modeOf(folder).toString(8), '700');
    assert.equal(modeOf(registryFile(userDir)).toString(8), '600');
    assert.equal(modeOf(intakeFile(userDir)).toString(8), '600');
    assert.match(warnings.join('\n'), /mode 0775\): tightened to 0700/);
    assert.match(warnings.join('\n'), /flowmon-response-registry\.jsonl was readable by other users \(mode 0644\): tightened to 0600/);
    assert.match(warnings.join('\n'), /flowmon-response-intake\.jsonl was readable by other users \(mode 0666\)/);
  });

  it('moves journals an earlier version kept in the user directory into the folder, private', async () => {
    const old = new MitigationRegistry({ file: path.join(userDir, REGISTRY_FILE) });
    await old.arm({ key: key('10.0.0.2/32'), kind: 'loadmaster', ttlSeconds: 3600 });
    await old.close();
    fs.chmodSync(path.join(userDir, REGISTRY_FILE), 0o644);
    fs.writeFileSync(path.join(userDir, INTAKE_FILE), '', { mode: 0o644 });
    const reg = getRegistry(red());
    getIntake(red());
    assert.ok(reg.getByKey(key('10.0.0.2/32')), 'the entry came along');
    assert.equal(fs.existsSync(path.join(userDir, REGISTRY_FILE)), false);
    assert.equal(fs.existsSync(path.join(userDir, INTAKE_FILE)), false);
    assert.equal(modeOf(registryFile(userDir)).toString(8), '600');
    assert.equal(modeOf(intakeFile(userDir)).toString(8), '600');
    assert.match(warnings.join('\n'), /moved .*flowmon-response-registry\.jsonl to /);
  });

  it('keeps 0600 through compaction and a rewrite after a torn record', async () => {
    const file = path.join(userDir, 'own', 'registry.jsonl');
    const reg = new MitigationRegistry({ file, log: { warn: (m) => warnings.push(m) } });
    assert.equal(modeOf(path.dirname(file)).toString(8), '700', 'a missing folder is created 0700');
    fs.writeFileSync(`${file}.tmp`, 'left by a crash', { mode: 0o644 });
    fs.chmodSync(`${file}.tmp`, 0o644);
    for (let i = 0; i < 4100; i++) await reg.arm({ key: key('10.0.0.3/32'), kind: 'loadmaster', ttlSeconds: 60 + i });
    assert.ok(reg.journalLines < 4100, 'compacted');
    assert.equal(modeOf(file).toString(8), '600');
    await reg.close();
    fs.appendFileSync(file, '{"p":{"id":');
    fs.writeFileSync(`${file}.tmp`, 'left by a crash', { mode: 0o666 });
    fs.chmodSync(`${file}.tmp`, 0o666);
    const again = new MitigationRegistry({ file, log: { warn: (m) => warnings.push(m) } });
    assert.match(warnings.join('\n'), /torn last record/);
    assert.equal(modeOf(file).toString(8), '600');
    await again.close();
  });

  it('leaves a folder it does not own as it is, warning when others may write to it', () => {
    const shared = path.join(userDir, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o777);
    const reg = new MitigationRegistry({ file: path.join(shared, 'r.jsonl'), log: { warn: (m) => warnings.push(m) } });
    assert.equal(modeOf(shared).toString(8), '777');
    assert.equal(modeOf(path.join(shared, 'r.jsonl')).toString(8), '600');
    assert.match(warnings.join('\n'), /writable by other users \(mode 0777\)/);
    return reg.close();
  });
});
