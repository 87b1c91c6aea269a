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

/** One reading for `pid` (or this process), or null when /proc cannot say (not Linux, process
 * gone, no mapping as large as the guest RAM). */
export function sampleMemory(pid: number | 'self', ramBytes: number): MemorySample | null {
  let status: string, smaps: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (rss === null) return null;
  const ramKiB = ramBytes / 1024;
  let best: { size: number; rss: number } | null = null;
  let candidate: { size: number; rss: number } | null = null;
  for (const line of smaps.split('\n')) {
    // A mapping header: "start-end perms offset dev inode [path]"; anonymous ones have inode 0
    // and no path.
    const head = /^[0-9a-f]+-[0-9a-f]+ (\S{4}) \S+ \S+ (\d+)\s*(\S*)$/.exec(line);
    if (head !== null) {
      candidate = head[1].startsWith('rw') && head[1][3] === 'p' && head[2] === '0' && head[3] === '' ? { size: 0, rss: 0 } : null;
      continue;
    }
    if (candidate === null) continue;
    const field = /^(Size|Rss):\s+(\d+) kB/.exec(line);
    if (field === null) continue;
    if (field[1] === 'Size') candidate.size = Number(field[2]);
    else {
      candidate.rss = Number(field[2]);
      if (candidate.size >= ramKiB && (best === null || candidate.size < best.size)) best = candidate;
      candidate = null;
    }
  }
  if (best === null) return null;
  const rssKiB = Number(rss[1]);
  const ramRssKiB = Math.max(0, best.rss - (best.size - ramKiB));
  return { rssKiB, ramRssKiB, ramMappingKiB: best.size, beyondKiB: rssKiB - ramRssKiB };
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
