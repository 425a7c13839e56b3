/**
 * A minimal ELF file laid out the way Go 1.13-1.17 linkers laid out build
 * info (no such toolchain is installable here): one loadable read-write
 * segment holding a `.go.buildinfo` section whose 32-byte header carries
 * the pointer size, flags 0 (little endian, pointer format), then pointers
 * to two Go string headers `{data, len}` for the version and module text.
 */
export function legacyGoElf(goVersion: string, modinfo: string, bits: 32 | 64): Buffer {
  const p = bits / 8;
  const base = 0x400000;
  const ehsize = bits === 64 ? 64 : 52;
  const phentsize = bits === 64 ? 56 : 32;
  const shentsize = bits === 64 ? 64 : 40;
  const dataOff = 0x100;
  // .go.buildinfo: header (32), then the two string headers, then the string bytes.
  const header = Buffer.alloc(32);
  header.write("\xff Go buildinf:", 0, "latin1");
  header[14] = p;
  header[15] = 0;
  const strHeaders = dataOff + 32;
  const versionAt = strHeaders + 4 * p;
  const modAt = versionAt + Buffer.byteLength(goVersion);
  const word = (buf: Buffer, at: number, value: number) =>
    p === 8 ? buf.writeBigUInt64LE(BigInt(value), at) : buf.writeUInt32LE(value, at);
  word(header, 16, base + strHeaders);
  word(header, 16 + p, base + strHeaders + 2 * p);
  const heads = Buffer.alloc(4 * p);
  word(heads, 0, base + versionAt);
  word(heads, p, Buffer.byteLength(goVersion));
  word(heads, 2 * p, base + modAt);
  word(heads, 3 * p, Buffer.byteLength(modinfo));
  const data = Buffer.concat([header, heads, Buffer.from(goVersion), Buffer.from(modinfo)]);
  const shstrtab = Buffer.from("\0.go.buildinfo\0.shstrtab\0");
  const shstrOff = dataOff + data.length;
  const shoff = Math.ceil((shstrOff + shstrtab.length) / 8) * 8;
  const file = Buffer.alloc(shoff + 3 * shentsize);
  data.copy(file, dataOff);
  shstrtab.copy(file, shstrOff);
  // ELF header.
  file.writeUInt32BE(0x7f454c46, 0);
  file[4] = bits === 64 ? 2 : 1;
  file[5] = 1;
  file[6] = 1;
  file.writeUInt16LE(2, 16); // ET_EXEC
  file.writeUInt16LE(bits === 64 ? 62 : 3, 18);
  const w = (at: number, value: number) => word(file, at, value);
  w(bits === 64 ? 32 : 28, ehsize); // phoff
  w(bits === 64 ? 40 : 32, shoff);
  const hb = bits === 64 ? 52 : 40;
  file.writeUInt16LE(ehsize, hb);
  file.writeUInt16LE(phentsize, hb + 2);
  file.writeUInt16LE(1, hb + 4);
  file.writeUInt16LE(shentsize, hb + 6);
  file.writeUInt16LE(3, hb + 8);
  file.writeUInt16LE(2, hb + 10);
  // PT_LOAD, read-write, the whole file at `base`.
  const ph = ehsize;
  file.writeUInt32LE(1, ph);
  if (bits === 64) {
    file.writeUInt32LE(6, ph + 4);
    w(ph + 8, 0);
    w(ph + 16, base);
    w(ph + 24, base);
    w(ph + 32, file.length);
    w(ph + 40, file.length);
  } else {
    w(ph + 4, 0);
    w(ph + 8, base);
    w(ph + 12, base);
    w(ph + 16, file.length);
    w(ph + 20, file.length);
    file.writeUInt32LE(6, ph + 24);
  }
  // Section headers: null, .go.buildinfo (PROGBITS), .shstrtab (STRTAB).
  const section = (i: number, name: number, type: number, addr: number, offset: number, size: number) => {
    const o = shoff + i * shentsize;
    file.writeUInt32LE(name, o);
    file.writeUInt32LE(type, o + 4);
    if (bits === 64) {
      w(o + 16, addr);
      w(o + 24, offset);
      w(o + 32, size);
    } else {
      w(o + 12, addr);
      w(o + 16, offset);
      w(o + 20, size);
    }
  };
  section(1, 1, 1, base + dataOff, dataOff, data.length);
  section(2, 15, 3, 0, shstrOff, shstrtab.length);
  return file;
}
