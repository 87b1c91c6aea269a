// Bad input to Machine (lib/vmm/machine.ts), against the scripted fake backend: each MachineConfig
// field given a wrong type or an out-of-range value is refused by the constructor (TypeError /
// RangeError naming the field and the value) before anything is opened; bad files are refused by
// start() as MachineConfigError naming the input, with no VM left open, the disk untouched and the
// caller's hypervisor still usable. "Loses nothing": the same config with the field corrected runs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KvmStateError } from '../../lib/errors.js';
import { Machine, MachineConfigError, type MachineConfig } from '../../lib/vmm/machine.js';
import { buildBoard, type BoardOptions } from '../../lib/vmm/board.js';
import { FakeHypervisor, srstExit, type ExitScript } from '../e2e/support/fake-backend.js';
import { thrown } from '../support/thrown.js';

const FLAT = new TextEncoder().encode('flat guest bytes');
const MiB = 1 << 20;
const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-bad-machine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Hart 0 shuts down at once; the others wait in HSM STOPPED. */
const shutdown: ExitScript = (vcpu) => (vcpu.id === 0 ? srstExit('shutdown', 0n) : vcpu.blockUntilStopped());

function baseConfig(hv: FakeHypervisor): MachineConfig {
  return { backend: hv, kernel: FLAT, memorySize: 16 * MiB, warn: () => {} };
}

/** A machine with `config` runs to its SRST shutdown on `hv`. */
async function expectRuns(config: MachineConfig, hv: FakeHypervisor): Promise<void> {
  const m = new Machine(config);
  await m.start();
  expect(await m.done).toMatchObject({ kind: 'shutdown', srstReason: 0n });
  expect(hv.vms.every((vm) => vm.closed)).toBe(true);
}


const validExtension = { name: 'mine', eid: 0x0900_0000, handle: () => ({ error: 0, value: 0 }) };

