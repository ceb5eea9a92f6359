/**
 * `tuneloop vm` without booting anything: the guest's run script survives any argv through the real
 * /bin/sh, qemu option values are escaped, Kconfig results are checked against the fragment, the
 * build lock, and the CLI's answers where no guest is built or the source is missing. Booting the
 * real guest is `npm run test:vm` (test/sched/vm).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { runCommand } from '../../src/core/exec.js';
import { unmetOptions } from '../../src/vm/kernel.js';
import { withBuildLock } from '../../src/vm/lock.js';
import { CONFIG_FRAGMENT } from '../../src/vm/paths.js';
import { staticBusybox } from '../../src/vm/prerequisites.js';
import { qemuArgv } from '../../src/vm/qemu.js';
import { cwdShare, runScript } from '../../src/vm/run.js';
import { CLI } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';

describe('the guest run script', () => {
  it('hands any argv and environment to the command unchanged, through the real /bin/sh', () => {
    const dir = tempDir();
    const argv = ['printf', '[%s]\\n', "it's", 'a "b"', '$HOME', '`id`', 'x\ny', '', '--', '*'];
    const script = runScript(argv, dir, { PATH: process.env.PATH!, HOME: join(dir, 'home'), ODD: "a'b $c" });
    writeFileSync(join(dir, 'run.sh'), script);
    const r = spawnSync('/bin/sh', [join(dir, 'run.sh')], { cwd: '/', encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${argv.slice(2).map((a) => `[${a}]`).join('\n')}\n`);
    const env = runScript(['sh', '-c', 'printf %s "$ODD"'], dir, { PATH: process.env.PATH!, HOME: join(dir, 'home'), ODD: "a'b $c" });
    expect(spawnSync('/bin/sh', ['-c', env], { encoding: 'utf8' }).stdout).toBe("a'b $c");
  });

  it('exits 125 with a reason when the working directory does not exist in the guest', () => {
    const script = runScript(['true'], '/nonexistent/dir', { PATH: process.env.PATH! });
    const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('/nonexistent/dir does not exist in the guest');
  });
});

describe('the working directory in the guest', () => {
  it('is shared read-only when it lies in a tree the guest keeps to itself (a checkout under /tmp)', () => {
    const dir = mkdtempSync('/tmp/tuneloop-test-');
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    expect(cwdShare(dir, [])).toEqual([{ path: dir, writable: false }]);
    expect(cwdShare(join(dir, 'gone'), [])).toEqual([]);
    expect(cwdShare(dir, [{ path: dir }])).toEqual([]);
    expect(cwdShare('/usr/share', [])).toEqual([]); // the root share shows it already
  });
});

describe('qemu command line', () => {
  it('boots microvm without ACPI, exits on reboot, and escapes commas in shared paths', () => {
    const argv = qemuArgv('qemu-system-x86_64', { accel: 'tcg', memoryMb: 512, cpus: 2, kernel: '/k/bzImage', initramfs: '/k/init.cpio', shares: [{ tag: 'tl_share0', path: '/data/a,b', readonly: true }], tscKhz: 2_596_137 });
    expect(argv.slice(1, 5)).toEqual(['-M', 'microvm,acpi=off', '-accel', 'tcg,thread=multi']);
    expect(argv).toContain('-no-reboot');
    expect(argv[argv.indexOf('-append') + 1]).toMatch(/acpi=off reboot=t panic=-1 .* tsc_early_khz=2596137 tsc=reliable$/);
    expect(argv).toContain('local,id=tl_share0,path=/data/a,,b,security_model=none,multidevs=remap,readonly=on');
    expect(argv).toContain('virtio-9p-device,fsdev=tl_share0,mount_tag=tl_share0');
  });
});

describe('the kernel config', () => {
  it('names every fragment option Kconfig did not keep', () => {
    const fragment = 'CONFIG_A=y\n# comment\nCONFIG_B=n\nCONFIG_C=64\nCONFIG_D=y\n';
    const config = 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=32\n';
    expect(unmetOptions(fragment, config)).toEqual(['CONFIG_C=64 (got 32)', 'CONFIG_D=y (got n)']);
  });

  it('asks for what sched_ext, libbpf and the 9p root need', () => {
    const fragment = readFileSync(CONFIG_FRAGMENT, 'utf8');
    for (const option of ['CONFIG_SCHED_CLASS_EXT=y', 'CONFIG_DEBUG_INFO_BTF=y', 'CONFIG_BPF_JIT=y', 'CONFIG_KALLSYMS=y', 'CONFIG_MEMFD_CREATE=y', 'CONFIG_BPF_EVENTS=y', 'CONFIG_9P_FS=y', 'CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y', 'CONFIG_64BIT=y']) {
      expect(fragment).toContain(`\n${option}\n`);
    }
  });
});

describe('host requirements', () => {
  it('tells a static busybox from a dynamic executable', () => {
    const config = loadConfig({}, { PATH: '/usr/bin:/bin' });
    const busybox = staticBusybox(config);
    if (busybox) {
      const ldd = spawnSync('ldd', [busybox], { encoding: 'utf8' });
      expect(ldd.stdout + ldd.stderr).toMatch(/not a dynamic executable|statically linked/);
    }
    // A dynamically linked "busybox" first on PATH is not taken.
    const dir = tempDir();
    symlinkSync(process.execPath, join(dir, 'busybox'));
    expect(staticBusybox(loadConfig({}, { PATH: dir }))).toBeNull();
  });
});

describe('the build lock', () => {
  it('refuses while a live builder holds it, and takes over a dead one\'s', async () => {
    const lock = join(tempDir(), 'build.lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.pid));
    await expect(withBuildLock(lock, async () => 1)).rejects.toThrow(`Another tuneloop vm build (pid ${process.pid})`);
    const dead = await runCommand(['true'], { timeoutMs: 5000 });
    writeFileSync(join(lock, 'pid'), String(dead.pid));
    await expect(withBuildLock(lock, async () => 'built')).resolves.toBe('built');
  });
});

describe('tuneloop vm on the command line', () => {
  const home = tempDir();
  const env = { ...process.env, TUNELOOP_HOME: home, TUNELOOP_VM_CACHE: join(home, 'vm') };

  it('vm run without a built guest says how to build one', async () => {
    const r = await runCommand([process.execPath, CLI, 'vm', 'run', '--timeout', '5', '--', 'true'], { env, timeoutMs: 30_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('No sched_ext guest kernel is built');
    expect(r.stderr).toContain('tuneloop vm build');
  });

  it('vm build without the kernel source names the Debian package, and installs nothing', async () => {
    const r = await runCommand([process.execPath, CLI, 'vm', 'build'], { env: { ...env, TUNELOOP_VM_KERNEL_SOURCE: join(home, 'no-such-source.tar.xz') }, timeoutMs: 30_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('the kernel source');
    expect(r.stderr).toContain('apt-get install linux-source-6.12');
    expect(r.stderr).toContain('TUNELOOP_VM_KERNEL_SOURCE');
  });

  it('vm run and vm build without qemu name qemu-system-x86, and start nothing', async () => {
    // A PATH with every other tool the build needs but no qemu: links to the host's own binaries.
    const bin = join(home, 'bin-without-qemu');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['make', 'gcc', 'flex', 'bison', 'bc', 'perl', 'xz', 'pahole', 'objcopy', 'bpftool', 'busybox', 'cpio']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool} || ls /usr/sbin/${tool}`], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
      if (found) symlinkSync(found, join(bin, tool));
    }
    for (const verb of [['run', '--', 'true'], ['build']]) {
      const r = await runCommand([process.execPath, CLI, 'vm', ...verb], { env: { ...env, PATH: bin }, timeoutMs: 30_000 });
      expect(r.exitCode, verb[0]).toBe(2);
      expect(r.stderr).toContain('qemu-system-x86_64');
      expect(r.stderr).toMatch(/Remedy: Install the Debian packages: apt-get install .*qemu-system-x86/);
      expect(r.stdout).toBe('');
    }
  });

  it('refuses bad options with the usage', async () => {
    for (const args of [['vm', 'run', '--memory', 'lots', '--', 'true'], ['vm', 'frobnicate'], ['vm', 'run', '--env', 'NOEQUALS', 'true']]) {
      const r = await runCommand([process.execPath, CLI, ...args], { env, timeoutMs: 30_000 });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('tuneloop vm run');
      expect(r.stdout).toBe('');
    }
  });
});
