/**
 * A small reader of executable headers (ELF, PE, Mach-O): named sections and
 * the mapping from virtual addresses to file offsets. The Go and Rust
 * cataloguers need no more than that: a section's bytes (`.go.buildinfo`,
 * `.dep-v0`) and, for Go's pre-1.18 build info, data behind a pointer.
 *
 * Every offset is bounds-checked: the input is an untrusted file from an
 * image, and a malformed header must yield `undefined`, never a throw or a
 * read past the buffer.
 */

export type ExecutableFormat = "elf" | "pe" | "macho";

export interface Section {
  name: string;
  /** Mach-O only: the segment the section belongs to (`__DATA`). */
  segment?: string;
  addr: number;
  offset: number;
  size: number;
  /** False for sections with no bytes in the file (ELF NOBITS, Mach-O zerofill). */
  inFile: boolean;
}

/** A stretch of the file mapped at `vaddr` when the program is loaded. */
export interface Segment {
  vaddr: number;
  offset: number;
  filesz: number;
  writable: boolean;
  executable: boolean;
}

export interface Executable {
  format: ExecutableFormat;
  bits: 32 | 64;
  littleEndian: boolean;
  /** The machine as GOARCH names it, when known (for binaries that do not say). */
  arch?: string;
  sections: Section[];
  segments: Segment[];
  bytes: Buffer;
}

const MAX_SECTIONS = 65_536;
const MAX_LOAD_COMMANDS = 65_536;

const ELF_MACHINES: Record<number, string> = {
  3: "386",
  8: "mips",
  20: "ppc",
  21: "ppc64",
  22: "s390x",
  40: "arm",
  62: "amd64",
  183: "arm64",
  243: "riscv64",
  258: "loong64",
};
const PE_MACHINES: Record<number, string> = {
  0x14c: "386",
  0x8664: "amd64",
  0x1c0: "arm",
  0x1c4: "arm",
  0xaa64: "arm64",
};
const MACHO_CPUS: Record<number, string> = { 7: "386", 0x01000007: "amd64", 12: "arm", 0x0100000c: "arm64" };

/** Reads fixed-width integers with one endianness; any read out of bounds throws a RangeError caught by `openExecutable`. */
class View {
  constructor(
    readonly b: Buffer,
    readonly le: boolean,
  ) {}
  u16(o: number): number {
    return this.le ? this.b.readUInt16LE(o) : this.b.readUInt16BE(o);
  }
  u32(o: number): number {
    return this.le ? this.b.readUInt32LE(o) : this.b.readUInt32BE(o);
  }
  u64(o: number): number {
    const v = this.le ? this.b.readBigUInt64LE(o) : this.b.readBigUInt64BE(o);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("64-bit value out of range");
    return Number(v);
  }
  word(o: number, bits: 32 | 64): number {
    return bits === 64 ? this.u64(o) : this.u32(o);
  }
  cstring(o: number, max: number): string {
    const end = Math.min(o + max, this.b.length);
    const nul = this.b.indexOf(0, o);
    return this.b.toString("latin1", o, nul === -1 || nul > end ? end : nul);
  }
}

