import fs from 'node:fs';
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
// Usage: npm ci 2>&1 | node infra/fix-lockfile.mjs   (reads npm's 'Missing: X@ from lock file' lines)
const missing = fs.readFileSync(process.argv[2] ?? 0, 'utf8').split('\n').filter(l => l.includes('Missing:')).map(l => l.replace(/.*Missing: /, '').replace(/@ from lock file.*/, ''));
const osOf = n => n.includes('darwin') ? 'darwin' : n.includes('win32') ? 'win32' : n.includes('linux') ? 'linux' : n.includes('freebsd') ? 'freebsd' : null;
const cpuOf = n => n.includes('arm64') ? 'arm64' : n.includes('x64') ? 'x64' : n.includes('ia32') ? 'ia32' : n.includes('ppc64') ? 'ppc64' : n.includes('s390x') ? 's390x' : n.includes('-arm-') ? 'arm' : null;
for (const name of missing) {
  let version;
  for (const e of Object.values(lock.packages)) {
    const v = e.optionalDependencies?.[name];
    if (v) { version = v; break; }
  }
  const entry = { version, optional: true };
  const os = osOf(name), cpu = cpuOf(name);
  if (os) entry.os = [os];
  if (cpu) entry.cpu = [cpu];
  if (name.includes('musl')) entry.libc = ['musl'];
  else if (name.includes('gnu')) entry.libc = ['glibc'];
  lock.packages['node_modules/' + name] = entry;
  console.log(name, JSON.stringify(entry));
}
const sorted = {};
for (const k of Object.keys(lock.packages).sort()) sorted[k] = lock.packages[k];
lock.packages = sorted;
fs.writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
