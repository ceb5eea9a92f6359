/**
 * A small ELF64 reader for BPF objects: sections, symbols and REL relocations, both byte orders.
 * Enough for build_scheduler's static checks without depending on the exact output format of
 * llvm-readelf across LLVM versions.
 */
export interface ElfSection {
  index: number;
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  shndx: number;
  type: number;
  bind: number;
}

export interface ElfRelocation {
  offset: number;
  symbol: ElfSymbol;
  type: number;
}

export const SHT_SYMTAB = 2;
export const SHT_REL = 9;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const EM_BPF = 247;

export class ElfFile {
  readonly sections: ElfSection[] = [];
  readonly symbols: ElfSymbol[] = [];
  readonly machine: number;
  private readonly view: DataView;
  private readonly little: boolean;

  constructor(private readonly data: Buffer) {
    if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
    if (data[4] !== 2) throw new Error('not a 64-bit ELF file');
    this.little = data[5] === 1;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.machine = this.u16(18);
    const shoff = this.u64(40);
    const shentsize = this.u16(58);
    const shnum = this.u16(60);
    const shstrndx = this.u16(62);
    const raw = [];
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      raw.push({
        nameOff: this.u32(at),
        type: this.u32(at + 4),
        offset: this.u64(at + 24),
        size: this.u64(at + 32),
        link: this.u32(at + 40),
        info: this.u32(at + 44),
        entsize: this.u64(at + 56),
      });
    }
    const names = raw[shstrndx];
    for (const [index, s] of raw.entries()) {
      this.sections.push({ index, name: this.cstr(names.offset + s.nameOff), type: s.type, offset: s.offset, size: s.size, link: s.link, info: s.info, entsize: s.entsize });
    }
    const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
    if (symtab) {
      const strtab = this.sections[symtab.link];
      for (let at = symtab.offset; at + 24 <= symtab.offset + symtab.size; at += 24) {
        const info = this.data[at + 4];
        this.symbols.push({
          name: this.cstr(strtab.offset + this.u32(at)),
          type: info & 0xf,
          bind: info >> 4,
          shndx: this.u16(at + 6),
          value: this.u64(at + 8),
          size: this.u64(at + 16),
        });
      }
    }
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  bytes(section: ElfSection): Buffer {
    return this.data.subarray(section.offset, section.offset + section.size);
  }

  /** Symbols defined in a section (e.g. the ops variable in .struct_ops.link). */
  symbolsIn(section: ElfSection, type?: number): ElfSymbol[] {
    return this.symbols.filter((s) => s.shndx === section.index && s.name && (type === undefined || s.type === type));
  }

  /** REL entries that apply to `target` (the section whose sh_info points at it). */
  relocationsFor(target: ElfSection): ElfRelocation[] {
    const rel = this.sections.find((s) => s.type === SHT_REL && s.info === target.index);
    if (!rel) return [];
    const out: ElfRelocation[] = [];
    for (let at = rel.offset; at + 16 <= rel.offset + rel.size; at += 16) {
      const info = this.u64(at + 8);
      out.push({ offset: this.u64(at), symbol: this.symbols[Math.floor(info / 2 ** 32)], type: info % 2 ** 32 });
    }
    return out;
  }

  private u16(at: number): number {
    return this.view.getUint16(at, this.little);
  }

  private u32(at: number): number {
    return this.view.getUint32(at, this.little);
  }

  private u64(at: number): number {
    return Number(this.view.getBigUint64(at, this.little));
  }

  private cstr(at: number): string {
    const end = this.data.indexOf(0, at);
    return this.data.toString('latin1', at, end < 0 ? this.data.length : end);
  }
}