/** The executable's headers, or undefined when the bytes are no ELF, PE or Mach-O file (or are malformed). */
export function openExecutable(bytes: Buffer): Executable | undefined {
  try {
    if (bytes.length >= 64 && bytes.readUInt32BE(0) === 0x7f454c46) return openElf(bytes);
    if (bytes.length >= 64 && bytes.readUInt16BE(0) === 0x4d5a) return openPe(bytes);
    if (bytes.length >= 32) {
      const magic = bytes.readUInt32LE(0);
      if (magic === 0xfeedface || magic === 0xfeedfacf) return openMachO(bytes, true, magic === 0xfeedfacf);
      const magicBe = bytes.readUInt32BE(0);
      if (magicBe === 0xfeedface || magicBe === 0xfeedfacf)
        return openMachO(bytes, false, magicBe === 0xfeedfacf);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function openElf(b: Buffer): Executable | undefined {
  const cls = b[4];
  const data = b[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  const bits = cls === 2 ? 64 : 32;
  const v = new View(b, data === 1);
  const machine = v.u16(18);
  const phoff = v.word(bits === 64 ? 32 : 28, bits);
  const shoff = v.word(bits === 64 ? 40 : 32, bits);
  const base = bits === 64 ? 52 : 40;
  const phentsize = v.u16(base + 2);
  const phnum = v.u16(base + 4);
  const shentsize = v.u16(base + 6);
  let shnum = v.u16(base + 8);
  let shstrndx = v.u16(base + 10);

  const segments: Segment[] = [];
  for (let i = 0; phoff > 0 && i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (v.u32(o) !== 1) continue; // PT_LOAD only: what the loader maps
    const flags = v.u32(bits === 64 ? o + 4 : o + 24);
    segments.push({
      offset: v.word(bits === 64 ? o + 8 : o + 4, bits),
      vaddr: v.word(bits === 64 ? o + 16 : o + 8, bits),
      filesz: v.word(bits === 64 ? o + 32 : o + 16, bits),
      writable: (flags & 2) !== 0,
      executable: (flags & 1) !== 0,
    });
  }

  const sections: Section[] = [];
  if (shoff > 0 && shoff + shentsize <= b.length) {
    // More than 0xff00 sections: the real count and string-table index live in section 0.
    if (shnum === 0) shnum = v.word(bits === 64 ? shoff + 32 : shoff + 20, bits);
    if (shstrndx === 0xffff) shstrndx = v.u32(shoff + (bits === 64 ? 40 : 24));
    if (shnum > MAX_SECTIONS) shnum = 0;
    const raw: { nameOff: number; type: number; addr: number; offset: number; size: number }[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      raw.push({
        nameOff: v.u32(o),
        type: v.u32(o + 4),
        addr: v.word(bits === 64 ? o + 16 : o + 12, bits),
        offset: v.word(bits === 64 ? o + 24 : o + 16, bits),
        size: v.word(bits === 64 ? o + 32 : o + 20, bits),
      });
    }
    const strtab = raw[shstrndx];
    for (const s of raw) {
      const name =
        strtab && s.nameOff < strtab.size
          ? v.cstring(strtab.offset + s.nameOff, strtab.size - s.nameOff)
          : "";
      sections.push({
        name,
        addr: s.addr,
        offset: s.offset,
        size: s.size,
        inFile: s.type !== 8 /* NOBITS */,
      });
    }
  }
  return {
    format: "elf",
    bits,
    littleEndian: v.le,
    arch: ELF_MACHINES[machine],
    sections,
    segments,
    bytes: b,
  };
}

function openPe(b: Buffer): Executable | undefined {
  const v = new View(b, true);
  const pe = v.u32(0x3c);
  if (v.u32(pe) !== 0x00004550) return undefined; // "PE\0\0"
  const machine = v.u16(pe + 4);
  const nsections = v.u16(pe + 6);
  const optSize = v.u16(pe + 20);
  const opt = pe + 24;
  const optMagic = v.u16(opt);
  if (optMagic !== 0x10b && optMagic !== 0x20b) return undefined;
  const bits = optMagic === 0x20b ? 64 : 32;
  const imageBase = bits === 64 ? v.u64(opt + 24) : v.u32(opt + 28);
  const sections: Section[] = [];
  const segments: Segment[] = [];
  for (let i = 0; i < nsections; i++) {
    const o = opt + optSize + i * 40;
    const virtualSize = v.u32(o + 8);
    const addr = imageBase + v.u32(o + 12);
    const rawSize = v.u32(o + 16);
    const offset = v.u32(o + 20);
    const characteristics = v.u32(o + 36);
    sections.push({ name: v.cstring(o, 8), addr, offset, size: rawSize, inFile: rawSize > 0 });
    // Go's own reader maps by raw size; bytes past the virtual size are padding either way.
    segments.push({
      vaddr: addr,
      offset,
      filesz: Math.min(rawSize, virtualSize || rawSize),
      writable: (characteristics & 0x80000000) !== 0,
      executable: (characteristics & 0x20000000) !== 0,
    });
  }
  return { format: "pe", bits, littleEndian: true, arch: PE_MACHINES[machine], sections, segments, bytes: b };
}

function openMachO(b: Buffer, le: boolean, is64: boolean): Executable | undefined {
  const v = new View(b, le);
  const bits = is64 ? 64 : 32;
  const cpu = v.u32(4);
  const ncmds = Math.min(v.u32(16), MAX_LOAD_COMMANDS);
  let o = is64 ? 32 : 28;
  const sections: Section[] = [];
  const segments: Segment[] = [];
  for (let i = 0; i < ncmds; i++) {
    const cmd = v.u32(o);
    const size = v.u32(o + 4);
    if (size < 8) return undefined;
    if (cmd === 0x19 || cmd === 0x1) {
      const w = (off: number) => v.word(off, bits);
      const step = is64 ? 8 : 4;
      const vmaddr = w(o + 24);
      const fileoff = w(o + 24 + 2 * step);
      const filesize = w(o + 24 + 3 * step);
      const initprot = v.u32(o + 24 + 4 * step + 4);
      const nsects = v.u32(o + 24 + 4 * step + 8);
      segments.push({
        vaddr: vmaddr,
        offset: fileoff,
        filesz: filesize,
        writable: (initprot & 2) !== 0,
        executable: (initprot & 4) !== 0,
      });
      const sectSize = is64 ? 80 : 68;
      for (let s = 0, so = o + (is64 ? 72 : 56); s < nsects; s++, so += sectSize) {
        const type = v.u32(so + 32 + 2 * step + 4 * 4) & 0xff;
        const zerofill = type === 1 || type === 0x0c || type === 0x12;
        sections.push({
          name: v.cstring(so, 16),
          segment: v.cstring(so + 16, 16),
          addr: w(so + 32),
          size: w(so + 32 + step),
          offset: v.u32(so + 32 + 2 * step),
          inFile: !zerofill,
        });
      }
    }
    o += size;
  }
  return { format: "macho", bits, littleEndian: le, arch: MACHO_CPUS[cpu], sections, segments, bytes: b };
}

/** A section's bytes as stored in the file, or undefined when absent, empty in the file or out of bounds. */
export function sectionBytes(exe: Executable, name: string, segment?: string): Buffer | undefined {
  const s = exe.sections.find((x) => x.name === name && (segment === undefined || x.segment === segment));
  if (!s || !s.inFile || s.offset + s.size > exe.bytes.length) return undefined;
  return exe.bytes.subarray(s.offset, s.offset + s.size);
}

/** Up to `length` bytes the loaded program would see at `addr` (fewer at a segment's end), or undefined when unmapped. */
export function readVirtual(exe: Executable, addr: number, length: number): Buffer | undefined {
  for (const seg of exe.segments) {
    if (seg.filesz === 0 || addr < seg.vaddr || addr >= seg.vaddr + seg.filesz) continue;
    const start = seg.offset + (addr - seg.vaddr);
    const end = Math.min(start + length, seg.offset + seg.filesz, exe.bytes.length);
    if (start >= end) return undefined;
    return exe.bytes.subarray(start, end);
  }
  return undefined;
}

/** Reads a pointer-sized unsigned integer; undefined when it does not fit a JS number. */
export function readPointer(
  b: Buffer,
  offset: number,
  size: 4 | 8,
  littleEndian: boolean,
): number | undefined {
  if (offset + size > b.length) return undefined;
  if (size === 4) return littleEndian ? b.readUInt32LE(offset) : b.readUInt32BE(offset);
  const v = littleEndian ? b.readBigUInt64LE(offset) : b.readBigUInt64BE(offset);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
}
