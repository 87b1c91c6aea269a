/**
 * Reproducer for fuzz finding 1 (fuzz/FINDINGS.md): a guest whose trap handler traps again (stvec
 * on an illegal instruction) keeps the emulator backend inside one run slice forever, so the
 * stop() timer below never fires. Run: timeout 15 node --import ./scripts/ts-loader.mjs fuzz/repro/trap-storm.ts
 * Expected once fixed: "interrupted after ~50 ms".
 */
import { createEmulator } from '../../lib/backend/emulator/index.js';
import { regId, REG_PC } from '../../lib/abi/regs.js';
const vm = createEmulator().createVm();
vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x80000000n, size: 64 * 1024 });
const v = vm.createVcpu(0);
// RAM is all zeros: 0x00000000 is an illegal instruction; stvec points at it too.
v.setReg(regId('csr.stvec'), 0x80000000n);
v.setReg(REG_PC, 0x80000000n);
setTimeout(() => { console.log('stop()'); v.stop(); }, 50);
const t0 = Date.now();
const exit = await v.run();
console.log(exit.reason, 'after', Date.now() - t0, 'ms');
vm.close();