describe('new Machine(config): every field checked before anything is opened', () => {
  it.each([
    ['no config', undefined, TypeError, /the Machine config must be an object, got undefined/],
    ['a string config', 'Image', TypeError, /the Machine config must be an object, got 'Image'/],
  ] as const)('%s', (_what, config, cls, message) => {
    const e = thrown(() => new Machine(config as never));
    expect(e).toBeInstanceOf(cls);
    expect(e.message).toMatch(message);
  });

  // [field, bad value, class, message, a good value for the same field]
  it.each([
    ['memorySize', '16M', TypeError, /memorySize must be a number of bytes, got '16M'/, 16 * MiB],
    ['memorySize', 16n * 1024n * 1024n, TypeError, /memorySize must be a number of bytes, got 16777216n/, 16 * MiB],
    ['memorySize', NaN, RangeError, /memorySize must be a whole number of bytes, got NaN/, 16 * MiB],
    ['memorySize', Infinity, RangeError, /memorySize must be a whole number of bytes, got Infinity/, 16 * MiB],
    ['memorySize', 16 * MiB + 1, RangeError, /memorySize 16777217 is not a multiple of 4 KiB/, 16 * MiB],
    ['memorySize', -4096, RangeError, /memorySize -4096 is less than the minimum/, 16 * MiB],
    ['memorySize', 2 ** 40, RangeError, /memorySize 1099511627776 is more than the maximum/, 16 * MiB],
    ['vcpus', '2', TypeError, /vcpus must be a number, got '2'/, 2],
    ['vcpus', 0, RangeError, /vcpus 0 is not 1\.\.64/, 2],
    ['vcpus', 1.5, RangeError, /vcpus 1\.5 is not 1\.\.64/, 2],
    ['vcpus', 65, RangeError, /vcpus 65 is not 1\.\.64/, 2],
    ['kernel', 'Image', TypeError, /kernel must be a Uint8Array holding the image or an ImageFile naming its file \(new ImageFile\(path\)\), got 'Image'/, FLAT],
    ['kernel', FLAT.buffer, TypeError, /kernel must be a Uint8Array .*got an object \(ArrayBuffer\)/, FLAT],
    ['kernel', undefined, TypeError, /kernel must be a Uint8Array .*got undefined/, FLAT],
    ['kernel', new Uint8Array(0), RangeError, /kernel is empty \(0 bytes\)/, FLAT],
    ['initrd', 'initrd.cpio', TypeError, /initrd must be a Uint8Array holding the ramdisk or an ImageFile naming its file, got 'initrd\.cpio'/, Uint8Array.of(1, 2, 3)],
    ['initrd', null, TypeError, /initrd must be a Uint8Array .*got null/, Uint8Array.of(1, 2, 3)],
    ['initrd', new Uint8Array(0), RangeError, /initrd is empty \(0 bytes\)/, Uint8Array.of(1, 2, 3)],
    ['cmdline', 42, TypeError, /cmdline must be a string, got 42/, 'console=ttyS0'],
    ['cmdline', 'console=ttyS0\0 quiet', RangeError, /cmdline contains a NUL character at offset 13/, 'console=ttyS0 quiet'],
    ['disks', 'disk.img', TypeError, /disks must be an array of \{ path, readonly\? \}, got 'disk\.img'/, []],
    ['disks', ['disk.img'], TypeError, /disks\[0\] must be an object \{ path, readonly\? \}, got 'disk\.img'/, []],
    ['disks', [{ path: 42 }], TypeError, /disks\[0\]\.path must be a string, got 42/, []],
    ['disks', [{ path: '' }], RangeError, /disks\[0\]\.path '' is not a file name/, []],
    ['disks', [{ path: 'a.img', readonly: 'yes' }], TypeError, /disks\[0\]\.readonly must be a boolean, got 'yes'/, []],
    ['disks', Array.from({ length: 8 }, () => ({ path: 'a.img' })), RangeError, /disks: 8 disks and 1 other virtio device need 9 virtio-mmio slots; the memory map has 8/, []],
    ['backend', 'qemu', RangeError, /backend must be one of auto, kvm, emulator or a Hypervisor; got 'qemu'/, undefined],
    ['backend', 42, TypeError, /backend must be one of .* or a Hypervisor \(with createVm\(\)\), got 42/, undefined],
    ['backend', {}, TypeError, /backend must be .*got an object \(Object\)/, undefined],
    ['vmOptions', 'sbiV01', TypeError, /vmOptions must be an object, got 'sbiV01'/, {}],
    ['console', 'vga', RangeError, /console must be 'uart' or 'virtio'; got 'vga'/, 'virtio'],
    ['virtioRng', 'yes', TypeError, /virtioRng must be a boolean, got 'yes'/, false],
    ['consoleOutput', {}, TypeError, /consoleOutput must be an object with a write\(bytes\) method, got an object/, { write: () => {} }],
    ['consoleOutput', process.stdout.fd, TypeError, /consoleOutput must be .*got 1/, { write: () => {} }],
    ['sbiExtensions', validExtension, TypeError, /sbiExtensions must be an array, got an object/, [validExtension]],
    ['sbiExtensions', [{ name: 'mine', eid: 0x0900_0000 }], TypeError, /sbiExtensions\[0\]: mine: handle must be a function/, [validExtension]],
    ['sbiExtensions', [validExtension, { ...validExtension, name: 'other' }], RangeError, /sbiExtensions\[1\]: other: EIDs overlap those of mine/, [validExtension]],
    ['sbiExtensions', [{ ...validExtension, name: 'DBCN', eid: 0x0900_0001 }], RangeError, /sbiExtensions\[0\]: DBCN: an extension of that name is already registered/, [validExtension]],
    ['inKernelSbi', 'PMU', TypeError, /inKernelSbi must be an object such as \{ PMU: false \}, got 'PMU'/, { DBCN: true }],
    ['inKernelSbi', { NOPE: true }, RangeError, /inKernelSbi: unknown extension 'NOPE' \(one of V01, TIME/, { DBCN: true }],
    ['inKernelSbi', { DBCN: 'on' }, TypeError, /inKernelSbi\.DBCN must be true or false, got 'on'/, { DBCN: true }],
    ['reboot', 'exit', TypeError, /reboot must be an object such as \{ policy: 'exit' \}, got 'exit'/, { policy: 'exit' }],
    ['reboot', { policy: 'again' }, RangeError, /reboot\.policy must be 'restart' or 'exit'; got 'again'/, { policy: 'exit' }],
    ['reboot', { maxReboots: '3' }, TypeError, /reboot\.maxReboots must be a number, got '3'/, { maxReboots: 3 }],
    ['reboot', { maxReboots: -1 }, RangeError, /reboot\.maxReboots -1 is not a non-negative integer/, { maxReboots: 3 }],
    ['timeoutMs', '10s', TypeError, /timeoutMs must be a number of milliseconds, got '10s'/, 60_000],
    ['timeoutMs', 0, RangeError, /timeoutMs 0 is not positive/, 60_000],
    ['timeoutMs', NaN, RangeError, /timeoutMs NaN is not positive/, 60_000],
    // setTimeout would fire these after 1 ms: the run would "time out" at once.
    ['timeoutMs', Infinity, RangeError, /timeoutMs Infinity is more than 2147483647/, 60_000],
    ['timeoutMs', 2 ** 31, RangeError, /timeoutMs 2147483648 is more than 2147483647 \(about 24\.8 days\)/, 60_000],
    ['entropy', 'random', TypeError, /entropy must be a function \(buffer\) => void, got 'random'/, (b: Uint8Array) => { b.fill(7); }],
    ['warn', console, TypeError, /warn must be a function \(message\) => void, got an object/, () => {}],
  ] as const)('%s = %o', async (field, bad, cls, message, good) => {
    const hv = new FakeHypervisor(shutdown);
    const e = thrown(() => new Machine({ ...baseConfig(hv), [field]: bad }));
    expect(e, e.message).toBeInstanceOf(cls);
    expect(e.constructor).toBe(cls);
    expect(e.message).toMatch(message);
    expect(hv.vms).toHaveLength(0);
    // The disk entries of the "good" cases are empty lists: a real file is covered below.
    await expectRuns({ ...baseConfig(hv), [field]: good === undefined ? hv : good }, hv);
  });
});

describe('Machine.start(): bad files are MachineConfigError, and nothing is lost', () => {
  const elf = (machine: number, type = 2): Uint8Array => {
    const b = new Uint8Array(64);
    b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    new DataView(b.buffer).setUint16(16, type, true);
    new DataView(b.buffer).setUint16(18, machine, true);
    return b;
  };
  const linuxImage = (textOffset: bigint): Uint8Array => {
    const b = new Uint8Array(4096);
    const v = new DataView(b.buffer);
    v.setBigUint64(8, textOffset, true);
    v.setBigUint64(16, 4096n, true);
    v.setUint32(56, 0x05435352, true); // "RSC\x05" (boot-image-header.rst)
    return b;
  };

  it.each([
    ['an x86-64 ELF', () => ({ kernel: elf(62) }), /^kernel: not a RISC-V executable: e_machine is 62 \(x86-64\), expected 243 \(EM_RISCV\)$/],
    ['a relocatable ELF', () => ({ kernel: elf(243, 1) }), /^kernel: e_type is 1 \(ET_REL \(an object file, not linked\)\)/],
    ['a truncated ELF', () => ({ kernel: Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0) }), /^kernel: truncated ELF: 8 bytes, the ELF64 header alone is 64$/],
    ['an M-mode Linux Image', () => ({ kernel: linuxImage(0n) }), /^kernel: Linux Image text_offset 0x0 is not a non-zero multiple of 2 MiB/],
    ['a flat kernel larger than RAM', () => ({ kernel: new Uint8Array(15 * MiB) }), /^kernel: flat binary of 15728640 bytes at \[0x80200000, 0x81100000\) is outside RAM \[0x80000000, 0x81000000\)$/],
    ['an initrd larger than RAM', () => ({ initrd: new Uint8Array(17 * MiB) }), /^initrd: 17825792 bytes do not fit in 16777216 bytes of RAM$/],
    ['an initrd with no room left', () => ({ initrd: new Uint8Array(15 * MiB) }), /^initrd: no room for the 15728640-byte initrd/],
    ['a missing disk', () => ({ disks: [{ path: join(dir, 'missing.img') }] }), /^disk .*missing\.img: no such file$/],
    ['a directory as a disk', () => ({ disks: [{ path: dir }] }), /^disk .*: is a directory$/],
    ['a disk of 1000 bytes', () => ({ disks: [{ path: join(dir, 'odd.img') }] }), /^disk .*odd\.img: size 1000 is not a multiple of 512 bytes$/],
    ['more harts than the backend has', () => ({ vcpus: 9 }), /^vcpus: 9 is more than this backend's 8$/],
    ['an in-kernel SBI extension the host lacks', () => ({ inKernelSbi: { STA: true } }), /^cannot enable in-kernel SBI extension STA on vCPU 0: KVM_GET_ONE_REG|^cannot enable in-kernel SBI extension STA on vCPU 0: .*No such file or directory/],
    ['a command line too long for the device tree', () => ({ cmdline: 'x'.repeat(70_000) }), /^cmdline: with this 70000-byte command line the device tree is \d+ bytes, more than its 65536-byte slot$/],
  ] as const)('%s', async (_what, extra, message) => {
    writeFileSync(join(dir, 'odd.img'), Buffer.alloc(1000));
    const keep = join(dir, 'keep.img');
    writeFileSync(keep, Buffer.alloc(4096, 0x5a));
    const mtime = statSync(keep).mtimeMs;
    const hv = new FakeHypervisor(shutdown);
    const config = { ...baseConfig(hv), ...extra() } as MachineConfig;
    config.disks = [{ path: keep }, ...(config.disks ?? [])];
    const m = new Machine(config);
    const e = await m.start().then(() => undefined, (err: unknown) => err as Error);
    expect(e).toBeInstanceOf(MachineConfigError);
    expect(e!.message).toMatch(message);
    const end = await m.done;
    expect(end).toMatchObject({ kind: 'error', reason: e!.message });
    // No VM is left open, the good disk was not written, and the caller's hypervisor still works.
    expect(hv.vms.every((vm) => vm.closed)).toBe(true);
    expect(statSync(keep).mtimeMs).toBe(mtime);
    expect(readFileSync(keep).every((b) => b === 0x5a)).toBe(true);
    await expectRuns({ ...baseConfig(hv), disks: [{ path: keep }] }, hv);
  });

  // sysfs refuses a read-write open even to root, so this stands for a disk without permission.
  it.skipIf(!existsSync('/sys/kernel/notes'))('a disk that may not be opened read-write: "permission denied"', async () => {
    const hv = new FakeHypervisor(shutdown);
    const m = new Machine({ ...baseConfig(hv), disks: [{ path: '/sys/kernel/notes' }] });
    const e = await m.start().then(() => undefined, (err: unknown) => err as Error);
    expect(e).toBeInstanceOf(MachineConfigError);
    expect(e!.message).toBe('disk /sys/kernel/notes: permission denied');
    expect(hv.vms).toHaveLength(0);
  });

  it.each([true, false])('a FIFO as a disk (readonly %s) is refused at once, not waited on for a writer', async (readonly) => {
    const fifo = join(dir, `fifo-${readonly}`);
    execFileSync('mkfifo', [fifo]);
    const hv = new FakeHypervisor(shutdown);
    const m = new Machine({ ...baseConfig(hv), disks: [{ path: fifo, readonly }] });
    const e = await m.start().then(() => undefined, (err: unknown) => err as Error);
    expect(e).toBeInstanceOf(MachineConfigError);
    expect(e!.message).toBe(`disk ${fifo}: not a regular file`);
    expect((await m.done).kind).toBe('error');
  });

  it('start() twice: KvmStateError ERR_KVM_BAD_STATE; the first run is unaffected', async () => {
    const hv = new FakeHypervisor(shutdown);
    const m = new Machine(baseConfig(hv));
    await m.start();
    await expect(m.start()).rejects.toMatchObject({ name: 'KvmStateError', code: 'ERR_KVM_BAD_STATE', message: /start\(\) called twice/ });
    await expect(m.start()).rejects.toBeInstanceOf(KvmStateError);
    expect(await m.done).toMatchObject({ kind: 'shutdown' });
  });

  it('sendInput of a number: TypeError naming it; the machine keeps running', async () => {
    const hv = new FakeHypervisor(shutdown);
    const m = new Machine(baseConfig(hv));
    for (const bad of [42, null, [104, 105]]) {
      const e = thrown(() => m.sendInput(bad as never));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(/sendInput: input must be a string or a Uint8Array, got (42|null|an array)/);
    }
    m.sendInput('ok');
    await m.start();
    expect(await m.done).toMatchObject({ kind: 'shutdown' });
  });

  it("an unavailable backend choice fails start() with the backend's error; done says so", async () => {
    const m = new Machine({ kernel: FLAT, memorySize: 16 * MiB, backend: 'kvm', warn: () => {} });
    const e = await m.start().then(() => undefined, (err: unknown) => err as Error);
    if (process.platform === 'linux' && process.arch === 'riscv64') return; // may well be available
    expect(e?.name).toBe('KvmUnavailableError');
    expect((await m.done).kind).toBe('error');
  });
});

describe('buildBoard options', () => {
  const hv = new FakeHypervisor(shutdown);
  const vm = hv.createVm();
  const memory = vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x8000_0000, size: 16 * MiB });
  const good = (): BoardOptions => ({ vcpus: [vm.createVcpu(vm.vcpus.length)], memory, consoleSink: () => {} });
  it.each([
    ['no vCPUs', { vcpus: [] }, RangeError, /vcpus must be a non-empty array of vCPUs/],
    ['no memory', { memory: undefined }, TypeError, /memory must be the guest RAM \(a GuestMemory\), got undefined/],
    ['no console sink', { consoleSink: 'stdout' }, TypeError, /consoleSink must be a function, got string/],
    ['an rng source that is a buffer', { rngSource: new Uint8Array(4) }, TypeError, /rngSource must be a function, got object/],
    ['a disk without an fd', { disks: [{ size: 512, readonly: true }] }, RangeError, /disks\[0\]\.fd must be an open file descriptor, got undefined/],
    ['a disk of 1000 bytes', { disks: [{ fd: 0, size: 1000, readonly: true }] }, RangeError, /disks\[0\]\.size must be a whole number of 512-byte sectors, got 1000/],
  ] as const)('%s', (_what, over, cls, message) => {
    const e = thrown(() => buildBoard({ ...good(), ...over } as BoardOptions));
    expect(e).toBeInstanceOf(cls);
    expect(e.message).toMatch(message);
    expect(buildBoard(good()).bus).toBeDefined();
  });
});
