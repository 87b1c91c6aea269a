// Host memory a VMM process uses beyond its guest RAM, read from Linux's /proc (proc(5)), for
// bench:p2 and bench:p3 (issue 5: "host memory beyond guest RAM for a 1-vCPU guest").
//
// Definition: the process's resident set (VmRSS of /proc/<pid>/status) minus the resident part of
// its guest RAM. The guest RAM lives in the smallest private writable anonymous mapping in
// /proc/<pid>/smaps at least as large as the RAM (the emulator's ArrayBuffer, QEMU's RAM block).
// Linux merges adjacent anonymous mappings with equal flags, so that mapping may be larger than
// the RAM (in the emulator it usually holds the kernel image buffer too, read just before); its
// surplus over the RAM size is then counted as resident non-RAM memory, so the RAM's share is
// Rss - (Size - RAM size), at least 0. That never understates the memory beyond RAM: the figure
// is exact when the neighbour is fully resident, an over-estimate otherwise. What remains is
// everything else the VMM needs: the node or QEMU binary and its libraries as far as they are
// resident, heaps, compiled code, decode caches, TLBs, device buffers, the kernel image and
// initrd as read from disk. Peaks are the largest difference over samples taken while the guest
// runs (VmHWM alone would mix in the RAM, which only grows).
import { readFileSync } from 'node:fs';

export interface MemorySample {
  /** VmRSS, KiB. */
  rssKiB: number;
  /** Resident KiB counted as guest RAM (see the definition above). */
  ramRssKiB: number;
  /** Size of the mapping taken for guest RAM, KiB (to show which one it was). */
  ramMappingKiB: number;
  /** rssKiB - ramRssKiB. */
  beyondKiB: number;
}

/** One mapping of /proc/<pid>/smaps: its header's permissions, inode and path, and its sizes. */
interface Mapping { perms: string; inode: string; path: string; sizeKiB: number; rssKiB: number }

/** Every mapping of `pid`, or null when /proc cannot say (not Linux, process gone). */
function readMappings(pid: number | 'self'): Mapping[] | null {
  let smaps: string;
  try {
    smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  const maps: Mapping[] = [];
  for (const line of smaps.split('\n')) {
    // A mapping header: "start-end perms offset dev inode [path]"; anonymous ones have inode 0
    // and no path.
    const head = /^[0-9a-f]+-[0-9a-f]+ (\S{4}) \S+ \S+ (\d+)\s*(\S*)$/.exec(line);
    if (head !== null) {
      maps.push({ perms: head[1]!, inode: head[2]!, path: head[3]!, sizeKiB: 0, rssKiB: 0 });
      continue;
    }
    const field = /^(Size|Rss):\s+(\d+) kB/.exec(line);
    const m = maps[maps.length - 1];
    if (field === null || m === undefined) continue;
    if (field[1] === 'Size') m.sizeKiB = Number(field[2]);
    else m.rssKiB = Number(field[2]);
  }
  return maps;
}

/** The mapping taken for guest RAM (see the definition above) and the resident KiB it holds of
 * the RAM; null when no mapping is as large as the RAM. */
function ramMapping(maps: readonly Mapping[], ramKiB: number): { map: Mapping; ramRssKiB: number } | null {
  let best: Mapping | null = null;
  for (const m of maps) {
    const privateAnonRw = m.perms.startsWith('rw') && m.perms[3] === 'p' && m.inode === '0' && m.path === '';
    if (privateAnonRw && m.sizeKiB >= ramKiB && (best === null || m.sizeKiB < best.sizeKiB)) best = m;
  }
  return best === null ? null : { map: best, ramRssKiB: Math.max(0, best.rssKiB - (best.sizeKiB - ramKiB)) };
}

/** One reading for `pid` (or this process), or null when /proc cannot say (not Linux, process
 * gone, no mapping as large as the guest RAM). */
export function sampleMemory(pid: number | 'self', ramBytes: number): MemorySample | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  const maps = readMappings(pid);
  if (rss === null || maps === null) return null;
  const ram = ramMapping(maps, ramBytes / 1024);
  if (ram === null) return null;
  const rssKiB = Number(rss[1]);
  return { rssKiB, ramRssKiB: ram.ramRssKiB, ramMappingKiB: ram.map.sizeKiB, beyondKiB: rssKiB - ram.ramRssKiB };
}

/** Resident memory beyond guest RAM by kind of mapping, KiB (bench/p3-memory-timeline.ts). */
export interface MemoryByKind {
  /** glibc's main malloc arena ([heap]): typed arrays such as the decode caches, V8's malloc. */
  heap: number;
  /** Other anonymous memory: V8's heap, compiler-thread malloc arenas, stacks. */
  anon: number;
  /** Anonymous executable memory: V8's JIT and WebAssembly code. */
  code: number;
  /** File mappings: the node binary and shared libraries as far as they are resident. */
  file: number;
  /** heap + anon + code + file. */
  beyond: number;
}

/** The same memory as sampleMemory's beyondKiB (summed over smaps), split by kind; null as there. */
export function memoryByKind(pid: number | 'self', ramBytes: number): MemoryByKind | null {
  const maps = readMappings(pid);
  const ram = maps === null ? null : ramMapping(maps, ramBytes / 1024);
  if (maps === null || ram === null) return null;
  const out: MemoryByKind = { heap: 0, anon: 0, code: 0, file: 0, beyond: 0 };
  for (const m of maps) {
    const kiB = m === ram.map ? m.rssKiB - ram.ramRssKiB : m.rssKiB;
    const kind = m.path === '[heap]' ? 'heap' : m.path !== '' && !m.path.startsWith('[') ? 'file' : m.perms[2] === 'x' ? 'code' : 'anon';
    out[kind] += kiB;
    out.beyond += kiB;
  }
  return out;
}

/** Samples a process every `intervalMs` and keeps the sample with the most memory beyond RAM. */
export class PeakMemory {
  peak: MemorySample | null = null;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly pid: number | 'self', private readonly ramBytes: number, intervalMs = 250) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Take one sample now (also call it at the moment of interest, e.g. the marker). */
  sample(): void {
    const s = sampleMemory(this.pid, this.ramBytes);
    if (s !== null && (this.peak === null || s.beyondKiB > this.peak.beyondKiB)) this.peak = s;
  }

  stop(): MemorySample | null {
    clearInterval(this.timer);
    return this.peak;
  }
}

/** KiB to MiB, one decimal. */
export const mib = (kib: number): number => +(kib / 1024).toFixed(1);
